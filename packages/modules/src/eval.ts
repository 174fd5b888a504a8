/**
 * `evalModules`: one evaluation — its module arguments, the option tree built from the collected
 * modules, the definitions assigned to it (defs.ts), and the `_module` options.
 */
import {
  type ArgsHost,
  HOLE as HOLE_OF_CONFIG,
  LAZY_ARGS,
  type LazyArgs,
  moduleArgs,
  NOT_PROVIDED,
} from "./args.js";
import { asModuleObject, collect, configDefOf, type ModuleSpec } from "./collect.js";
import {
  assignDefs,
  checkUndeclared,
  forceStructure,
  freeformAfterDefinitions,
  mergeFreeformTypes,
  moduleArgDefs,
  recallAll,
} from "./defs.js";
import { ModuleError } from "./errors.js";
import { isAttrs, isPlainData, mergeDefinitions, type RawDef, type Thunk } from "./merge.js";
import type { Module, ModuleArgs } from "./module.js";
import {
  buildConfig,
  buildNs,
  childOf,
  instantiateNs,
  type NodeHost,
  type NsNode,
  type NsPlan,
  OptionInfo,
  type OptNode,
  optionsOf,
  planNs,
} from "./nodes.js";
import { mkOption } from "./option.js";
import * as props from "./props.js";
import {
  type Definition,
  type OptionType,
  type SubmoduleInstance,
  type SubmoduleModule,
  types,
} from "./types.js";

export { ALIAS, REMOVED } from "./decls.js";
export { OptionInfo };

/** Arguments of {@link evalModules}. */
export interface EvalModulesArgs {
  modules: Module[];
  /**
   * Extra arguments passed to every function module (and not overridable by config). A string
   * `modulesPath` also resolves relative `disabledModules` entries (`"x.ts"` is also `modulesPath/x.ts`).
   */
  specialArgs?: Record<string, unknown>;
  /** Option path prefix of this evaluation, used in messages. */
  prefix?: string[];
  /**
   * The class of configuration these modules make (e.g. `"nixos"`): a module declaring another
   * `_class` is rejected, naming the module and both classes. Without one, any class is accepted.
   */
  class?: string;
}

let libCache: Record<string, unknown> | undefined;
function lib(): Record<string, unknown> {
  if (!libCache) {
    libCache = {
      mkIf: props.mkIf,
      mkMerge: props.mkMerge,
      mkOverride: props.mkOverride,
      mkDefault: props.mkDefault,
      mkForce: props.mkForce,
      mkOptionDefault: props.mkOptionDefault,
      mkOrder: props.mkOrder,
      mkBefore: props.mkBefore,
      mkAfter: props.mkAfter,
      mkOption,
      types,
    };
  }
  return libCache;
}

const INTERNAL_FILE = "@nix2dream/modules";
let internalCache: Record<string, unknown> | undefined;
/** The `_module` options every evaluation has (built on demand, see `Evaluation.internalNs`). */
function internalOptions(): Record<string, unknown> {
  internalCache ??= {
    _module: {
      args: mkOption({
        type: types.lazyAttrsOf(types.raw),
        default: {},
        internal: true,
        description: "Arguments passed to every function module, next to `specialArgs`.",
      }),
      check: mkOption({
        type: types.bool,
        default: true,
        internal: true,
        description: "Whether a definition of an undeclared option is an error.",
      }),
    },
  };
  return internalCache;
}

interface ProxyTarget {
  ev: Evaluation;
  what: "config" | "options";
}

/** One handler for every evaluation's `config`/`options` arguments (no closures per evaluation). */
const CONFIG_HANDLER: ProxyHandler<ProxyTarget> = {
  get(t, p) {
    const ev = t.ev;
    if (!ev.ready) {
      if (typeof p === "symbol" || p === "then" || p === "toJSON") return undefined;
      // Read at call time, while collecting: answer with a placeholder and call the module
      // again once config exists (see `recallAll`).
      ev.tainted = true;
      return HOLE_OF_CONFIG;
    }
    return Reflect.get(ev.target(t.what), p);
  },
  has(t, p) {
    if (!t.ev.ready) {
      t.ev.tainted = true;
      return false;
    }
    return Reflect.has(t.ev.target(t.what), p);
  },
  ownKeys(t) {
    if (!t.ev.ready) {
      t.ev.tainted = true;
      return [];
    }
    return Reflect.ownKeys(t.ev.target(t.what));
  },
  getOwnPropertyDescriptor(t, p) {
    if (!t.ev.ready) {
      t.ev.tainted = true;
      return undefined;
    }
    const d = Reflect.getOwnPropertyDescriptor(t.ev.target(t.what), p);
    if (d) d.configurable = true;
    return d;
  },
};

/** The `moduleType` and `extendModules` arguments, made on first read of either. */
class ExtensionArgs implements LazyArgs {
  #made: ReturnType<typeof extensionArgs> | undefined;
  constructor(
    /** The modules, or how to list them (an instance of a template lists them only if asked). */
    readonly specs: ModuleSpec[] | (() => ModuleSpec[]),
    readonly specialArgs: Record<string, unknown>,
    readonly prefix: string[],
    readonly moduleClass: string | undefined,
  ) {}
  get names(): readonly string[] {
    return EXTENSION_NAMES;
  }
  get(name: string): unknown {
    const s = this.specs;
    this.#made ??= extensionArgs(
      typeof s === "function" ? s() : s,
      this.specialArgs,
      this.prefix,
      this.moduleClass,
    );
    return name === "moduleType" ? this.#made.moduleType() : this.#made.extendModules;
  }
}
const EXTENSION_NAMES = ["moduleType", "extendModules"];

