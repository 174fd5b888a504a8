import { isAbsolute, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { OptionsTree } from "./option.js";
import type { IfProp, MergeProp, OrderProp, OverrideProp } from "./props.js";
import type { OptionType } from "./types.js";

/** Arguments a function module receives. */
export interface ModuleArgs {
  /** The final, lazily evaluated config (the fixed point). */
  // biome-ignore lint/suspicious/noExplicitAny: the config shape is only known to the caller (the public contract says any)
  config: any;
  /** The options tree of this evaluation. */
  // biome-ignore lint/suspicious/noExplicitAny: the options tree shape is only known to the caller
  options: any;
  /** In a submodule: its attribute name (the `<name>` of `attrsOf submodule`). */
  name?: string;
  /** The module-system helpers (`mkIf`, `types`, ...). */
  lib?: unknown;
  /** The submodule type of this evaluation's modules (definitions included), e.g. for variants. */
  moduleType?: OptionType;
  /** This evaluation again with more modules; its `type` declares an option of that kind. */
  extendModules?: (more?: {
    modules?: Module[];
    specialArgs?: Record<string, unknown>;
    prefix?: string[];
  }) => { type: OptionType; config: unknown };
  [specialArg: string]: unknown;
}

/** A module as an object. Keys other than the reserved ones are config (the Nix shorthand). */
export interface ModuleObject {
  /**
   * Deduplication key; modules with equal keys are imported once (a number is its string).
   * Without one, a module with its own `file` is imported once per identity and any other
   * module counts wherever it is imported (as Nix keys anonymous modules by position).
   */
  key?: string | number;
  /** The file this module lives in, used in every message about its declarations and definitions. */
  file?: string;
  imports?: Module[];
  /** Modules to leave out, by module value, by key, or by file (also relative to `specialArgs.modulesPath`). */
  disabledModules?: Array<string | number | Module>;
  options?: OptionsTree;
  config?: unknown;
  freeformType?: OptionType;
  /**
   * The class of configuration this module is for (e.g. `"nixos"`); importing it into an
   * evaluation of another class is an error. Absent: any class.
   */
  _class?: string;
  [shorthand: string]: unknown;
}

/**
 * A module that is a property around config — `mkIf(cond, { … })`, `mkForce({ … })`,
 * `mkMerge([…])` — is config, the property pushed down onto each definition (as in NixOS).
 */
export type ConfigProperty = IfProp | MergeProp | OverrideProp | OrderProp;

/**
 * A module: an object, a config property, or a function of {@link ModuleArgs} returning one.
 * A function module is given the arguments it reads: `config`, `options`, `lib`, `name` (in a
 * submodule), `specialArgs`, then `_module.args`; reading one nobody provides is a
 * `MISSING_ARGUMENT` error (test for an optional one with `"x" in args`).
 */
export type Module =
  | ModuleObject
  | ConfigProperty
  | ((args: ModuleArgs) => ModuleObject | ConfigProperty);

export const RESERVED_KEYS = new Set([
  "key",
  "file",
  "imports",
  "disabledModules",
  "options",
  "config",
  "freeformType",
  "_type",
  "_class",
]);

/** Turns a path or `file:` URL (e.g. `import.meta.url`) into a path relative to the cwd when inside it. */
export function displayFile(file: string | URL): string {
  let p: string;
  if (file instanceof URL) p = fileURLToPath(file);
  else if (file.startsWith("file:")) p = fileURLToPath(file);
  else p = file;
  if (isAbsolute(p)) {
    const rel = relative(process.cwd(), p);
    if (rel && !rel.startsWith("..") && !isAbsolute(rel)) return rel;
  }
  return p;
}

function withFile(obj: ModuleObject, file: string): ModuleObject {
  if (typeof obj !== "object" || obj === null || obj.file !== undefined) return obj;
  const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(obj)) as ModuleObject;
  copy.file = file;
  return copy;
}

/**
 * Attaches a file to a module so messages name it; accepts `import.meta.url`.
 * For a function module the object it returns gets the file.
 */
export function defineModule<M extends Module>(file: string | URL, module: M): M {
  const f = displayFile(file);
  if (typeof module === "function") {
    const fn = module as (args: ModuleArgs) => ModuleObject;
    const wrapped = (args: ModuleArgs) => withFile(fn(args), f);
    Object.defineProperty(wrapped, "file", { value: f, enumerable: false });
    Object.defineProperty(wrapped, "name", { value: fn.name || "module" });
    return wrapped as unknown as M;
  }
  return withFile(module as ModuleObject, f) as M;
}
