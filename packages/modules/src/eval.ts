/**
 * `evalModules`: module collection (imports, keys, disabledModules), the option tree
 * (declaration merging), definition assignment, and the lazy config fixed point.
 */
import { closest, kindOf, ModuleError, showFiles, showPath, showValue } from "./errors.js";
import {
  defineThunksAt,
  FnThunk,
  internNames,
  isAttrs,
  type Merged,
  mergeDefinitions,
  pushDownAttrs,
  type RawDef,
  Thunk,
} from "./merge.js";
import { type Module, type ModuleArgs, RESERVED_KEYS } from "./module.js";
import { isOptionDeclaration, mkOption, type OptionDeclaration } from "./option.js";
import * as props from "./props.js";
import {
  type Definition,
  isOptionType,
  type OptionType,
  type SubmoduleModule,
  types,
} from "./types.js";

/** Arguments of {@link evalModules}. */
export interface EvalModulesArgs {
  modules: Module[];
  /** Extra arguments passed to every function module (and not overridable by config). */
  specialArgs?: Record<string, unknown>;
  /** Option path prefix of this evaluation, used in messages. */
  prefix?: string[];
}

interface ModuleSpec {
  module: unknown;
  file?: string | undefined;
}

interface Loaded {
  /** A function module that read config when called: called again once config exists. */
  recall?: { fn: (a: ModuleArgs) => unknown; declsFailed: boolean };
  key: string;
  file: string;
  imports: Loaded[];
  disabled: unknown[];
  options?: Record<string, unknown>;
  config?: RawDef;
  freeformType?: OptionType;
}

interface NsNode {
  kind: "ns";
  loc: string[];
  rel: string[];
  /**
   * The children in declaration order: names and nodes side by side (two exact-size arrays
   * are smaller than a Map, and a config object of only options reads its values from
   * `nodes` directly, see `defineThunksAt`).
   */
  names: string[];
  nodes: (NsNode | OptNode)[];
  /** Name → index, built on first lookup in a large namespace. */
  index?: Map<string, number>;
  config: Record<string, unknown>;
  /** Built on first use: most evaluations (each submodule instance) never read it. */
  optionsObj?: Record<string, unknown>;
  freeformKeys?: Set<string>;
}

const LINEAR_LOOKUP_MAX = 16;

function childOf(ns: NsNode, name: string): NsNode | OptNode | undefined {
  const names = ns.names;
  if (names.length <= LINEAR_LOOKUP_MAX) {
    const i = names.indexOf(name);
    return i < 0 ? undefined : ns.nodes[i];
  }
  let index = ns.index;
  if (!index) {
    index = new Map();
    for (let i = 0; i < names.length; i++) index.set(names[i] as string, i);
    ns.index = index;
  }
  const i = index.get(name);
  return i === undefined ? undefined : ns.nodes[i];
}

function optionsOf(ns: NsNode): Record<string, unknown> {
  if (ns.optionsObj) return ns.optionsObj;
  const o: Record<string, unknown> = {};
  for (let i = 0; i < ns.names.length; i++) {
    const name = ns.names[i] as string;
    const child = ns.nodes[i] as NsNode | OptNode;
    o[name] = child.kind === "opt" ? child.option : optionsOf(child);
  }
  ns.optionsObj = o;
  return o;
}

/** @internal Declarations of one option merged. */
export interface MergedDecl {
  type: OptionType;
  declarations: string[];
  defaultFile: string | undefined;
  defaultDecl: OptionDeclaration | undefined;
  defaultIsGetter: boolean;
  defaultText: string | undefined;
  example: unknown;
  hasExample: boolean;
  description: string | undefined;
  readOnly: boolean;
  apply: ((v: unknown) => unknown) | undefined;
  internal: boolean;
  visible: boolean | "shallow";
  removed: string | undefined;
  alias: boolean;
}

interface OptNode {
  kind: "opt";
  loc: string[];
  decl: MergedDecl;
  defs: RawDef[];
  info: Thunk<Merged>;
  value: Thunk<unknown>;
  readonly option: OptionInfo;
}

/** Marks an option declaration as removed (see `mkRemovedOptionModule`). */
export const REMOVED: unique symbol = Symbol.for("nix2dream.modules.removed");
/** Marks an alias declaration: its value is its `apply` of nothing (see `mkRenamedOptionModule`). */
export const ALIAS: unique symbol = Symbol.for("nix2dream.modules.alias");

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