/** One evaluation of a module list (the top level, or one submodule instance). */
export class Evaluation implements ArgsHost, NodeHost {
  readonly prefix: string[];
  ready = false;
  defsComplete = false;
  tainted = false;
  root!: NsNode;
  freeform: OptionType | undefined;
  /** Definitions of undeclared options, for the freeform type (created on first use). */
  unmatched: { rel: string[]; def: RawDef }[] | undefined;
  freeformValue: Thunk<unknown> | undefined;
  /** Definitions of undeclared options without a freeform type: an error unless `_module.check` is off. */
  undeclared: { loc: string[]; defs: RawDef[] }[] | undefined;
  /** While modules that read config at call time are called again: which options were read. */
  recording = false;
  touched: Set<OptNode> | undefined;
  late = false;
  /** Definitions of `_module` (arguments, check), kept apart so most evaluations never build it. */
  moduleDefs: RawDef[] | undefined;
  /** Module arguments from `_module.args` read so far (a later definition of one is a cycle). */
  argsRead: Set<string> | undefined;
  readonly modulesPath: string | undefined;
  /** The class modules must have (when they declare one), see {@link EvalModulesArgs.class}. */
  readonly moduleClass: string | undefined;
  #argValues: Map<string, unknown> | undefined;
  #internal: NsNode | undefined;
  #specialArgs: Record<string, unknown> | undefined;
  #base: Record<string, unknown> | undefined;
  /**
   * The modules of this evaluation, for `moduleType` and `extendModules` (dropped by release),
   * or how to list them.
   */
  specs: ModuleSpec[] | (() => ModuleSpec[]) | undefined;

  constructor(prefix: string[], specialArgs: Record<string, unknown>, moduleClass?: string) {
    this.prefix = prefix;
    this.moduleClass = moduleClass;
    this.#specialArgs = specialArgs;
    const mp = specialArgs.modulesPath;
    this.modulesPath = typeof mp === "string" ? mp.replace(/\/+$/, "") : undefined;
  }

  /**
   * The arguments every function module gets, built on first use (a submodule of plain objects
   * never needs them) and dropped by {@link release} once every module has been called, so the
   * evaluation, kept by each of its options, does not keep them too.
   */
  get baseArgs(): Record<string, unknown> {
    // One literal: getters defined on it (`moduleType`) made this the largest cost of calling
    // a function submodule's module, about 5 µs per instance.
    this.#base ??= {
      lib: lib(),
      ...this.#specialArgs,
      config: new Proxy({ ev: this, what: "config" }, CONFIG_HANDLER),
      options: new Proxy({ ev: this, what: "options" }, CONFIG_HANDLER),
      [LAZY_ARGS]: new ExtensionArgs(
        this.specs ?? [],
        this.#specialArgs ?? {},
        this.prefix,
        this.moduleClass,
      ),
    };
    return this.#base;
  }

  argsFor(file: string): ModuleArgs {
    return moduleArgs(this, this.baseArgs, file) as ModuleArgs;
  }

  release(): void {
    this.#base = undefined;
    this.#specialArgs = undefined;
    this.specs = undefined;
  }

  target(what: "config" | "options"): Record<string, unknown> {
    return what === "config" ? this.root.config : rootOptions(this);
  }

  moduleArg(name: string): unknown {
    const known = this.#argValues;
    if (known?.has(name)) return known.get(name);
    const defs = moduleArgDefs(this.moduleDefs, name, this.prefix);
    if (defs.length === 0) return NOT_PROVIDED;
    const merged = mergeDefinitions(this.prefix.concat("_module", "args", name), types.raw, defs);
    if (!merged.isDefined) return NOT_PROVIDED;
    const v = merged.value();
    if (!this.#argValues) this.#argValues = new Map();
    this.#argValues.set(name, v);
    if (!this.argsRead) this.argsRead = new Set();
    this.argsRead.add(name);
    return v;
  }

  moduleArgNames(): string[] {
    const names = new Set<string>();
    for (const d of this.moduleDefs ?? []) {
      const v = forceStructure(d, this.prefix.concat("_module"));
      const args = isAttrs(v) ? v.args : undefined;
      if (isAttrs(args)) for (const k of Object.keys(args)) names.add(k);
    }
    return [...names];
  }

  /** Adds definitions of `_module` (routed here by `assignDefs`). */
  addModuleDefs(defs: RawDef[]): void {
    if (!this.moduleDefs) this.moduleDefs = [];
    this.moduleDefs.push(...defs);
    const internal = this.#internal;
    if (internal) assignDefs(this, childOf(internal, "_module") as NsNode, defs, true);
  }

  /** The tree of the `_module` options, built (and given its definitions) on first use. */
  internalNs(): NsNode {
    if (!this.#internal) {
      const root = buildNs(
        this,
        this.prefix,
        [],
        [{ file: INTERNAL_FILE, tree: internalOptions() }],
      );
      buildConfig(root);
      this.#internal = root;
      if (this.moduleDefs)
        assignDefs(this, childOf(root, "_module") as NsNode, this.moduleDefs, true);
    }
    return this.#internal;
  }

  /** `_module.check`: whether undeclared definitions are an error. */
  checkEnabled(): boolean {
    if (!this.moduleDefs) return true;
    return (this.internalNs().config._module as { check: boolean }).check;
  }
}

