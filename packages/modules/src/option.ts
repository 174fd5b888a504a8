import type { OptionType } from "./types.js";

export const OPTION_BRAND: unique symbol = Symbol.for("nix2dream.modules.option");

/**
 * What a definition of a `T` may look like: objects (submodules) may leave out keys, which
 * their own defaults or other definitions fill in.
 */
export type DefinitionOf<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer E)[]
    ? DefinitionOf<E>[]
    : T extends object
      ? { [K in keyof T]?: DefinitionOf<T[K]> }
      : T;

/** What `mkOption` accepts. `T` is inferred from `type`; `R` from `apply` (defaults to `T`). */
export interface MkOptionArgs<T, R = T> {
  type?: OptionType<T>;
  /** A definition at priority 1500 (`mkOptionDefault`); for submodules it may be partial. */
  default?: NoInfer<DefinitionOf<T>>;
  /** Shown in docs instead of `default` (for defaults computed from other options). */
  defaultText?: string;
  example?: unknown;
  description?: string;
  /** Only one definition allowed; the `default` counts as one. */
  readOnly?: boolean;
  /** Transforms the merged value; what `config` then shows. */
  apply?: (value: T) => R;
  /** Hidden from user-facing docs. */
  internal?: boolean;
  /** `false` hides the option and its sub-options from docs; `"shallow"` hides only sub-options. */
  visible?: boolean | "shallow";
}

/** An option declaration, as returned by {@link mkOption}; `T` is the type of its config value. */
export interface OptionDeclaration<T = unknown> {
  readonly _type: "option";
  readonly [OPTION_BRAND]: true;
  readonly type?: OptionType<unknown>;
  readonly default?: unknown;
  readonly defaultText?: string;
  readonly example?: unknown;
  readonly description?: string;
  readonly readOnly?: boolean;
  readonly apply?: (value: never) => unknown;
  readonly internal?: boolean;
  readonly visible?: boolean | "shallow";
  /** Phantom field carrying the value type; never present at run time. */
  readonly __value?: T;
}

/** A (nested) set of option declarations, as in a module's `options`. */
export interface OptionsTree {
  // biome-ignore lint/suspicious/noExplicitAny: declarations of any value type nest here
  [name: string]: OptionDeclaration<any> | OptionsTree;
}

/** The config type of an options tree. */
export type InferOptions<O> = {
  -readonly [K in keyof O]: O[K] extends OptionDeclaration<infer T>
    ? T
    : O[K] extends object
      ? InferOptions<O[K]>
      : unknown;
};

// Global (Symbol.for), as the brand: a plugin may bring its own copy of this package, and the
// engine must read the declarations that copy's mkOption made.
const SOURCE: unique symbol = Symbol.for("nix2dream.modules.optionSource");

/**
 * What `mkOption` returns: the caller's object behind getters, so no field is read (no getter of
 * the caller's runs) until something uses it. The engine reads a declaration's fields only when
 * the option is used, as Nix does.
 */
class OptionDecl {
  readonly [SOURCE]: MkOptionArgs<unknown>;
  constructor(source: MkOptionArgs<unknown>) {
    this[SOURCE] = source;
  }
  get type(): OptionType<unknown> | undefined {
    return this[SOURCE].type;
  }
  get default(): unknown {
    return this[SOURCE].default;
  }
  get defaultText(): string | undefined {
    return this[SOURCE].defaultText;
  }
  get example(): unknown {
    return this[SOURCE].example;
  }
  get description(): string | undefined {
    return this[SOURCE].description;
  }
  get readOnly(): boolean | undefined {
    return this[SOURCE].readOnly;
  }
  get apply(): ((value: never) => unknown) | undefined {
    return this[SOURCE].apply as ((value: never) => unknown) | undefined;
  }
  get internal(): boolean | undefined {
    return this[SOURCE].internal;
  }
  get visible(): boolean | "shallow" | undefined {
    return this[SOURCE].visible;
  }
}
Object.defineProperties(OptionDecl.prototype, {
  _type: { value: "option" },
  [OPTION_BRAND]: { value: true },
});

/**
 * Declares an option. The config type is inferred from `type` (and `apply`):
 * `mkOption({ type: types.port, default: 80 })` is an `OptionDeclaration<number>`. Fields may be
 * getters (`get default() { return config.x }`, `get type() { … }`): each is read only when the
 * option is used.
 */
export function mkOption<T, R>(
  decl: MkOptionArgs<T, R> & { apply: (value: T) => R },
): OptionDeclaration<R>;
export function mkOption<T = unknown>(
  decl?: Omit<MkOptionArgs<T, T>, "apply">,
): OptionDeclaration<T>;
export function mkOption<T, R>(decl: MkOptionArgs<T, R> = {}): OptionDeclaration<R> {
  return new OptionDecl(decl as MkOptionArgs<unknown>) as unknown as OptionDeclaration<R>;
}

/** Whether the declaration sets `field` at all (`default: undefined` counts), without reading it. */
export function declares(decl: OptionDeclaration, field: keyof MkOptionArgs<unknown>): boolean {
  const source = (decl as unknown as OptionDecl)[SOURCE];
  // A declaration from an older copy of this package has its fields as its own.
  return Object.hasOwn(source ?? decl, field);
}

/**
 * The caller's own property for `field` (its descriptor, so a getter is not run), as `mkOption`
 * was given it; undefined when the declaration does not set it.
 */
export function declaredField(
  decl: OptionDeclaration,
  field: keyof MkOptionArgs<unknown>,
): PropertyDescriptor | undefined {
  const source = (decl as unknown as OptionDecl)[SOURCE];
  return Object.getOwnPropertyDescriptor(source ?? decl, field);
}

export function isOptionDeclaration(v: unknown): v is OptionDeclaration {
  return typeof v === "object" && v !== null && OPTION_BRAND in v;
}

/** Identity helper that keeps an options tree's literal type for {@link InferOptions}. */
export function defineOptions<const O extends OptionsTree>(options: O): O {
  return options;
}
