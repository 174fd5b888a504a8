/**
 * Module collection: loading modules (calling function modules), following `imports`,
 * de-duplicating, `disabledModules`, and the order definitions are merged in.
 *
 * Keys, as in Nix: a module with a `key` counts once per key; a module with its own `file`
 * (`defineModule`) stands for a module file, which Nix imports by path, so it counts once per
 * identity; any other module is anonymous and counts at every position it is imported from.
 */
import { HOLE } from "./args.js";
import { kindOf, ModuleError, showValue } from "./errors.js";
import { isAttrs, type RawDef, THUNKS } from "./merge.js";
import { type ModuleArgs, RESERVED_KEYS } from "./module.js";
import { isOptionDeclaration } from "./option.js";
import * as props from "./props.js";
import { isOptionType, type OptionType } from "./types.js";

/** A module to load, with the file to name when it has none of its own. */
export interface ModuleSpec {
  module: unknown;
  file?: string | undefined;
}

/** A function module whose first call read config or a module argument: it is called again. */
export interface Recall {
  fn: (a: ModuleArgs) => unknown;
  /** The first call threw (it used a placeholder in a way that fails). */
  declsFailed: boolean;
  /** The imports of the first call: the second call must import the same modules. */
  imports: unknown[];
}

/** A loaded module. */
export interface Loaded {
  /** The module value as given (object, function or property), for `disabledModules`. */
  source: object;
  key: string | undefined;
  /** The module carries its own `file`: it stands for a module file. */
  ownFile: boolean;
  file: string;
  imports: Loaded[];
  disabled: unknown[];
  options?: Record<string, unknown>;
  config?: RawDef;
  freeformType?: OptionType;
  recall?: Recall;
}

/** What collection needs from the evaluation. */
export interface CollectHost {
  tainted: boolean;
  /** The class modules must have when they declare one. */
  readonly moduleClass: string | undefined;
  /** The arguments object for a call of the function module in `file`. */
  argsFor(file: string): ModuleArgs;
}

function isModuleLike(m: unknown): m is object {
  return typeof m === "function" || (typeof m === "object" && m !== null && !Array.isArray(m));
}

function keyOf(m: object): string | undefined {
  const k = (m as { key?: unknown }).key;
  if (typeof k === "string") return k;
  return typeof k === "number" ? String(k) : undefined;
}

function where(from: string | undefined): string {
  return from ? `The imports of ${from} contain` : "The module list contains";
}

/** Rejects what cannot be a module, with the reason Nix gives. */
function checkLoadable(m: unknown, from: string | undefined): void {
  if (m === HOLE) {
    throw new ModuleError(
      "INFINITE_RECURSION",
      `The imports of ${from ?? "a module"} depend on config or on an argument from \`_module.args\`, which exist only once every module is imported (Nix: infinite recursion). Import modules unconditionally and put the condition in their config (\`mkIf\`).`,
      { files: from ? [from] : [] },
    );
  }
  if (props.isProperty(m)) return;
  const tag = isModuleLike(m) ? (m as { _type?: unknown })._type : undefined;
  if (!isModuleLike(m) || isOptionType(m) || isOptionDeclaration(m) || typeof tag === "string") {
    const kind = typeof tag === "string" ? `a value of type "${tag}"` : kindOf(m);
    const hint =
      tag === "configuration"
        ? " An evaluated configuration is not a module: import the modules it was made of."
        : "";
    throw new ModuleError(
      "INVALID_MODULE",
      `${where(from)} ${showValue(m)} (${kind}), which is not a module (an object or a function returning one).${hint}`,
      { files: from ? [from] : [] },
    );
  }
}

/** The config definition of a module object: its `config`, or (shorthand) its other keys. */
export function configDefOf(o: Record<string, unknown>, file: string): RawDef | undefined {
  if (Object.hasOwn(o, "options") || Object.hasOwn(o, "config")) {
    const d = Object.getOwnPropertyDescriptor(o, "config");
    if (!d) return undefined;
    return d.get ? { file, get: () => (d.get as () => unknown).call(o) } : { file, value: d.value };
  }
  const rest: Record<PropertyKey, PropertyDescriptor> = {};
  let any = false;
  for (const k of Object.keys(o)) {
    if (RESERVED_KEYS.has(k)) continue;
    rest[k] = Object.getOwnPropertyDescriptor(o, k) as PropertyDescriptor;
    any = true;
  }
  if (!any) return undefined;
  // A lazy config object (another evaluation's config used as a module): its getters are shared
  // by every such object and find their values through its thunks, which the copy must keep.
  const thunks = Object.getOwnPropertyDescriptor(o, THUNKS);
  if (thunks) rest[THUNKS] = thunks;
  return { file, value: Object.defineProperties({}, rest) };
}