/** What {@link evalModules} returns. */
export interface EvaluatedModules<C> {
  config: C;
  // biome-ignore lint/suspicious/noExplicitAny: options of any shape are read by path
  options: any;
  /** The submodule type of these modules (not enumerable), to declare an option with. */
  type: OptionType;
  /** The class given to evalModules, if any. */
  class: string | undefined;
  /** The same evaluation with more modules (or special arguments, or another prefix). */
  extendModules(more?: ExtendModulesArgs): EvaluatedModules<C>;
}

/** Arguments of `extendModules` (NixOS): more modules, more special arguments, another prefix. */
export interface ExtendModulesArgs {
  modules?: Module[];
  specialArgs?: Record<string, unknown>;
  prefix?: string[];
}

/**
 * The module arguments `moduleType` (the submodule type of this evaluation's modules, its
 * definitions included) and `extendModules` (this evaluation again with more modules), as NixOS
 * gives them; the type is built only when a module reads it.
 */
function extensionArgs(
  specs: ModuleSpec[],
  specialArgs: Record<string, unknown>,
  prefix: string[],
  moduleClass: string | undefined,
): { moduleType: () => OptionType; extendModules: (more?: ExtendModulesArgs) => unknown } {
  return {
    moduleType: () =>
      types.submoduleWith({
        modules: specs.map((s) => ({ module: s.module as Module, file: s.file })),
        specialArgs,
        ...(moduleClass === undefined ? {} : { class: moduleClass }),
      }),
    extendModules: (more: ExtendModulesArgs = {}) =>
      evalSpecs(
        [...specs, ...(more.modules ?? []).map((m) => ({ module: m }))],
        { ...specialArgs, ...more.specialArgs },
        more.prefix ?? prefix,
        moduleClass,
      ),
  };
}

/** Where a root `config`/`options` object keeps its evaluation, for the shared `_module` getters. */
const EVALUATION: unique symbol = Symbol("nix2dream.modules.evaluation");

// One getter for every evaluation: a closure per evaluation would give each config object its
// own hidden class (accessors live in the class), which costs memory on every submodule instance.
const MODULE_CONFIG: PropertyDescriptor = {
  get(this: { [EVALUATION]: Evaluation }) {
    return this[EVALUATION].internalNs().config._module;
  },
  enumerable: false,
  configurable: true,
};
const MODULE_OPTIONS: PropertyDescriptor = {
  get(this: { [EVALUATION]: Evaluation }) {
    return optionsOf(this[EVALUATION].internalNs())._module;
  },
  enumerable: false,
  configurable: true,
};
const EVALUATION_SLOT = (ev: Evaluation): PropertyDescriptor => ({
  value: ev,
  enumerable: false,
  writable: false,
  configurable: true,
});

/** The root `options` object, with a non-enumerable `_module` (as `config`). */
function rootOptions(ev: Evaluation): Record<string, unknown> {
  const first = ev.root.optionsObj === undefined;
  const o = optionsOf(ev.root);
  if (first && !Object.hasOwn(o, "_module")) {
    Object.defineProperty(o, EVALUATION, EVALUATION_SLOT(ev));
    Object.defineProperty(o, "_module", MODULE_OPTIONS);
  }
  return o;
}

/**
 * `config._module` (`args`, `check`), not enumerable: `Object.keys(config)` lists options only.
 * At the top level always; in a submodule instance when one of its modules defines `_module`.
 */
function exposeModuleConfig(ev: Evaluation): void {
  const config = ev.root.config;
  if (Object.hasOwn(config, "_module")) return;
  Object.defineProperty(config, EVALUATION, EVALUATION_SLOT(ev));
  Object.defineProperty(config, "_module", MODULE_CONFIG);
}

/**
 * What {@link evalCore} returns. A class with getters on its prototype: an object literal with a
 * getter (`{ get options() {…} }`) gets a hidden class of its own every time, which every
 * submodule instance paid for.
 */
