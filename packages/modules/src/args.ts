/**
 * The arguments of function modules: `config`/`options` proxies, and the arguments object itself,
 * which knows which names exist. Nix passes a module only the arguments it names and fails on a
 * name nobody provides; JavaScript cannot see the names a function destructures, so the arguments
 * object is a proxy that answers each name when it is read and fails on an unknown one.
 */
import { ModuleError } from "./errors.js";

/** What reads return while modules are being collected (before config exists): absorbs any use. */
export const HOLE: unknown = new Proxy(() => {}, {
  get(_t, p) {
    if (p === Symbol.toPrimitive) return (hint: string) => (hint === "number" ? 0 : "");
    if (p === Symbol.iterator) return function* () {};
    if (p === "then") return undefined;
    return HOLE;
  },
  apply: () => HOLE,
  construct: () => HOLE as object,
  has: () => false,
});

/** Answered by {@link ArgsHost.moduleArg} for a name no module defines in `_module.args`. */
export const NOT_PROVIDED: unique symbol = Symbol("nix2dream.modules.notProvided");

/** The evaluation behind an arguments object (see `Evaluation` in eval.ts). */
export interface ArgsHost {
  /** False while modules are collected: config does not exist yet. */
  readonly ready: boolean;
  /** Set when a module read something that needs config; it is then called again. */
  tainted: boolean;
  /** The value of `_module.args.<name>`, or {@link NOT_PROVIDED}. */
  moduleArg(name: string): unknown;
  /** The names defined in `_module.args` so far. */
  moduleArgNames(): string[];
}

class ArgsTarget {
  constructor(
    readonly host: ArgsHost,
    /** config, options, lib, specialArgs: the arguments every module gets. */
    readonly base: Record<string, unknown>,
    /** The module's file, for the message when it asks for an argument nobody provides. */
    readonly file: string,
  ) {}
}

/**
 * Where a base arguments object keeps the arguments computed on first read (`moduleType`,
 * `extendModules`): they are arguments like its own keys, listed after them, but not own keys of
 * it, since defining getters on an object made per evaluation is slow.
 */
export const LAZY_ARGS: unique symbol = Symbol("nix2dream.modules.lazyArgs");

/** Arguments computed on first read (see {@link LAZY_ARGS}). */
export interface LazyArgs {
  readonly names: readonly string[];
  get(name: string): unknown;
}

function lazyArgsOf(base: Record<string, unknown>): LazyArgs | undefined {
  return (base as { [LAZY_ARGS]?: LazyArgs })[LAZY_ARGS];
}

function isLazyArg(base: Record<string, unknown>, name: string): boolean {
  return lazyArgsOf(base)?.names.includes(name) === true;
}

/** The names of the base arguments, in order: own keys, then the lazy ones not among them. */
function baseNames(base: Record<string, unknown>): string[] {
  const keys = Object.getOwnPropertyNames(base);
  for (const n of lazyArgsOf(base)?.names ?? []) if (!keys.includes(n)) keys.push(n);
  return keys;
}

// Names that tools probe on any object (promise resolution, JSON): never module arguments.
const PROBES = new Set(["then", "toJSON"]);

function argOf(t: ArgsTarget, name: string): unknown {
  const host = t.host;
  if (!host.ready) {
    // Possibly defined in `_module.args`, which is config: call the module again later.
    host.tainted = true;
    return HOLE;
  }
  const v = host.moduleArg(name);
  if (v === NOT_PROVIDED) throw missingArgument(t, name);
  return v;
}

function missingArgument(t: ArgsTarget, name: string): ModuleError {
  const given = baseNames(t.base).concat(t.host.moduleArgNames());
  return new ModuleError(
    "MISSING_ARGUMENT",
    `The module in ${t.file} asks for the argument \`${name}\`, which nothing provides: the arguments are ${given
      .map((n) => `\`${n}\``)
      .join(", ")}. Pass it in \`specialArgs\`, or define \`_module.args.${name}\` in a module.`,
    { files: [t.file] },
  );
}

const HANDLER: ProxyHandler<ArgsTarget> = {
  get(t, p) {
    const base = t.base;
    if (typeof p !== "symbol" && isLazyArg(base, p)) return lazyArgsOf(base)?.get(p);
    if (typeof p === "symbol" || p in base) return base[p as string];
    if (PROBES.has(p)) return undefined;
    return argOf(t, p);
  },
  has(t, p) {
    if (typeof p === "symbol" || p in t.base || isLazyArg(t.base, p)) return true;
    if (!t.host.ready) {
      t.host.tainted = true;
      return false;
    }
    return t.host.moduleArg(p) !== NOT_PROVIDED;
  },
  ownKeys(t) {
    const keys: (string | symbol)[] = baseNames(t.base);
    for (const k of Object.getOwnPropertySymbols(t.base)) if (k !== LAZY_ARGS) keys.push(k);
    if (t.host.ready) for (const n of t.host.moduleArgNames()) if (!keys.includes(n)) keys.push(n);
    return keys;
  },
  getOwnPropertyDescriptor(t, p) {
    if (typeof p === "symbol") return undefined;
    if (
      Object.hasOwn(t.base, p) ||
      isLazyArg(t.base, p) ||
      (t.host.ready && t.host.moduleArgNames().includes(p))
    ) {
      return {
        value: HANDLER.get?.(t, p, t),
        enumerable: true,
        writable: true,
        configurable: true,
      };
    }
    return undefined;
  },
};

/**
 * The arguments object a function module is called with: the `base` arguments, then
 * `_module.args`; an unknown name read before config exists marks the module for a second call,
 * read after it is a `MISSING_ARGUMENT` error naming the module's file.
 */
export function moduleArgs(
  host: ArgsHost,
  base: Record<string, unknown>,
  file: string,
): Record<string, unknown> {
  return new Proxy(new ArgsTarget(host, base, file), HANDLER) as unknown as Record<string, unknown>;
}