function invalid(file: string, message: string): ModuleError {
  return new ModuleError("INVALID_MODULE", message, { files: [file] });
}

/** Checks the reserved attributes of a module object and copies them onto `loaded`. */
function readStructure(loaded: Loaded, o: Record<string, unknown>): void {
  const file = loaded.file;
  if (Object.hasOwn(o, "options") || Object.hasOwn(o, "config")) {
    for (const k of Object.keys(o)) {
      if (!RESERVED_KEYS.has(k)) {
        throw invalid(
          file,
          `The module in ${file} has an unsupported attribute \`${k}\`: a module with \`options\` or \`config\` may not define config at its top level. Move \`${k}\` into \`config\`.`,
        );
      }
    }
    if (o.options !== undefined) {
      if (!isAttrs(o.options)) {
        throw invalid(
          file,
          `The \`options\` of the module in ${file} must be an object of option declarations, got ${showValue(o.options)}.`,
        );
      }
      loaded.options = o.options;
    }
  }
  if (o.freeformType !== undefined) {
    if (!isOptionType(o.freeformType))
      throw invalid(file, `The \`freeformType\` of the module in ${file} is not an option type.`);
    loaded.freeformType = o.freeformType;
  }
  if (o.disabledModules !== undefined) {
    if (!Array.isArray(o.disabledModules))
      throw invalid(file, `The \`disabledModules\` of the module in ${file} must be a list.`);
    loaded.disabled = o.disabledModules;
  }
}

/** Rejects a module whose `_class` is not the evaluation's class. */
function checkClass(file: string, o: Record<string, unknown>, expected: string | undefined): void {
  const declared = o._class;
  if (declared === undefined) return;
  if (typeof declared !== "string")
    throw invalid(
      file,
      `The \`_class\` of the module in ${file} must be a string, got ${showValue(declared)}.`,
    );
  if (expected !== undefined && declared !== expected) {
    throw invalid(
      file,
      `The module ${file} was imported into ${expected} instead of ${declared}. It declares \`_class: "${declared}"\`, and this evaluation expects class "${expected}": import it into a ${declared} evaluation, or leave it out.`,
    );
  }
}

/** The `imports` list of a module object (checked). */
export function importsOf(o: Record<string, unknown>, file: string): unknown[] {
  if (o.imports === undefined) return [];
  if (!Array.isArray(o.imports)) {
    throw invalid(
      file,
      `The \`imports\` of the module in ${file} must be a list of modules, got ${showValue(o.imports)}.`,
    );
  }
  return o.imports;
}

/** A module value as an object: a property (`mkIf c {…}`, `mkForce {…}`) is config, pushed down later. */
export function asModuleObject(v: unknown): unknown {
  return props.isProperty(v) ? { config: v } : v;
}

class Collector {
  /** Made when a module has a key (most evaluations, each submodule instance, have none). */
  byKey: Map<string, Loaded> | undefined;
  byIdentity: Map<object, Loaded> | undefined;
  readonly all: Loaded[] = [];
  anyDisabled = false;
  readonly #ancestors: object[] = [];
  constructor(readonly host: CollectHost) {}