class Evaluated {
  readonly #ev: Evaluation;
  constructor(ev: Evaluation) {
    this.#ev = ev;
  }
  get config(): Record<string, unknown> {
    return this.#ev.root.config;
  }
  get options(): Record<string, unknown> {
    return rootOptions(this.#ev);
  }
  get freeform(): OptionType | undefined {
    return this.#ev.freeform;
  }
  /** This evaluation as a submodule type's `onInstance` sees it. */
  get instance(): SubmoduleInstance {
    return new InstanceView(this.#ev);
  }
}

/**
 * @internal Evaluates modules. `mode`: `top` for `evalModules`, `sub` for a submodule instance,
 * `decls` to skip definitions (for docs).
 */
export function evalCore(
  specs: ModuleSpec[],
  specialArgs: Record<string, unknown>,
  prefix: string[],
  mode: "top" | "sub" | "decls",
  moduleClass?: string,
): Evaluated {
  const ev = new Evaluation(prefix, specialArgs, moduleClass);
  ev.specs = specs;
  const mods = collect(ev, specs, ev.modulesPath);
  mergeFreeformTypes(ev, mods);
  ev.root = buildNs(
    ev,
    prefix,
    [],
    mods
      .filter((m) => m.options)
      .map((m) => ({ file: m.file, tree: m.options as Record<string, unknown> })),
  );
  buildConfig(ev.root);
  if (mode === "top") exposeModuleConfig(ev);
  ev.ready = true;
  if (mode === "decls") {
    ev.defsComplete = true;
    return new Evaluated(ev);
  }
  const defs: RawDef[] = [];
  mods.forEach((m, i) => {
    if (m.config) {
      m.config.ord = i;
      defs.push(m.config);
    }
  });
  assignDefs(ev, ev.root, defs);
  ev.defsComplete = true;
  recallAll(ev, mods);
  if (ev.moduleDefs) {
    ev.internalNs();
    // In a submodule instance only when defined: two more properties on every instance cost.
    if (mode === "sub") exposeModuleConfig(ev);
  }
  checkUndeclared(ev);
  freeformAfterDefinitions(ev);
  ev.release();
  return new Evaluated(ev);
}

/**
 * Evaluates a list of modules into `{ config, options }` with NixOS module semantics.
 * `config` is lazy: each option is computed on first read (use {@link forceDeep} to force all).
 * Throws {@link ModuleError} for undeclared options, malformed modules and missing module
 * arguments right away; value errors (types, conflicts, cycles) surface when the value is read.
 * `type` (not enumerable) is the submodule type of these modules, to declare an option with.
 */
// biome-ignore lint/suspicious/noExplicitAny: untyped callers get an untyped config, as in the contract
export function evalModules<C = any>(args: EvalModulesArgs): EvaluatedModules<C> {
  if (!args || !Array.isArray(args.modules)) {
    throw new ModuleError("INVALID_MODULE", "evalModules needs `{ modules: [...] }`.");
  }
  return evalSpecs(
    args.modules.map((m) => ({ module: m })),
    args.specialArgs ?? {},
    args.prefix ?? [],
    args.class,
  ) as EvaluatedModules<C>;
}

/** {@link evalModules} of module specs (a module with the file to name when it has none). */
function evalSpecs(
  specs: ModuleSpec[],
  specialArgs: Record<string, unknown>,
  prefix: string[],
  moduleClass: string | undefined,
): EvaluatedModules<unknown> {
  const r = evalCore(specs, specialArgs, prefix, "top", moduleClass);
  // `_type`: an evaluated configuration is not a module; importing one is an error that says so.
  return Object.defineProperties(
    { config: r.config, class: moduleClass },
    {
      options: { get: () => r.options, enumerable: true },
      _type: { value: "configuration", enumerable: false },
      type: {
        get: () =>
          types.submoduleWith({
            modules: specs.map((s) => ({ module: s.module as Module, file: s.file })),
            specialArgs,
            ...(moduleClass === undefined ? {} : { class: moduleClass }),
          }),
        enumerable: false,
      },
      extendModules: {
        value: (more: ExtendModulesArgs = {}) =>
          evalSpecs(
            [...specs, ...(more.modules ?? []).map((m) => ({ module: m }))],
            { ...specialArgs, ...more.specialArgs },
            more.prefix ?? prefix,
            moduleClass,
          ),
        enumerable: false,
      },
    },
  ) as EvaluatedModules<unknown>;
}

/**
 * @internal What every instance of a submodule type shares when its modules are plain objects
 * that only declare options (no function, imports, config or `disabledModules`): the collected
 * modules, their merged freeform type and their option trees. Built once per type by
 * {@link evalSubmodule}; `null` when the type's modules do not qualify.
 */
export interface SubmoduleTemplate {
  freeform: OptionType | undefined;
  sets: OptionSet[];
  /** The option tree's plan, made by the first instance that builds it without an error. */
  plan?: NsPlan;
  /**
   * When some of the type's modules are functions: every module in the order collection gives
   * them (the last first), each the options it declares (null: none) or the function, called
   * for each instance (whose plan is then its own).
   */
  parts?: (OptionSet | null | FunctionPart)[];
  /** Whether a part is a function module called with every argument (not name-only). */
  calls?: boolean;
  /**
   * The values of an instance that has only defaults (see {@link sharedDefaults}); null when
   * they cannot be shared, undefined until an instance with only defaults is met.
   */
  defaults?: DefaultValues | null;
}

type OptionSet = { file: string; tree: Record<string, unknown> };
/**
 * A function module of a template, called once per instance: a {@link nameOnlyModule} with
 * `{ ...specialArgs, name }`, any other with the module arguments of the instance.
 */
type FunctionPart = {
  fn: (args: Record<string, unknown>) => unknown;
  file: string;
  nameOnly: boolean;
};

const NAME_ONLY: unique symbol = Symbol.for("nix2dream.modules.nameOnly");

/**
 * Marks a function module whose result depends only on its `name` (and the special arguments):
 * it never reads `config`, `options` or the other module arguments. A submodule type whose
 * modules are plain objects and such functions still shares what it can across instances: the
 * function is called with `{ ...specialArgs, name }` once per instance, without building the
 * other arguments or collecting the plain modules again. Called like any other function module
 * (with every argument) where no template applies. Returns `fn` itself.
 */
export function nameOnlyModule<F extends (args: ModuleArgs) => unknown>(fn: F): F {
  Object.defineProperty(fn, NAME_ONLY, { value: true });
  return fn;
}

function isNameOnly(m: unknown): m is FunctionPart["fn"] {
  return typeof m === "function" && (m as { [NAME_ONLY]?: boolean })[NAME_ONLY] === true;
}

/** Where a submodule type keeps its template (see {@link SubmoduleTemplate}). */
export interface TemplateSlot {
  template?: SubmoduleTemplate | null;
}

/**
 * Whether a function module may be called per instance by a template: collection would count
 * it at its place (no `key`, no own `file` given twice) and take it for a module.
 */
function callable(modules: SubmoduleModule[], fn: object): boolean {
  const f = fn as { key?: unknown; file?: unknown; _type?: unknown };
  if (f.key !== undefined || f._type !== undefined) return false;
  return typeof f.file !== "string" || modules.filter((m) => m.module === fn).length === 1;
}

/** The template of a submodule type's modules, or null when some module does not qualify. */
function templateOf(
  modules: SubmoduleModule[],
  specialArgs: Record<string, unknown>,
  moduleClass: string | undefined,
): SubmoduleTemplate | null {
  const statics = modules.filter((m) => typeof m.module !== "function");
  for (const m of modules) {
    const f = m.module as object;
    if (typeof f === "function" && !isNameOnly(f) && !callable(modules, f)) return null;
  }
  for (const m of statics) {
    const v = m.module as { imports?: unknown };
    if (typeof v !== "object" || v === null || props.isProperty(v)) return null;
    // Checked before collecting: an imported function module must not be called here.
    if (v.imports !== undefined && !(Array.isArray(v.imports) && v.imports.length === 0))
      return null;
  }
  const ev = new Evaluation([], specialArgs, moduleClass);
  let mods: ReturnType<typeof collect>;
  try {
    mods = collect(
      ev,
      // A module without a file is named by its place among all the type's modules.
      statics.map((m) => ({
        module: m.module,
        file: m.file ?? `<inline module #${modules.indexOf(m) + 1}>`,
      })),
      ev.modulesPath,
    );
    for (const m of mods) {
      if (m.recall || m.config || m.imports.length > 0 || m.disabled.length > 0) return null;
    }
    mergeFreeformTypes(ev, mods);
  } catch {
    // Each instance reports the error itself, naming its own option.
    return null;
  }
  const setOf = (m: (typeof mods)[number]): OptionSet | null =>
    m.options ? { file: m.file, tree: m.options as Record<string, unknown> } : null;
  const sets = mods.map(setOf).filter((x): x is OptionSet => x !== null);
  if (statics.length === modules.length) return { freeform: ev.freeform, sets };
  // Interleaved by position below: a module counted once for two places does not qualify.
  if (mods.length !== statics.length) return null;
  const parts = partsOf(modules, mods.map(setOf));
  const calls = parts.some((p) => p !== null && "fn" in p && !p.nameOnly);
  return { freeform: ev.freeform, sets, parts, calls };
}

/**
 * Every module of the type in collection order (the last first), given the collected plain
 * modules in that order (`statics`).
 */
function partsOf(
  modules: SubmoduleModule[],
  statics: (OptionSet | null)[],
): (OptionSet | null | FunctionPart)[] {
  const parts: (OptionSet | null | FunctionPart)[] = [];
  let s = 0;
  for (let i = modules.length - 1; i >= 0; i--) {
    const m = modules[i] as SubmoduleModule;
    const fn = m.module;
    if (typeof fn !== "function") {
      parts.push(statics[s++] ?? null);
      continue;
    }
    const inline = m.file ?? `<inline module #${i + 1}>`;
    if (isNameOnly(fn)) parts.push({ fn, file: inline, nameOnly: true });
    else {
      // As collection names it: a function's own `file` first.
      const own = (fn as { file?: unknown }).file;
      const file = typeof own === "string" ? own : inline;
      parts.push({ fn: fn as FunctionPart["fn"], file, nameOnly: false });
    }
  }
  return parts;
}

/** What a function module gave one instance (see {@link calledModule}). */
interface CalledModule {
  file: string;
  options: Record<string, unknown> | undefined;
  config: RawDef | undefined;
}

/**
 * What a function module of a template gives one instance, called with the instance's module
 * arguments, as collection would load it: its options and its config definition. Null when it
 * gives anything else (imports, a freeform type, a class, config at its top level), reads config
 * or an argument from `_module.args` when called, or fails: the instance is then evaluated in
 * full, which calls it again and reports any error as usual.
 */
function calledModule(ev: Evaluation, p: FunctionPart): CalledModule | null {
  ev.tainted = false;
  let o: unknown;
  try {
    o = asModuleObject(p.fn(ev.argsFor(p.file)));
  } catch {
    return null;
  }
  if (ev.tainted || !isAttrs(o)) return null;
  if (!Object.hasOwn(o, "options") && !Object.hasOwn(o, "config")) return null;
  for (const k of Object.keys(o))
    if (k !== "options" && k !== "config" && k !== "file") return null;
  if (o.imports !== undefined || o.freeformType !== undefined) return null;
  if (o.disabledModules !== undefined || o._class !== undefined) return null;
  const options = o.options;
  if (options !== undefined && !isAttrs(options)) return null;
  const file = typeof o.file === "string" ? o.file : p.file;
  return { file, options, config: configDefOf(o, file) };
}

/**
 * The option sets of one instance of a template with function modules, or null when a
 * name-only one gives more than declarations, or another one does not qualify (see
 * {@link calledModule}): the instance is then evaluated in full, which reports any error as
 * usual. The config definitions of the function modules go to `configs`, each with its place
 * among the instance's modules (the definitions' modules come first: `firstOrd` of them).
 */
function instanceSets(
  t: SubmoduleTemplate,
  ev: Evaluation,
  specialArgs: Record<string, unknown>,
  name: string | undefined,
  configs: RawDef[],
  firstOrd: number,
): OptionSet[] | null {
  const sets: OptionSet[] = [];
  const parts = t.parts ?? [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as OptionSet | null | FunctionPart;
    if (p === null) continue;
    if (!("fn" in p)) {
      sets.push(p);
      continue;
    }
    if (!p.nameOnly) {
      const m = calledModule(ev, p);
      if (m === null) return null;
      if (m.options) sets.push({ file: m.file, tree: m.options });
      if (m.config) {
        m.config.ord = firstOrd + i;
        configs.push(m.config);
      }
      continue;
    }
    try {
      const result = p.fn({ ...specialArgs, name });
      if (!isAttrs(result) || props.isProperty(result)) return null;
      const [m, ...more] = collect(ev, [{ module: result, file: p.file }], ev.modulesPath);
      if (!m || more.length > 0 || m.config || m.imports.length > 0 || m.disabled.length > 0)
        return null;
      if (m.recall || m.freeformType) return null;
      if (m.options) sets.push({ file: m.file, tree: m.options as Record<string, unknown> });
    } catch {
      return null;
    }
  }
  return sets;
}

/**
 * An instance of a submodule type from its template: the same steps as `evalCore` for these
 * modules (definitions in the order collection gives them: the last definition's module first),
 * without collecting the type's modules again.
 */
function evalFromTemplate(
  t: SubmoduleTemplate,
  modules: SubmoduleModule[],
  specialArgs: Record<string, unknown>,
  loc: string[],
  defs: Definition[],
  moduleClass: string | undefined,
  eager = false,
): Evaluation | null {
  const name = loc[loc.length - 1];
  // The module arguments are built only for a function module that is not name-only.
  const ev = new Evaluation(loc, t.calls ? { ...specialArgs, name } : specialArgs, moduleClass);
  ev.freeform = t.freeform;
  const configs: RawDef[] = [];
  if (t.parts) {
    // Listed only if a module reads `moduleType` or `extendModules`.
    if (t.calls) ev.specs = () => instanceSpecs(modules, defs);
    const sets = instanceSets(t, ev, specialArgs, name, configs, defs.length);
    if (!sets) return null;
    try {
      ev.root = buildNs(ev, loc, [], sets);
    } catch {
      return null;
    }
  } else {
    // Not cached when planning fails: each instance then reports the error naming its own option.
    t.plan ??= planNs(loc, t.sets);
    ev.root = instantiateNs(ev, loc, [], t.plan);
  }
  if (!eager) buildConfig(ev.root);
  ev.ready = true;
  const raw: RawDef[] = new Array(defs.length + configs.length);
  for (let i = 0; i < defs.length; i++) {
    const d = defs[defs.length - 1 - i] as Definition;
    raw[i] = { file: d.file, value: d.value, get: undefined, ord: i };
  }
  // The type's modules come after the definitions' in collection order.
  for (let i = 0; i < configs.length; i++) raw[defs.length + i] = configs[i] as RawDef;
  assignDefs(ev, ev.root, raw);
  ev.defsComplete = true;
  if (ev.moduleDefs) {
    ev.internalNs();
    exposeModuleConfig(ev);
  }
  checkUndeclared(ev);
  freeformAfterDefinitions(ev);
  ev.release();
  if (eager) plainConfig(ev);
  return ev;
}

/**
 * Gives an instance of plain data (see {@link onlyPlainData}) its config as a plain object of
 * its values, computed now (its nodes stay, for its options and `onInstance`): they depend on nothing but its definitions and the declared
 * defaults, so computing them before they are read changes nothing but the cost (a lazy object of
 * accessors is about 5 µs to build). Any value that fails, or options in nested sets, and the
 * config is the usual lazy object (a failed value fails again when read).
 */
function plainConfig(ev: Evaluation): void {
  const root = ev.root;
  const values: unknown[] = new Array(root.nodes.length);
  for (let i = 0; i < root.nodes.length; i++) {
    const node = root.nodes[i] as NsNode | OptNode;
    let ok = node.kind === "opt";
    try {
      if (ok) values[i] = (node as OptNode).force();
    } catch {
      ok = false;
    }
    if (!ok) {
      buildConfig(root);
      return;
    }
  }
  const make = literalOf(root.names);
  root.config = make ? make(values) : assignAll(root.names, values);
}

function assignAll(names: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < names.length; i++) out[names[i] as string] = values[i];
  return out;
}

type LiteralFactory = (values: readonly unknown[]) => Record<string, unknown>;

/**
 * The {@link literalFactory} of each list of option names, made once: names are interned (see
 * `internNames`), so the instances of every template of the same options share one, even where
 * each service has a type of its own (and a template of its own).
 */
const literals = new WeakMap<readonly string[], LiteralFactory | null>();

function literalOf(names: readonly string[]): LiteralFactory | null {
  let make = literals.get(names);
  if (make === undefined) {
    make = literalFactory(names);
    literals.set(names, make);
  }
  return make;
}

/** A function returning `{ [names[i]]: v[i] }` as one object literal, or null (see {@link defaultsFactory}). */
function literalFactory(
  names: readonly string[],
): ((values: readonly unknown[]) => Record<string, unknown>) | null {
  if (names.includes("__proto__")) return null;
  const fields = names.map((name, i) => `${JSON.stringify(name)}: v[${i}]`);
  try {
    return new Function("v", `"use strict"; return { ${fields.join(", ")} };`) as (
      values: readonly unknown[],
    ) => Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * Whether every definition is an object of plain data (see {@link isPlainData}): nothing in them
 * can read another option.
 */
function onlyPlainData(defs: Definition[]): boolean {
  for (const d of defs) if (!isPlainData(d.value, 0)) return false;
  return true;
}

/** The names of an instance's options and their values; {@link FRESH_LIST}: a new `[]` each. */
interface DefaultValues {
  names: readonly string[];
  values: readonly unknown[];
  /** Builds the object as a literal (one hidden class for all), once the template has one. */
  make?: ((values: readonly unknown[]) => Record<string, unknown>) | null;
}

const FRESH_LIST: unique symbol = Symbol("fresh empty list");

/** Whether every definition is `{}`: each option of the instance takes its default. */
function onlyDefaults(defs: Definition[]): boolean {
  for (const d of defs) {
    for (const _ in d.value as object) return false;
  }
  return true;
}

/**
 * The values of `ev`, an instance of a template of plain modules whose every definition is `{}`,
 * when every option is of a simple type (its one definition, the default, is its value: the
 * instance's path cannot change it) or a list whose default is empty, and every value is null, a
 * boolean, number or string, or that empty list; null otherwise, or when a value fails. Forces
 * them (no module of such an instance can read another option).
 */
function defaultValuesOf(ev: Evaluation): DefaultValues | null {
  const { names, nodes, config } = ev.root;
  const values: unknown[] = new Array(names.length);
  for (let i = 0; i < names.length; i++) {
    const node = nodes[i] as NsNode | OptNode;
    if (node.kind !== "opt") return null;
    const type = node.decl.type;
    let v: unknown;
    try {
      v = config[names[i] as string];
    } catch {
      return null;
    }
    if (Array.isArray(v) && v.length === 0 && type.name === "listOf") values[i] = FRESH_LIST;
    else if (!type.simple) return null;
    else if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean")
      values[i] = v;
    else return null;
  }
  return { names, values };
}

/**
 * The config of an instance whose every definition is `{}`, from the values the first such
 * instance of the template had: a plain object of its own (not the lazy object of accessors,
 * about 5 µs each to build), so no instance shares an object with another. Its values do not
 * depend on where the instance is (see {@link defaultValuesOf}); an `apply` is taken to be pure,
 * as the module system assumes everywhere.
 */
function sharedDefaults(d: DefaultValues): Record<string, unknown> {
  if (d.make === undefined) d.make = defaultsFactory(d);
  if (d.make) return d.make(d.values);
  const out: Record<string, unknown> = {};
  const { names, values } = d;
  for (let i = 0; i < names.length; i++) {
    const v = values[i];
    out[names[i] as string] = v === FRESH_LIST ? [] : v;
  }
  return out;
}

/**
 * A function returning `{ [names[i]]: values[i] | [] }` as one object literal: keys added one by
 * one to `{}` each cost a hidden class of their own once V8's tree of them is full (after a large
 * evaluation). Null for a "__proto__" key (a literal would take it for the prototype) or where
 * code cannot be generated.
 */
function defaultsFactory(d: DefaultValues): DefaultValues["make"] {
  if (d.names.includes("__proto__")) return null;
  const fields = d.names.map(
    (name, i) => `${JSON.stringify(name)}: ${d.values[i] === FRESH_LIST ? "[]" : `v[${i}]`}`,
  );
  try {
    return new Function("v", `"use strict"; return { ${fields.join(", ")} };`) as NonNullable<
      DefaultValues["make"]
    >;
  } catch {
    return null;
  }
}

/**
 * What a submodule type's `onInstance` receives (see `SubmoduleWithSpec.onInstance`): a class,
 * so every instance shares one hidden class and its options tree is built only when read.
 */
class InstanceView implements SubmoduleInstance {
  readonly #ev: Evaluation;
  constructor(ev: Evaluation) {
    this.#ev = ev;
  }
  get loc(): readonly string[] {
    return this.#ev.prefix;
  }
  get options(): Record<string, unknown> {
    return rootOptions(this.#ev);
  }
  forEachOption(visit: (option: OptionInfo) => void): void {
    visitOptions(this.#ev.root, visit);
  }
}

/**
 * Calls `visit` with each option under `ns`, in the order of the options tree, each with an
 * `OptionInfo` made for the call and not kept: one kept per option of every instance (as the
 * options tree keeps them) cost more than reading the few fields a caller needs.
 */
function visitOptions(ns: NsNode, visit: (option: OptionInfo) => void): void {
  for (let i = 0; i < ns.nodes.length; i++) {
    const child = ns.nodes[i] as NsNode | OptNode;
    if (child.kind === "opt") visit(new OptionInfo(child));
    else visitOptions(child, visit);
  }
}

/**
 * @internal Whether the instances of a submodule type of `modules` are built from a template with
 * no freeform type whose modules are plain or name-only (see {@link SubmoduleTemplate}): nothing
 * but an instance's definitions and its name then makes its values. A function module called
 * with every argument may read other options through what it closes over, so it is not pure.
 */
export function templateIsPure(
  modules: SubmoduleModule[],
  specialArgs: Record<string, unknown>,
  moduleClass: string | undefined,
  slot: TemplateSlot,
): boolean {
  if (slot.template === undefined) slot.template = templateOf(modules, specialArgs, moduleClass);
  return isPureTemplate(slot.template);
}

/** See {@link templateIsPure}: the one test behind it and behind plain instance configs. */
function isPureTemplate(t: SubmoduleTemplate | null): t is SubmoduleTemplate {
  return t !== null && !t.freeform && !t.calls;
}

/** The modules of a submodule instance: the type's, then each definition as a module. */
function instanceSpecs(
  modules: SubmoduleModule[],
  defs: Definition[],
  shorthandOnlyDefinesConfig = true,
): ModuleSpec[] {
  const specs: ModuleSpec[] = modules.map((m) => ({ module: m.module, file: m.file }));
  for (const d of defs) {
    if (shorthandOnlyDefinesConfig && isAttrs(d.value))
      specs.push({ module: { config: d.value }, file: d.file });
    else specs.push({ module: d.value, file: d.file });
  }
  return specs;
}

/** @internal The value of a submodule option: a nested evaluation with the definitions as modules. */
export function evalSubmodule(
  modules: SubmoduleModule[],
  specialArgs: Record<string, unknown>,
  shorthandOnlyDefinesConfig: boolean,
  loc: string[],
  defs: Definition[],
  moduleClass?: string,
  slot?: TemplateSlot,
  onInstance?: (instance: SubmoduleInstance) => void,
): Record<string, unknown> {
  if (slot && shorthandOnlyDefinesConfig && defs.every((d) => isAttrs(d.value))) {
    if (slot.template === undefined) slot.template = templateOf(modules, specialArgs, moduleClass);
    const t = slot.template;
    // Its config may be plain data (not where a function module may read other options, see
    // `templateIsPure`); with nobody to hand the instance to, an instance with only defaults gets
    // the values of the first such instance.
    const plainOk = isPureTemplate(t);
    // Name-only modules may give each instance defaults of its own.
    const shareable = plainOk && !t.parts && !onInstance && onlyDefaults(defs);
    if (shareable && t.defaults) return sharedDefaults(t.defaults);
    const eager = plainOk && onlyPlainData(defs);
    const ev = t && evalFromTemplate(t, modules, specialArgs, loc, defs, moduleClass, eager);
    if (ev) {
      if (shareable && t.defaults === undefined) t.defaults = defaultValuesOf(ev);
      onInstance?.(new InstanceView(ev));
      return ev.root.config;
    }
    // A function module the template could not take is likely to give the same to every
    // instance: later ones are evaluated in full at once, without calling it first.
    if (t?.calls) slot.template = null;
  }
  const specs = instanceSpecs(modules, defs, shorthandOnlyDefinesConfig);
  const args = { ...specialArgs, name: loc[loc.length - 1] };
  const evaluated = evalCore(specs, args, loc, "sub", moduleClass);
  onInstance?.(evaluated.instance);
  return evaluated.config;
}

/** @internal The options tree of a submodule type, for docs and schemas. */
export function subOptionsOf(
  modules: SubmoduleModule[],
  specialArgs: Record<string, unknown>,
  loc: string[],
  moduleClass?: string,
): Record<string, unknown> {
  const { options, freeform } = evalCore(
    modules.map((m) => ({ module: m.module, file: m.file })),
    { ...specialArgs, name: loc[loc.length - 1] ?? "<name>" },
    loc,
    "decls",
    moduleClass,
  );
  if (freeform?.getSubOptions) exposeFreeformOptions(options, freeform, loc);
  return options;
}

/**
 * `_freeformOptions` (as NixOS): the sub-options of the submodule's freeform type, computed on
 * first read. Not enumerable, so docs and schemas, which walk the declared options, skip it.
 */
function exposeFreeformOptions(
  options: Record<string, unknown>,
  freeform: OptionType,
  loc: string[],
): void {
  let subs: Record<string, unknown> | undefined;
  Object.defineProperty(options, "_freeformOptions", {
    get: () => {
      if (subs === undefined) subs = freeform.getSubOptions?.(loc) ?? {};
      return subs;
    },
    configurable: true,
  });
}

/**
 * @internal The options of a submodule, as {@link subOptionsOf}, and its freeform type (which
 * takes keys no option declares), for its JSON Schema.
 */
export function subSchemaOf(
  modules: SubmoduleModule[],
  specialArgs: Record<string, unknown>,
  loc: string[],
  moduleClass?: string,
): { options: Record<string, unknown>; freeform: OptionType | undefined } {
  const ev = evalCore(
    modules.map((m) => ({ module: m.module, file: m.file })),
    { ...specialArgs, name: loc[loc.length - 1] ?? "<name>" },
    loc,
    "decls",
    moduleClass,
  );
  return { options: ev.options, freeform: ev.freeform };
}