/** What config reads return while modules are being collected: absorbs any use. */
const HOLE: unknown = new Proxy(() => {}, {
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

interface ProxyTarget {
  ev: Evaluation;
  what: "config" | "options";
}

/** One handler for every evaluation's `config`/`options` arguments (no closures per evaluation). */
const ARGS_HANDLER: ProxyHandler<ProxyTarget> = {
  get(t, p) {
    const ev = t.ev;
    if (!ev.ready) {
      if (typeof p === "symbol" || p === "then" || p === "toJSON") return undefined;
      // Read at call time, while collecting: answer with a placeholder and call the module
      // again once config exists (see `recall` in evalCore).
      ev.tainted = true;
      return HOLE;
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

class Evaluation {
  readonly prefix: string[];
  ready = false;
  defsComplete = false;
  collectingFile: string | undefined;
  tainted = false;
  root!: NsNode;
  freeform: OptionType | undefined;
  /** Definitions of undeclared options, for the freeform type (created on first use). */
  unmatched: { rel: string[]; def: RawDef }[] | undefined;
  freeformValue: Thunk<unknown> | undefined;
  /** While modules that read config at call time are called again: which options were read. */
  recording = false;
  touched: Set<OptNode> | undefined;
  late = false;
  resort: Set<OptNode> | undefined;
  #specialArgs: Record<string, unknown> | undefined;
  #args: ModuleArgs | undefined;

  constructor(prefix: string[], specialArgs: Record<string, unknown>) {
    this.prefix = prefix;
    this.#specialArgs = specialArgs;
  }

  /**
   * The arguments of function modules, built on first use (a submodule of plain objects never
   * needs them) and dropped by {@link release} once every module has been called, so the
   * evaluation, kept by each of its options, does not keep them too.
   */
  get args(): ModuleArgs {
    if (!this.#args) {
      const makeProxy = (what: "config" | "options") =>
        new Proxy({ ev: this, what }, ARGS_HANDLER) as unknown;
      this.#args = {
        lib: lib(),
        ...this.#specialArgs,
        config: makeProxy("config"),
        options: makeProxy("options"),
      } as ModuleArgs;
    }
    return this.#args;
  }

  release(): void {
    this.#args = undefined;
    this.#specialArgs = undefined;
  }

  target(what: "config" | "options"): Record<string, unknown> {
    return what === "config" ? this.root.config : optionsOf(this.root);
  }
}

// ---------------------------------------------------------------------------------------------
// collection

function isModuleLike(m: unknown): boolean {
  return typeof m === "function" || (typeof m === "object" && m !== null && !Array.isArray(m));
}

/** The config definition of a module object: its `config`, or (shorthand) its other keys. */
function configDefOf(o: Record<string, unknown>, file: string): RawDef | undefined {
  if (Object.hasOwn(o, "options") || Object.hasOwn(o, "config")) {
    const d = Object.getOwnPropertyDescriptor(o, "config");
    if (!d) return undefined;
    return d.get ? { file, get: () => (d.get as () => unknown).call(o) } : { file, value: d.value };
  }
  const rest: Record<string, PropertyDescriptor> = {};
  let any = false;
  for (const k of Object.keys(o)) {
    if (RESERVED_KEYS.has(k)) continue;
    rest[k] = Object.getOwnPropertyDescriptor(o, k) as PropertyDescriptor;
    any = true;
  }
  return any ? { file, value: Object.defineProperties({}, rest) } : undefined;
}

function collect(ev: Evaluation, specs: ModuleSpec[]): Loaded[] {
  const byKey = new Map<string, Loaded>();
  const ids = new Map<object, string>();
  let anon = 0;
  const keyOf = (m: object): string => {
    const explicit = (m as { key?: unknown }).key;
    if (typeof explicit === "string") return explicit;
    let k = ids.get(m);
    if (k === undefined) {
      k = `<anonymous module ${++anon}>`;
      ids.set(m, k);
    }
    return k;
  };

  const load = (m: unknown, fallbackFile: string, from: string | undefined): Loaded => {
    if (!isModuleLike(m) || isOptionType(m) || props.isProperty(m) || isOptionDeclaration(m)) {
      throw new ModuleError(
        "INVALID_MODULE",
        `${from ? `The imports of ${from} contain` : "The module list contains"} ${showValue(m)} (${kindOf(
          m,
        )}), which is not a module (an object or a function returning one).`,
        { files: from ? [from] : [] },
      );
    }
    const key = keyOf(m as object);
    const existing = byKey.get(key);
    if (existing) return existing;
    const ownFile = (m as { file?: unknown }).file;
    let file = typeof ownFile === "string" ? ownFile : fallbackFile;
    const loaded: Loaded = { key, file, imports: [], disabled: [] };
    byKey.set(key, loaded);
    let obj: unknown = m;
    if (typeof m === "function") {
      const prev = ev.collectingFile;
      const prevTainted = ev.tainted;
      ev.collectingFile = file;
      ev.tainted = false;
      try {
        obj = (m as (a: ModuleArgs) => unknown)(ev.args);
        if (ev.tainted) loaded.recall = { fn: m as (a: ModuleArgs) => unknown, declsFailed: false };
      } catch (e) {
        if (ev.tainted && !(e instanceof ModuleError)) {
          // It used a config placeholder in a way that failed; its real call comes later and
          // may then only define config.
          loaded.recall = { fn: m as (a: ModuleArgs) => unknown, declsFailed: true };
          obj = {};
        } else if (e instanceof ModuleError) throw e;
        else
          throw new ModuleError(
            "INVALID_MODULE",
            `The module function in ${file} threw: ${e instanceof Error ? e.message : String(e)}`,
            { files: [file], cause: e },
          );
      } finally {
        ev.collectingFile = prev;
        ev.tainted = prevTainted;
      }
      if (typeof obj !== "object" || obj === null || Array.isArray(obj) || props.isProperty(obj)) {
        throw new ModuleError(
          "INVALID_MODULE",
          `The module function in ${file} returned ${showValue(obj)} (${kindOf(obj)}), not a module object.`,
          { files: [file] },
        );
      }
      const retFile = (obj as { file?: unknown }).file;
      if (typeof retFile === "string") file = retFile;
    }
    loaded.file = file;
    const o = obj as Record<string, unknown>;
    const structured = Object.hasOwn(o, "options") || Object.hasOwn(o, "config");
    if (structured) {
      for (const k of Object.keys(o)) {
        if (!RESERVED_KEYS.has(k)) {
          throw new ModuleError(
            "INVALID_MODULE",
            `The module in ${file} has an unsupported attribute \`${k}\`: a module with \`options\` or \`config\` may not define config at its top level. Move \`${k}\` into \`config\`.`,
            { files: [file] },
          );
        }
      }
      if (o.options !== undefined) {
        if (!isAttrs(o.options)) {
          throw new ModuleError(
            "INVALID_MODULE",
            `The \`options\` of the module in ${file} must be an object of option declarations, got ${showValue(o.options)}.`,
            { files: [file] },
          );
        }
        loaded.options = o.options;
      }
    }
    if (!loaded.recall) {
      const def = configDefOf(o, file);
      if (def) loaded.config = def;
    }
    if (o.freeformType !== undefined) {
      if (!isOptionType(o.freeformType)) {
        throw new ModuleError(
          "INVALID_MODULE",
          `The \`freeformType\` of the module in ${file} is not an option type.`,
          {
            files: [file],
          },
        );
      }
      loaded.freeformType = o.freeformType;
    }
    if (o.disabledModules !== undefined) {
      if (!Array.isArray(o.disabledModules)) {
        throw new ModuleError(
          "INVALID_MODULE",
          `The \`disabledModules\` of the module in ${file} must be a list.`,
          {
            files: [file],
          },
        );
      }
      loaded.disabled = o.disabledModules;
    }
    if (o.imports !== undefined) {
      if (!Array.isArray(o.imports)) {
        throw new ModuleError(
          "INVALID_MODULE",
          `The \`imports\` of the module in ${file} must be a list of modules, got ${showValue(o.imports)}.`,
          { files: [file] },
        );
      }
      for (const i of o.imports) loaded.imports.push(load(i, file, file));
    }
    return loaded;
  };

  const top = specs.map((s, i) => load(s.module, s.file ?? `<inline module #${i + 1}>`, undefined));

  const disabled = new Set<string>();
  for (const l of byKey.values()) {
    for (const d of l.disabled) {
      if (typeof d === "string") {
        disabled.add(d);
        for (const o of byKey.values()) if (o.file === d) disabled.add(o.key);
      } else if (isModuleLike(d)) {
        const explicit = (d as { key?: unknown }).key;
        const k = typeof explicit === "string" ? explicit : ids.get(d as object);
        if (k !== undefined) disabled.add(k);
      } else {
        throw new ModuleError(
          "INVALID_MODULE",
          `The \`disabledModules\` of the module in ${l.file} contain ${showValue(d)}, which is neither a key nor a module.`,
          { files: [l.file] },
        );
      }
    }
  }

  const order: Loaded[] = [];
  const seen = new Set<string>();
  const queue = top.filter((l) => !disabled.has(l.key));
  for (let i = 0; i < queue.length; i++) {
    const l = queue[i] as Loaded;
    if (seen.has(l.key)) continue;
    seen.add(l.key);
    order.push(l);
    for (const c of l.imports) if (!disabled.has(c.key) && !seen.has(c.key)) queue.push(c);
  }
  // As in NixOS: later modules' definitions come first, imported modules before importers.
  return order.reverse();
}

// ---------------------------------------------------------------------------------------------
// declarations

/** The type of one declaration, checked, with its inline submodules given the declaring file. */
function declaredType(
  loc: string[],
  file: string,
  decl: OptionDeclaration,
): OptionType | undefined {
  if (decl.type === undefined) return undefined;
  if (!isOptionType(decl.type)) {
    throw new ModuleError(
      "INVALID_MODULE",
      `The option \`${showPath(loc)}\` in ${file} has a \`type\` that is not an option type (use \`types.*\` or \`fromZod\`).`,
      { optionPath: showPath(loc), files: [file] },
    );
  }
  // Submodule modules declared inline belong to the file that declares the option.
  return decl.type.withDeclarationFile ? decl.type.withDeclarationFile(file) : decl.type;
}

function mergeDecls(
  loc: string[],
  entries: { file: string; decl: OptionDeclaration }[],
): MergedDecl {
  // Every field present from the start: one object shape for all options.
  const m: MergedDecl = {
    type: types.unspecified,
    // Built at its final size: arrays grown by push keep a much larger backing store.
    declarations: entries.map((e) => e.file),
    defaultFile: undefined,
    defaultDecl: undefined,
    defaultIsGetter: false,
    defaultText: undefined,
    example: undefined,
    hasExample: false,
    description: undefined,
    readOnly: false,
    apply: undefined,
    internal: false,
    visible: true,
    removed: undefined,
    alias: false,
  };
  let typeFile: string | undefined;
  let applyFile: string | undefined;
  let seenCount = 0;
  for (const { file, decl } of entries) {
    seenCount++;
    const already = (what: string, other: string | undefined): ModuleError =>
      new ModuleError(
        "DECLARATION_CONFLICT",
        `The option \`${showPath(loc)}\` in ${file} is already declared in ${
          other ?? showFiles(m.declarations.slice(0, seenCount - 1))
        }, and both declarations set ${what}.`,
        { optionPath: showPath(loc), files: [other ?? "", file].filter(Boolean) },
      );
    if (Object.hasOwn(decl, "default")) {
      if (m.defaultDecl) throw already("a default", m.defaultFile);
      m.defaultDecl = decl;
      m.defaultFile = file;
      m.defaultIsGetter = Object.getOwnPropertyDescriptor(decl, "default")?.get !== undefined;
    }
    if (decl.apply !== undefined) {
      if (m.apply) throw already("`apply`", applyFile);
      m.apply = decl.apply as (v: unknown) => unknown;
      applyFile = file;
    }
    const declType = declaredType(loc, file, decl);
    if (declType !== undefined) {
      if (typeFile === undefined) {
        m.type = declType;
        typeFile = file;
      } else {
        const merged = m.type.mergeType?.(declType);
        if (!merged) {
          throw new ModuleError(
            "DECLARATION_CONFLICT",
            `The option \`${showPath(loc)}\` in ${file} is already declared in ${typeFile} with an incompatible type: \`${m.type.description}\` there, \`${(decl.type as OptionType).description}\` here.`,
            { optionPath: showPath(loc), files: [typeFile, file] },
          );
        }
        m.type = merged;
      }
    }
    if (decl.description !== undefined && m.description === undefined)
      m.description = decl.description;
    if (decl.defaultText !== undefined && m.defaultText === undefined)
      m.defaultText = decl.defaultText;
    if (Object.hasOwn(decl, "example") && !m.hasExample) {
      m.example = decl.example;
      m.hasExample = true;
    }
    if (decl.readOnly) m.readOnly = true;
    if (decl.internal) m.internal = true;
    if (decl.visible === false) m.visible = false;
    else if (decl.visible === "shallow" && m.visible === true) m.visible = "shallow";
    const removed = (decl as unknown as Record<symbol, unknown>)[REMOVED];
    if (typeof removed === "string") m.removed = removed;
    if ((decl as unknown as Record<symbol, unknown>)[ALIAS] === true) m.alias = true;
  }
  return m;
}

/**
 * The merged declaration of an option declared once (almost every option): read from the
 * declaration itself instead of copied into a {@link MergedDecl}, since one is kept for every
 * option of every submodule instance.
 */
class SingleDecl implements MergedDecl {
  readonly type: OptionType;
  constructor(
    readonly decl: OptionDeclaration,
    readonly file: string,
    loc: string[],
  ) {
    this.type = declaredType(loc, file, decl) ?? types.unspecified;
  }
  get declarations(): string[] {
    return [this.file];
  }
  get defaultFile(): string | undefined {
    return Object.hasOwn(this.decl, "default") ? this.file : undefined;
  }
  get defaultDecl(): OptionDeclaration | undefined {
    return Object.hasOwn(this.decl, "default") ? this.decl : undefined;
  }
  get defaultIsGetter(): boolean {
    return Object.getOwnPropertyDescriptor(this.decl, "default")?.get !== undefined;
  }
  get defaultText(): string | undefined {
    return this.decl.defaultText;
  }
  get example(): unknown {
    return Object.hasOwn(this.decl, "example") ? this.decl.example : undefined;
  }
  get hasExample(): boolean {
    return Object.hasOwn(this.decl, "example");
  }
  get description(): string | undefined {
    return this.decl.description;
  }
  get readOnly(): boolean {
    return Boolean(this.decl.readOnly);
  }
  get apply(): ((v: unknown) => unknown) | undefined {
    return this.decl.apply as ((v: unknown) => unknown) | undefined;
  }
  get internal(): boolean {
    return Boolean(this.decl.internal);
  }
  get visible(): boolean | "shallow" {
    const v = this.decl.visible;
    return v === false ? false : v === "shallow" ? "shallow" : true;
  }
  get removed(): string | undefined {
    const r = (this.decl as unknown as Record<symbol, unknown>)[REMOVED];
    return typeof r === "string" ? r : undefined;
  }
  get alias(): boolean {
    return (this.decl as unknown as Record<symbol, unknown>)[ALIAS] === true;
  }
}

function buildNs(
  ev: Evaluation,
  loc: string[],
  rel: string[],
  sets: { file: string; tree: Record<string, unknown> }[],
): NsNode {
  const collected: string[] = [];
  const byName = new Map<string, { file: string; v: unknown }[]>();
  for (const s of sets) {
    for (const k of Object.keys(s.tree)) {
      let list = byName.get(k);
      if (!list) {
        list = [];
        byName.set(k, list);
        collected.push(k);
      }
      list.push({ file: s.file, v: s.tree[k] });
    }
  }
  // Every instance of a submodule has the same names: they share one copy.
  const names = internNames(collected);
  const nodes: (NsNode | OptNode)[] = new Array(names.length);
  const ns: NsNode = { kind: "ns", loc, rel, names, nodes, config: {} };
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const entries = byName.get(name) as { file: string; v: unknown }[];
    // concat, not `[...loc, name]`: the spread grows its result by a push, which leaves a
    // backing store several times larger, kept for as long as the option exists.
    const cloc = loc.concat(name);
    const only = entries.length === 1 ? (entries[0] as { file: string; v: unknown }) : undefined;
    if (only && isOptionDeclaration(only.v)) {
      nodes[i] = makeOptNode(ev, cloc, new SingleDecl(only.v, only.file, cloc));
      continue;
    }
    const opts: { file: string; decl: OptionDeclaration }[] = [];
    const nss: { file: string; tree: Record<string, unknown> }[] = [];
    for (const e of entries) {
      if (isOptionDeclaration(e.v)) opts.push({ file: e.file, decl: e.v });
      else if (isAttrs(e.v)) nss.push({ file: e.file, tree: e.v });
      else {
        throw new ModuleError(
          "INVALID_MODULE",
          `The declaration of \`${showPath(cloc)}\` in ${e.file} is ${showValue(e.v)} (${kindOf(
            e.v,
          )}); expected \`mkOption({...})\` or an object of options.${isOptionType(e.v) ? " Wrap the type: `mkOption({ type })`." : ""}`,
          { optionPath: showPath(cloc), files: [e.file] },
        );
      }
    }
    if (opts.length > 0) {
      const decl = mergeDecls(cloc, opts);
      if (nss.length > 0) {
        if (!decl.type.extendModules) {
          throw new ModuleError(
            "DECLARATION_CONFLICT",
            `The option \`${showPath(cloc)}\` is declared as an option in ${showFiles(
              opts.map((o) => o.file),
            )} and as a set of options in ${showFiles(nss.map((n) => n.file))}; only submodule options can be extended that way.`,
            {
              optionPath: showPath(cloc),
              files: [...opts.map((o) => o.file), ...nss.map((n) => n.file)],
            },
          );
        }
        decl.type = decl.type.extendModules(
          nss.map(
            (n) =>
              ({ module: { options: n.tree } as Module, file: n.file }) satisfies SubmoduleModule,
          ),
        );
        decl.declarations = [...decl.declarations, ...nss.map((n) => n.file)];
      }
      nodes[i] = makeOptNode(ev, cloc, decl);
    } else {
      nodes[i] = buildNs(ev, cloc, rel.concat(name), nss);
    }
  }
  return ns;
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

function makeOptNode(ev: Evaluation, loc: string[], decl: MergedDecl): OptNode {
  const node = new OptNodeImpl(ev, loc, decl);
  return node as unknown as OptNode;
}

const NO_DEFS: RawDef[] = Object.freeze([]) as unknown as RawDef[];

/** An option of one evaluation; it is itself the memoized thunk of its value. */
class OptNodeImpl extends Thunk<unknown> {
  /** On the prototype, not in each of the (many) instances. */
  get kind(): "opt" {
    return "opt";
  }
  /** Shared empty list until the first definitions are adopted (assignDefs never pushes to it). */
  defs: RawDef[] = NO_DEFS;
  #info: Thunk<Merged> | undefined;
  #option: OptionInfo | undefined;
  constructor(
    readonly ev: Evaluation,
    override readonly loc: string[],
    readonly decl: MergedDecl,
  ) {
    super(loc);
  }

  /** The value thunk (this node). */
  get value(): Thunk<unknown> {
    return this;
  }

  protected override compute(): unknown {
    return this.computeValue();
  }

  /** The resolved definitions, memoized for the options API. */
  get info(): Thunk<Merged> {
    if (!this.#info) this.#info = new InfoThunk(this);
    return this.#info;
  }

  get option(): OptionInfo {
    if (!this.#option) this.#option = new OptionInfo(this);
    return this.#option;
  }

  override files(): string[] {
    return uniq(this.defs.length ? this.defs.map((d) => d.file) : this.decl.declarations);
  }

  guard(): void {
    if (!this.ev.defsComplete) {
      throw new ModuleError(
        "INFINITE_RECURSION",
        `The option \`${showPath(this.loc)}\` was read while definitions were being collected (in a module's \`config\` getter or shorthand); its value may depend on those definitions. Read it lazily: in a getter on a definition value, or in \`mkIf(() => ...)\`.`,
        { optionPath: showPath(this.loc), files: this.decl.declarations },
      );
    }
    if (this.ev.recording) {
      if (!this.ev.touched) this.ev.touched = new Set();
      this.ev.touched.add(this as unknown as OptNode);
    }
  }

  computeInfo(): Merged {
    this.guard();
    const decl = this.decl;
    const dd = decl.defaultDecl;
    if (!dd) return mergeDefinitions(this.loc, decl.type, this.defs);
    if (!decl.defaultIsGetter && dd.default === HOLE) {
      throw new ModuleError(
        "INVALID_MODULE",
        `The default of the option \`${showPath(this.loc)}\` in ${decl.defaultFile} reads config when its module is called; declarations are read before config exists. Compute it lazily: \`get default() { return config.… }\` (and set \`defaultText\` for the docs).`,
        { optionPath: showPath(this.loc), files: [decl.defaultFile as string] },
      );
    }
    return mergeDefinitions(
      this.loc,
      decl.type,
      this.defs,
      decl.defaultIsGetter
        ? { file: decl.defaultFile as string, get: () => dd.default }
        : { file: decl.defaultFile as string, value: dd.default },
    );
  }

  computeValue(): unknown {
    this.guard();
    const { decl, loc } = this;
    if (decl.removed !== undefined) throw removedError(loc, decl.removed, this.files());
    if (decl.alias && decl.apply) return decl.apply(undefined);
    // Inside this value's own thunk, so a cycle through mkIf conditions is still detected.
    const info = this.#info ? this.#info.force() : this.computeInfo();
    if (decl.readOnly && info.count > 1) {
      throw new ModuleError(
        "READ_ONLY",
        `The option \`${showPath(loc)}\` is read-only, but it is set ${info.count} times: ${info.all
          .map((d) => `${showValue(d.value)} in ${d.file}`)
          .join(", ")}.`,
        { optionPath: showPath(loc), files: info.all.map((d) => d.file) },
      );
    }
    if (!info.isDefined) {
      throw new ModuleError(
        "UNDEFINED_OPTION",
        `The option \`${showPath(loc)}\` is used but not defined (declared in ${showFiles(
          decl.declarations,
        )}); define it, or give its declaration a default.`,
        { optionPath: showPath(loc), files: decl.declarations },
      );
    }
    const v = info.value();
    // The resolved definitions are only needed again by the options API; recomputing them
    // there is cheaper than keeping them for every option of every submodule instance.
    this.#info?.reset();
    return decl.apply ? decl.apply(v) : v;
  }
}

class InfoThunk extends Thunk<Merged> {
  constructor(private readonly node: OptNodeImpl) {
    super(node.loc);
  }
  protected override compute(): Merged {
    return this.node.computeInfo();
  }
  override files(): string[] {
    return this.node.files();
  }
}

/**
 * One option in the `options` tree of an evaluation: its declaration (type, docs fields,
 * declaring files) and, read lazily, its definitions, winning priority and value.
 */
export class OptionInfo {
  readonly _type = "option";
  readonly loc: string[];
  readonly type: OptionType;
  readonly declarations: string[];
  readonly readOnly: boolean;
  readonly internal: boolean;
  readonly visible: boolean | "shallow";
  readonly description: string | undefined;
  readonly defaultText: string | undefined;
  readonly hasDefault: boolean;
  readonly hasExample: boolean;
  readonly example: unknown;
  readonly #node: OptNodeImpl;
  constructor(node: OptNodeImpl) {
    const d = node.decl;
    this.#node = node;
    this.loc = node.loc;
    this.type = d.type;
    this.declarations = d.declarations;
    this.readOnly = d.readOnly;
    this.internal = d.internal;
    this.visible = d.visible;
    this.description = d.description;
    this.defaultText = d.defaultText;
    this.hasDefault = d.defaultDecl !== undefined;
    this.hasExample = d.hasExample;
    this.example = d.example;
  }
  /** Full path, e.g. `services.api.port`. */
  get path(): string {
    return showPath(this.loc);
  }
  /** The declared default (not the merged value); `undefined` when there is none. */
  get default(): unknown {
    return this.#node.decl.defaultDecl?.default;
  }
  /** Values of the winning definitions. */
  get definitions(): unknown[] {
    return this.#node.info.force().defsFinal.map((x) => x.value);
  }
  /** The winning definitions with their files. */
  get definitionsWithLocations(): Definition[] {
    return this.#node.info.force().defsFinal;
  }
  /** Files that define the option (not counting the default). */
  get files(): string[] {
    return uniq(this.#node.defs.map((x) => x.file));
  }
  /** The winning priority (lower wins); `Infinity` when nothing defines it. */
  get highestPrio(): number {
    return this.#node.info.force().highestPrio;
  }
  /** Whether any definition (or the default) applies. */
  get isDefined(): boolean {
    return this.#node.info.force().isDefined;
  }
  /** The option's final value (same as reading it from `config`). */
  get value(): unknown {
    return this.#node.value.force();
  }
}

function removedError(loc: string[], instructions: string, files: string[]): ModuleError {
  return new ModuleError(
    "REMOVED_OPTION",
    `The option \`${showPath(loc)}\` can no longer be used since it has been removed${
      files.length ? ` (defined in ${showFiles(files)})` : ""
    }. ${instructions}`.trim(),
    { optionPath: showPath(loc), files },
  );
}

// ---------------------------------------------------------------------------------------------
// definitions

function assignDefs(ev: Evaluation, ns: NsNode, defs: RawDef[]): void {
  const byKey = new Map<string, RawDef[]>();
  for (const d of defs) {
    const v = forceStructure(d, ns.loc);
    pushDownAttrs(v, d.file, byKey, ns.loc, undefined, d.ord);
  }
  for (const [name, ds] of byKey) {
    const child = childOf(ns, name);
    if (child === undefined) {
      if (ev.freeform) {
        if (!ev.unmatched) ev.unmatched = [];
        for (const def of ds) ev.unmatched.push({ rel: ns.rel.concat(name), def });
        if (!ns.freeformKeys) ns.freeformKeys = new Set();
        ns.freeformKeys.add(name);
        continue;
      }
      throw undeclared(ev, [...ns.loc, name], ds);
    }
    if (child.kind === "opt") {
      if (child.decl.removed !== undefined) {
        throw removedError(child.loc, child.decl.removed, uniq(ds.map((x) => x.file)));
      }
      if (ev.late) {
        if (ev.touched?.has(child)) throw lateConflict(child, ds);
        if (!ev.resort) ev.resort = new Set();
        ev.resort.add(child);
      }
      // `ds` is this evaluation's own list: adopt it, trimmed (a list grown by push keeps a
      // backing store of 17 or more slots).
      if (child.defs.length === 0) child.defs = ds.length > 1 ? ds.slice() : ds;
      else for (const def of ds) child.defs.push(def);
    } else assignDefs(ev, child, ds);
  }
}

function lateConflict(node: OptNode, ds: RawDef[]): ModuleError {
  const files = uniq(ds.map((d) => d.file));
  return new ModuleError(
    "INFINITE_RECURSION",
    `The module in ${showFiles(files)} reads config when it is called and also defines \`${showPath(
      node.loc,
    )}\`, which that read depends on. Read config lazily instead: in a getter (\`get x() { return config.a }\`), or in \`mkIf(() => config.a, ...)\`.`,
    { optionPath: showPath(node.loc), files },
  );
}

function recallModule(ev: Evaluation, m: Loaded): RawDef | undefined {
  const r = m.recall as NonNullable<Loaded["recall"]>;
  let obj: unknown;
  try {
    obj = r.fn(ev.args);
  } catch (e) {
    if (e instanceof ModuleError) throw e;
    throw new ModuleError(
      "EVALUATION_ERROR",
      `The module function in ${m.file} threw: ${e instanceof Error ? e.message : String(e)}`,
      { files: [m.file], cause: e },
    );
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new ModuleError(
      "INVALID_MODULE",
      `The module function in ${m.file} returned ${showValue(obj)}, not a module object.`,
      {
        files: [m.file],
      },
    );
  }
  const o = obj as Record<string, unknown>;
  if (
    r.declsFailed &&
    (o.options !== undefined || (Array.isArray(o.imports) && o.imports.length > 0))
  ) {
    throw new ModuleError(
      "INFINITE_RECURSION",
      `The module in ${m.file} reads config when it is called in a way that fails before config exists, and it declares options or imports; its options and imports must not depend on config. Read config lazily (in a getter or \`mkIf(() => ...)\`).`,
      { files: [m.file] },
    );
  }
  return configDefOf(o, typeof o.file === "string" ? o.file : m.file);
}

function forceStructure(d: RawDef, loc: string[]): unknown {
  try {
    if (d.get !== undefined) {
      const g = d.get;
      d.get = undefined;
      d.value = g();
    }
    return d.value;
  } catch (e) {
    if (e instanceof ModuleError) throw e;
    throw new ModuleError(
      "EVALUATION_ERROR",
      `Error while evaluating the definitions of \`${showPath(loc)}\` in ${d.file}: ${
        e instanceof Error ? e.message : String(e)
      }`,
      { optionPath: showPath(loc), files: [d.file], cause: e },
    );
  }
}

function allPaths(ns: NsNode, out: string[]): string[] {
  for (const c of ns.nodes) {
    out.push(showPath(c.loc));
    if (c.kind === "ns") allPaths(c, out);
  }
  return out;
}

function undeclared(ev: Evaluation, loc: string[], defs: RawDef[]): ModuleError {
  const path = showPath(loc);
  const files = uniq(defs.map((d) => d.file));
  const guess = closest(path, allPaths(ev.root, []));
  return new ModuleError(
    "UNDECLARED_OPTION",
    `The option \`${path}\` does not exist (defined in ${showFiles(files)}).${guess ? ` Did you mean \`${guess}\`?` : ""}`,
    { optionPath: path, files },
  );
}

// ---------------------------------------------------------------------------------------------
// config objects

function buildConfig(ev: Evaluation, ns: NsNode): void {
  let allOptions = true;
  for (const child of ns.nodes) if (child.kind !== "opt") allOptions = false;
  if (allOptions) {
    // An option node is its own value thunk.
    defineThunksAt(ns.config, ns.names, ns.nodes as unknown as Thunk<unknown>[]);
    return;
  }
  for (let i = 0; i < ns.names.length; i++) {
    const name = ns.names[i] as string;
    const child = ns.nodes[i] as NsNode | OptNode;
    if (child.kind === "opt") {
      const th = child.value;
      Object.defineProperty(ns.config, name, {
        get: () => th.force(),
        enumerable: true,
        configurable: true,
      });
    } else {
      buildConfig(ev, child);
      Object.defineProperty(ns.config, name, {
        value: child.config,
        enumerable: true,
        writable: false,
        configurable: true,
      });
    }
  }
}

function addFreeformKeys(ev: Evaluation, ns: NsNode): void {
  if (ns.freeformKeys) {
    for (const name of ns.freeformKeys) {
      const rel = ns.rel.concat(name);
      Object.defineProperty(ns.config, name, {
        get: () => {
          let v = (ev.freeformValue as Thunk<unknown>).force();
          for (const k of rel) v = (v as Record<string, unknown> | undefined)?.[k];
          return v;
        },
        enumerable: true,
        configurable: true,
      });
    }
  }
  for (const c of ns.nodes) if (c.kind === "ns") addFreeformKeys(ev, c);
}

function nestDef(rel: string[], def: RawDef): RawDef {
  const last = rel[rel.length - 1] as string;
  let obj: Record<string, unknown> = {};
  if (def.get !== undefined) {
    const d = def;
    Object.defineProperty(obj, last, {
      get: () => forceStructure(d, rel),
      enumerable: true,
    });
  } else obj[last] = def.value;
  for (let i = rel.length - 2; i >= 0; i--) obj = { [rel[i] as string]: obj };
  return { file: def.file, value: obj };
}

/** @internal Evaluates modules; `declsOnly` skips definitions (for docs). */
export function evalCore(
  specs: ModuleSpec[],
  specialArgs: Record<string, unknown>,
  prefix: string[],
  declsOnly = false,
): { config: Record<string, unknown>; options: Record<string, unknown> } {
  const ev = new Evaluation(prefix, specialArgs);
  const mods = collect(ev, specs);
  for (const m of mods) {
    if (!m.freeformType) continue;
    if (!ev.freeform) ev.freeform = m.freeformType;
    else {
      const merged = ev.freeform.mergeType?.(m.freeformType);
      if (!merged) {
        throw new ModuleError(
          "DECLARATION_CONFLICT",
          `The freeformType of ${m.file} (\`${m.freeformType.description}\`) conflicts with another module's (\`${ev.freeform.description}\`).`,
          { files: [m.file] },
        );
      }
      ev.freeform = merged;
    }
  }
  ev.root = buildNs(
    ev,
    prefix,
    [],
    mods
      .filter((m) => m.options)
      .map((m) => ({ file: m.file, tree: m.options as Record<string, unknown> })),
  );
  buildConfig(ev, ev.root);
  ev.ready = true;
  if (declsOnly) {
    ev.defsComplete = true;
    return { config: ev.root.config, options: optionsOf(ev.root) };
  }
  const defs: RawDef[] = [];
  mods.forEach((m, i) => {
    if (m.config) {
      m.config.ord = i;
      defs.push(m.config);
    }
  });
  assignDefs(ev, ev.root, defs);
  const recalls = mods.filter((m) => m.recall);
  if (recalls.length > 0) {
    ev.defsComplete = true;
    ev.recording = true;
    try {
      const late: RawDef[] = [];
      for (const m of recalls) {
        const def = recallModule(ev, m);
        if (def) {
          def.ord = mods.indexOf(m);
          late.push(def);
        }
      }
      ev.late = true;
      assignDefs(ev, ev.root, late);
      for (const n of ev.resort ?? []) n.defs.sort((a, b) => (a.ord ?? 0) - (b.ord ?? 0));
    } finally {
      ev.recording = false;
      ev.late = false;
    }
  }
  if (ev.freeform && ev.unmatched && ev.unmatched.length > 0) {
    const ff = ev.freeform;
    const unmatched = ev.unmatched;
    ev.freeformValue = new FnThunk(
      prefix,
      () =>
        mergeDefinitions(
          prefix,
          ff,
          unmatched.map((u) => nestDef(u.rel, u.def)),
        ).value(),
      () => uniq(unmatched.map((u) => u.def.file)),
    );
    addFreeformKeys(ev, ev.root);
  }
  ev.defsComplete = true;
  ev.release();
  const root = ev.root;
  return {
    config: root.config,
    get options() {
      return optionsOf(root);
    },
  };
}

/**
 * Evaluates a list of modules into `{ config, options }` with NixOS module semantics.
 * `config` is lazy: each option is computed on first read (use {@link forceDeep} to force all).
 * Throws {@link ModuleError} for undeclared options and malformed modules right away; value
 * errors (types, conflicts, cycles) surface when the value is read.
 */
// biome-ignore lint/suspicious/noExplicitAny: untyped callers get an untyped config, as in the contract
export function evalModules<C = any>(args: EvalModulesArgs): { config: C; options: any } {
  if (!args || !Array.isArray(args.modules)) {
    throw new ModuleError("INVALID_MODULE", "evalModules needs `{ modules: [...] }`.");
  }
  const r = evalCore(
    args.modules.map((m) => ({ module: m })),
    args.specialArgs ?? {},
    args.prefix ?? [],
  );
  return { config: r.config as C, options: r.options };
}

/** @internal The value of a submodule option: a nested evaluation with the definitions as modules. */
export function evalSubmodule(
  modules: SubmoduleModule[],
  specialArgs: Record<string, unknown>,
  shorthandOnlyDefinesConfig: boolean,
  loc: string[],
  defs: Definition[],
): Record<string, unknown> {
  const specs: ModuleSpec[] = modules.map((m) => ({ module: m.module, file: m.file }));
  for (const d of defs) {
    if (shorthandOnlyDefinesConfig && isAttrs(d.value))
      specs.push({ module: { config: d.value }, file: d.file });
    else specs.push({ module: d.value, file: d.file });
  }
  return evalCore(specs, { ...specialArgs, name: loc[loc.length - 1] }, loc).config;
}

/** @internal The options tree of a submodule type, for docs and schemas. */
export function subOptionsOf(
  modules: SubmoduleModule[],
  specialArgs: Record<string, unknown>,
  loc: string[],
): Record<string, unknown> {
  return evalCore(
    modules.map((m) => ({ module: m.module, file: m.file })),
    { ...specialArgs, name: loc[loc.length - 1] ?? "<name>" },
    loc,
    true,
  ).options;
}