  load(m: unknown, fallbackFile: string, from: string | undefined): Loaded | undefined {
    checkLoadable(m, from);
    const mod = m as object;
    const key = keyOf(mod);
    const ownFile = typeof (mod as { file?: unknown }).file === "string";
    if (key !== undefined) {
      const seen = this.byKey?.get(key);
      if (seen) return seen;
    } else if (ownFile) {
      const seen = this.byIdentity?.get(mod);
      if (seen) return seen;
    } else if (this.#ancestors.includes(mod)) return undefined; // an import cycle
    const file = ownFile ? ((mod as { file: string }).file as string) : fallbackFile;
    const loaded: Loaded = { source: mod, key, ownFile, file, imports: [], disabled: [] };
    if (key !== undefined) {
      if (!this.byKey) this.byKey = new Map();
      this.byKey.set(key, loaded);
    } else if (ownFile) {
      if (!this.byIdentity) this.byIdentity = new Map();
      this.byIdentity.set(mod, loaded);
    }
    this.all.push(loaded);
    this.#ancestors.push(mod);
    try {
      this.fill(loaded, mod);
    } finally {
      this.#ancestors.pop();
    }
    return loaded;
  }

  fill(loaded: Loaded, m: object): void {
    let obj: unknown = asModuleObject(m);
    if (typeof obj === "function") obj = this.call(loaded, obj as (a: ModuleArgs) => unknown);
    const o = obj as Record<string, unknown>;
    const retFile = o.file;
    if (typeof retFile === "string") loaded.file = retFile;
    readStructure(loaded, o);
    checkClass(loaded.file, o, this.host.moduleClass);
    if (loaded.disabled.length > 0) this.anyDisabled = true;
    if (!loaded.recall) {
      const def = configDefOf(o, loaded.file);
      if (def) loaded.config = def;
    }
    const imports = importsOf(o, loaded.file);
    if (loaded.recall) loaded.recall.imports = imports;
    for (const i of imports) {
      const child = this.load(i, loaded.file, loaded.file);
      if (child) loaded.imports.push(child);
    }
  }

  /** Calls a function module; a call that read config is recorded to be made again later. */
  call(loaded: Loaded, fn: (a: ModuleArgs) => unknown): unknown {
    const host = this.host;
    const prevTainted = host.tainted;
    host.tainted = false;
    try {
      const obj = asModuleObject(fn(host.argsFor(loaded.file)));
      const ok = typeof obj === "object" && obj !== null && !Array.isArray(obj);
      if (host.tainted) {
        loaded.recall = { fn, declsFailed: !ok, imports: [] };
        return ok ? obj : {};
      }
      if (!ok) {
        throw invalid(
          loaded.file,
          `The module function in ${loaded.file} returned ${showValue(obj)} (${kindOf(obj)}), not a module object.`,
        );
      }
      return obj;
    } catch (e) {
      // It used a placeholder of config in a way that failed; its real call comes later and
      // may then only define config.
      if (host.tainted) {
        loaded.recall = { fn, declsFailed: true, imports: [] };
        return {};
      }
      if (e instanceof ModuleError) throw e;
      throw new ModuleError(
        "INVALID_MODULE",
        `The module function in ${loaded.file} threw: ${e instanceof Error ? e.message : String(e)}`,
        { files: [loaded.file], cause: e },
      );
    } finally {
      host.tainted = prevTainted;
    }
  }

  /** Whether a loaded module is disabled by some module's `disabledModules`. */
  disabledTest(modulesPath: string | undefined): (l: Loaded) => boolean {
    const keys = new Set<string>();
    const sources = new Set<unknown>();
    for (const l of this.all) {
      for (const d of l.disabled) {
        if (typeof d === "string" || typeof d === "number") {
          keys.add(String(d));
          if (modulesPath !== undefined) keys.add(`${modulesPath}/${d}`);
        } else if (isModuleLike(d)) {
          const k = keyOf(d);
          if (k !== undefined) keys.add(k);
          else sources.add(d);
        } else {
          throw invalid(
            l.file,
            `The \`disabledModules\` of the module in ${l.file} contain ${showValue(d)}, which is neither a key nor a module.`,
          );
        }
      }
    }
    return (l) =>
      (l.key !== undefined && keys.has(l.key)) ||
      sources.has(l.source) ||
      (l.ownFile && keys.has(l.file));
  }
}

/**
 * Loads `specs` and everything they import, drops disabled modules (and what only they import),
 * and returns the modules in the order their definitions merge: as in NixOS, later modules'
 * definitions come first, imported modules before their importers.
 */
export function collect(
  host: CollectHost,
  specs: ModuleSpec[],
  modulesPath: string | undefined,
): Loaded[] {
  const c = new Collector(host);
  const top: Loaded[] = [];
  specs.forEach((s, i) => {
    const l = c.load(s.module, s.file ?? `<inline module #${i + 1}>`, undefined);
    if (l) top.push(l);
  });
  if (!c.anyDisabled && top.length <= 16 && top.every((l) => l.imports.length === 0)) {
    // A few modules importing nothing (each submodule instance): the order below, without the
    // walk's queue and set.
    const order: Loaded[] = [];
    for (const l of top) if (!order.includes(l)) order.push(l);
    return order.reverse();
  }
  const isDisabled = c.anyDisabled ? c.disabledTest(modulesPath) : () => false;
  const order: Loaded[] = [];
  const seen = new Set<Loaded>();
  const queue = top.filter((l) => !isDisabled(l));
  for (let i = 0; i < queue.length; i++) {
    const l = queue[i] as Loaded;
    if (seen.has(l)) continue;
    seen.add(l);
    order.push(l);
    for (const child of l.imports) if (!seen.has(child) && !isDisabled(child)) queue.push(child);
  }
  return order.reverse();
}
