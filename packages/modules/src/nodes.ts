/**
 * The option tree of one evaluation: namespaces, options (each its own memoized value thunk),
 * the `options` objects users read, and the lazy `config` objects.
 */
import {
  ALIAS,
  type DeclEntry,
  DeclList,
  declaredType,
  defaultOf,
  type MergedDecl,
  type NestEntry,
  REMOVED,
} from "./decls.js";
import { kindOf, ModuleError, pathTo, showFiles, showPath, showValue } from "./errors.js";
import {
  defineThunksAt,
  internNames,
  isAttrs,
  type Merged,
  mergeDefinitions,
  NOT_SIMPLE,
  plainMergedValue,
  type RawDef,
  singleSimpleValue,
  Thunk,
} from "./merge.js";
import { declaredField, declares, isOptionDeclaration, type OptionDeclaration } from "./option.js";
import { DEFAULT_ORDER, DEFAULT_PRIORITY, isProperty } from "./props.js";
import { type Definition, isOptionType, type OptionType, types } from "./types.js";

/** What option nodes need from their evaluation. */
export interface NodeHost {
  defsComplete: boolean;
  recording: boolean;
  touched: Set<OptNode> | undefined;
}

export interface NsNode {
  kind: "ns";
  /** The evaluation (read by its options through the namespace: one field fewer in each). */
  ev: NodeHost;
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

export type OptNode = OptNodeImpl;

const LINEAR_LOOKUP_MAX = 16;

export function childOf(ns: NsNode, name: string): NsNode | OptNode | undefined {
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

/** The `options` object of a namespace: option records and nested namespaces. */
export function optionsOf(ns: NsNode): Record<string, unknown> {
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

export function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

type Entry = { file: string; v: unknown };

function notADeclaration(loc: string[], e: Entry): ModuleError {
  const tag = isAttrs(e.v) ? (e.v as { _type?: unknown })._type : undefined;
  const got =
    typeof tag === "string"
      ? `an object of type "${tag}"`
      : `${showValue(e.v)} (${kindOf(e.v)})${isOptionType(e.v) ? ", an option type" : ""}`;
  return new ModuleError(
    "INVALID_MODULE",
    `The declaration of \`${showPath(loc)}\` in ${e.file} is ${got}; expected \`mkOption({...})\` or an object of options.${
      isOptionType(e.v) ? " Wrap the type: `mkOption({ type })`." : ""
    }`,
    { optionPath: showPath(loc), files: [e.file] },
  );
}

function isOptionSet(v: unknown): v is Record<string, unknown> {
  return isAttrs(v) && typeof (v as { _type?: unknown })._type !== "string";
}

/**
 * What building a namespace computes from the option trees alone (which names, which are options
 * declared once, declared several times, or sets of options): the same for every instance of a
 * submodule, so a submodule template keeps it (see `evalFromTemplate`).
 */
export interface NsPlan {
  /** Shared by every instance (see `internNames`). */
  names: string[];
  kids: PlanKid[];
}

type PlanKid =
  | { kind: "one"; file: string; decl: OptionDeclaration }
  | { kind: "list"; opts: DeclEntry[]; nss: NestEntry[] }
  | { kind: "ns"; plan: NsPlan };

/** The plan of the namespace at `loc` from the option trees of every module (`sets`). */
export function planNs(
  loc: string[],
  sets: { file: string; tree: Record<string, unknown> }[],
): NsPlan {
  if (sets.length === 1)
    return planOneSet(loc, sets[0] as { file: string; tree: Record<string, unknown> });
  const collected: string[] = [];
  const byName = new Map<string, Entry[]>();
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
  const kids: PlanKid[] = new Array(names.length);
  for (let i = 0; i < names.length; i++) {
    const entries = byName.get(names[i] as string) as Entry[];
    const only = entries.length === 1 ? (entries[0] as Entry) : undefined;
    if (only && isOptionDeclaration(only.v)) {
      kids[i] = { kind: "one", file: only.file, decl: only.v };
      continue;
    }
    const cloc = pathTo(loc, names[i] as string);
    const opts: DeclEntry[] = [];
    const nss: NestEntry[] = [];
    for (const e of entries) {
      if (isOptionDeclaration(e.v)) opts.push({ file: e.file, decl: e.v });
      else if (isOptionSet(e.v)) nss.push({ file: e.file, tree: e.v });
      else throw notADeclaration(cloc, e);
    }
    kids[i] =
      opts.length > 0 ? { kind: "list", opts, nss } : { kind: "ns", plan: planNs(cloc, nss) };
  }
  return { names, kids };
}

/**
 * {@link planNs} of the options of one module (a submodule declared by one function, planned
 * again for every instance): no grouping of names by module needed.
 */
function planOneSet(loc: string[], set: { file: string; tree: Record<string, unknown> }): NsPlan {
  const { file, tree } = set;
  const names = internNames(Object.keys(tree));
  const kids: PlanKid[] = new Array(names.length);
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const v = tree[name];
    if (isOptionDeclaration(v)) kids[i] = { kind: "one", file, decl: v };
    else if (isOptionSet(v))
      kids[i] = { kind: "ns", plan: planOneSet(pathTo(loc, name), { file, tree: v }) };
    else throw notADeclaration(pathTo(loc, name), { file, v });
  }
  return { names, kids };
}

/** The namespace at `loc` of one evaluation, from its plan. */
export function instantiateNs(ev: NodeHost, loc: string[], rel: string[], plan: NsPlan): NsNode {
  const { names, kids } = plan;
  const nodes: (NsNode | OptNode)[] = new Array(names.length);
  const ns: NsNode = { kind: "ns", ev, loc, rel, names, nodes, config: {} };
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const kid = kids[i] as PlanKid;
    if (kid.kind === "one") {
      // The option's path is built when needed from this namespace's: one array per option of
      // every submodule instance was the largest part of what an instance keeps.
      nodes[i] = new SingleOptNode(ns, name, kid.decl, kid.file);
      continue;
    }
    // Exact size, not `[...loc, name]`: the spread grows its result by a push, which leaves a
    // backing store several times larger, kept for as long as the namespace exists.
    const cloc = pathTo(loc, name);
    if (kid.kind === "list") {
      // Copies: a module called again replaces its entries' declarations in place.
      const opts = kid.opts.map((o) => ({ file: o.file, decl: o.decl }));
      const nss = kid.nss.map((n) => ({ file: n.file, tree: n.tree }));
      nodes[i] = new MultiOptNode(ns, name, new DeclList(cloc, opts, nss));
    } else nodes[i] = instantiateNs(ev, cloc, pathTo(rel, name), kid.plan);
  }
  return ns;
}

/** Builds the namespace at `loc` from the option trees of every module (`sets`). */
export function buildNs(
  ev: NodeHost,
  loc: string[],
  rel: string[],
  sets: { file: string; tree: Record<string, unknown> }[],
): NsNode {
  if (sets.length === 1) {
    const only = sets[0] as { file: string; tree: Record<string, unknown> };
    return buildOneSet(ev, loc, rel, only.file, only.tree);
  }
  return instantiateNs(ev, loc, rel, planNs(loc, sets));
}

/**
 * {@link buildNs} of the options of one module (each instance of a submodule declared by one
 * function): the namespace {@link planOneSet} and {@link instantiateNs} make, without the plan
 * that nothing else would use.
 */
function buildOneSet(
  ev: NodeHost,
  loc: string[],
  rel: string[],
  file: string,
  tree: Record<string, unknown>,
): NsNode {
  const names = internNames(Object.keys(tree));
  const nodes: (NsNode | OptNode)[] = new Array(names.length);
  const ns: NsNode = { kind: "ns", ev, loc, rel, names, nodes, config: {} };
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const v = tree[name];
    if (isOptionDeclaration(v)) nodes[i] = new SingleOptNode(ns, name, v, file);
    else if (isOptionSet(v))
      nodes[i] = buildOneSet(ev, pathTo(loc, name), pathTo(rel, name), file, v);
    else throw notADeclaration(pathTo(loc, name), { file, v });
  }
  return ns;
}

/** @internal Key of an option's definitions as written, on {@link OptionInfo}. */
export const RAW_DEFINITIONS: unique symbol = Symbol("nix2dream.modules.rawDefinitions");

const NO_DEFS: RawDef[] = Object.freeze([]) as unknown as RawDef[];

/**
 * An option of one evaluation; it is itself the memoized thunk of its value. Declared once
 * (almost every option) it is a {@link SingleOptNode}, else a {@link MultiOptNode}.
 */
export abstract class OptNodeImpl extends Thunk<unknown> {
  /** On the prototype, not in each of the (many) instances. */
  get kind(): "opt" {
    return "opt";
  }
  /** The definitions; one is kept without a list of its own (most options have one). */
  #defs: RawDef | RawDef[] = NO_DEFS;
  /** What the options API makes on first use (rarely: one field for both). */
  #aux: { info: Thunk<Merged> | undefined; option: OptionInfo | undefined } | undefined;
  constructor(
    /** The namespace holding the option: its path and evaluation (shared by its options). */
    private readonly ns: NsNode,
    readonly name: string,
  ) {
    super();
  }

  get ev(): NodeHost {
    return this.ns.ev;
  }

  /**
   * The definitions as written (a new list on each read of a single one: do not add to it,
   * assign a new list).
   */
  get defs(): RawDef[] {
    const d = this.#defs;
    return Array.isArray(d) ? d : [d];
  }
  set defs(list: RawDef[]) {
    this.#defs = list.length === 1 ? (list[0] as RawDef) : list;
  }

  /** Adds a definition after the others (while definitions are assigned). */
  addDef(def: RawDef): void {
    const d = this.#defs;
    if (d === NO_DEFS) this.#defs = def;
    else if (!Array.isArray(d)) this.#defs = [d, def];
    else this.#defs = d.concat(def);
  }

  /** The option's path (a new array on each read; see `instantiateNs`). */
  get loc(): string[] {
    return pathTo(this.ns.loc, this.name);
  }

  override key(): string {
    return this.name;
  }

  /** The merged declaration; merging fails here, when the option is used, not before. */
  abstract get decl(): MergedDecl;

  /** The declaring files, without merging the declarations. */
  abstract get declarationFiles(): string[];

  /** Swaps in the declaration of a module's second call (see {@link replaceDeclaration}). */
  protected abstract replaceSource(old: object, next: object): void;

  /**
   * Replaces a declaration (`old`, an option declaration or a set of options under this option)
   * by the same module's second call (`next`), unless the option has been used already.
   */
  replaceDeclaration(old: object, next: object): void {
    // Its value or definitions were computed with the first declaration: keep it. (An `options`
    // record alone reads nothing of the declaration until one of its fields is read.)
    if (this.started || this.#aux?.info) return;
    this.replaceSource(old, next);
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
    this.#aux ??= { info: undefined, option: undefined };
    if (!this.#aux.info) this.#aux.info = new InfoThunk(this);
    return this.#aux.info;
  }

  /**
   * The winning definitions, as `info.force().defsFinal` gives them, without resolving them
   * when every definition is a plain value (no property, no getter) and so is the default, if
   * any: they all win then, at the plain priority, in their order.
   */
  winningDefs(): Definition[] {
    const plain = this.#aux?.info?.done ? undefined : this.plainWinners();
    return plain ?? this.info.force().defsFinal;
  }

  private plainWinners(): Definition[] | undefined {
    const defs = this.defs;
    if (defs.length === 0) return undefined;
    for (const d of defs) if (d.get !== undefined || isProperty(d.value)) return undefined;
    const dd = this.decl.defaultDecl;
    if (dd) {
      // The caller's field: `mkOption`'s declaration reads it through a getter of its own.
      const p = declaredField(dd, "default");
      const v: unknown = p?.value;
      if (p === undefined || p.get !== undefined || typeof v === "function" || isProperty(v))
        return undefined;
    }
    this.guard();
    const out: Definition[] = new Array(defs.length);
    for (let i = 0; i < defs.length; i++) {
      const d = defs[i] as RawDef;
      // The fields `mergeDefinitions` gives each of them.
      const w = { file: d.file, value: d.value, priority: DEFAULT_PRIORITY, order: DEFAULT_ORDER };
      out[i] = w;
    }
    return out;
  }

  get option(): OptionInfo {
    this.#aux ??= { info: undefined, option: undefined };
    if (!this.#aux.option) this.#aux.option = new OptionInfo(this);
    return this.#aux.option;
  }

  override files(): string[] {
    return uniq(this.defs.length ? this.defs.map((d) => d.file) : this.declarationFiles);
  }

  guard(): void {
    const ev = this.ns.ev;
    if (!ev.defsComplete) {
      throw new ModuleError(
        "INFINITE_RECURSION",
        `The option \`${showPath(this.loc)}\` was read while definitions were being collected (in a module's \`config\` getter or shorthand); its value may depend on those definitions. Read it lazily: in a getter on a definition value, or in \`mkIf(() => ...)\`.`,
        { optionPath: showPath(this.loc), files: this.declarationFiles },
      );
    }
    if (ev.recording) {
      if (!ev.touched) ev.touched = new Set();
      ev.touched.add(this);
    }
  }

  /**
   * The resolved definitions. `forcedDefault`: the declaration's default when the caller has
   * read it already (it is read once, as a getter may be costly).
   */
  computeInfo(forcedDefault?: { value: unknown }): Merged {
    this.guard();
    const decl = this.decl;
    const dd = decl.defaultDecl;
    if (!dd) return mergeDefinitions(this.loc, decl.type, this.defs);
    const file = decl.defaultFile as string;
    const loc = this.loc;
    return mergeDefinitions(
      loc,
      decl.type,
      this.defs,
      forcedDefault
        ? { file, value: forcedDefault.value }
        : { file, get: () => defaultOf(loc, file, dd) },
    );
  }

  computeValue(): unknown {
    this.guard();
    const decl = this.decl;
    if (decl.removed !== undefined) throw removedError(this.loc, decl.removed, this.files());
    if (decl.alias && decl.apply) return decl.apply(undefined);
    // Inside this value's own thunk, so a cycle through mkIf conditions is still detected.
    let info: Merged;
    const kept = this.#aux?.info;
    if (kept) info = kept.force();
    else {
      // Most options: plain definitions (one winner for a simple type), no `Merged` record needed.
      // The type first (read before the default, as `mergeDefinitions` would).
      const type = decl.type;
      const dd = decl.defaultDecl;
      const dflt = dd ? defaultOf(this, decl.defaultFile as string, dd) : undefined;
      const v = type.simple
        ? singleSimpleValue(type, this.#defs, decl.readOnly, dd !== undefined, dflt)
        : plainMergedValue(this, type, this.#defs, decl.readOnly, dd !== undefined, dflt);
      if (v !== NOT_SIMPLE) return decl.apply ? decl.apply(v) : v;
      info = this.computeInfo(dd ? { value: dflt } : undefined);
    }
    const loc = this.loc;
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
    this.#aux?.info?.reset();
    return decl.apply ? decl.apply(v) : v;
  }
}

/**
 * An option declared once: its merged declaration is read from the declaration itself (the
 * node is its own {@link MergedDecl}), not copied, since one is kept for every option of every
 * submodule instance. Its type is read on first use.
 */
class SingleOptNode extends OptNodeImpl implements MergedDecl {
  #type: OptionType | undefined;
  constructor(
    ns: NsNode,
    name: string,
    /** The declaration (replaced by a module's second call while the option is unused). */
    private source: OptionDeclaration,
    private readonly file: string,
  ) {
    super(ns, name);
  }
  get decl(): MergedDecl {
    return this;
  }
  get declarationFiles(): string[] {
    return [this.file];
  }
  protected replaceSource(old: object, next: object): void {
    if (this.source === old) {
      this.source = next as OptionDeclaration;
      this.#type = undefined;
    }
  }
  get type(): OptionType {
    if (this.#type === undefined)
      this.#type = declaredType(this, this.file, this.source) ?? types.unspecified;
    return this.#type;
  }
  get declarations(): string[] {
    return [this.file];
  }
  get defaultFile(): string | undefined {
    return declares(this.source, "default") ? this.file : undefined;
  }
  get defaultDecl(): OptionDeclaration | undefined {
    return declares(this.source, "default") ? this.source : undefined;
  }
  get defaultText(): string | undefined {
    return this.source.defaultText;
  }
  get example(): unknown {
    return declares(this.source, "example") ? this.source.example : undefined;
  }
  get hasExample(): boolean {
    return declares(this.source, "example");
  }
  get description(): string | undefined {
    return this.source.description;
  }
  get readOnly(): boolean {
    return Boolean(this.source.readOnly);
  }
  get apply(): ((v: unknown) => unknown) | undefined {
    return this.source.apply as ((v: unknown) => unknown) | undefined;
  }
  get internal(): boolean {
    return Boolean(this.source.internal);
  }
  get visible(): boolean | "shallow" {
    const v = this.source.visible;
    return v === false ? false : v === "shallow" ? "shallow" : true;
  }
  get removed(): string | undefined {
    const r = (this.source as unknown as Record<symbol, unknown>)[REMOVED];
    return typeof r === "string" ? r : undefined;
  }
  get alias(): boolean {
    return (this.source as unknown as Record<symbol, unknown>)[ALIAS] === true;
  }
}

/** An option declared several times, or extended by options declared under it. */
class MultiOptNode extends OptNodeImpl {
  constructor(
    ns: NsNode,
    name: string,
    private readonly src: DeclList,
  ) {
    super(ns, name);
  }
  get decl(): MergedDecl {
    return this.src.merged;
  }
  get declarationFiles(): string[] {
    return this.src.files;
  }
  protected replaceSource(old: object, next: object): void {
    this.src.replace(old, next);
  }
}

class InfoThunk extends Thunk<Merged> {
  constructor(private readonly node: OptNodeImpl) {
    super();
  }
  get loc(): string[] {
    return this.node.loc;
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
 * declaring files) and its definitions, winning priority and value — each read lazily, so
 * reading one field of an option never touches another option.
 */
export class OptionInfo {
  readonly _type = "option";
  /** @internal The definitions as written (properties not discharged), not counting the default. */
  get [RAW_DEFINITIONS](): readonly RawDef[] {
    return this.#node.defs;
  }
  readonly loc: string[];
  readonly #node: OptNodeImpl;
  constructor(node: OptNodeImpl) {
    this.#node = node;
    this.loc = node.loc;
  }
  /** Full path, e.g. `services.api.port`. */
  get path(): string {
    return showPath(this.loc);
  }
  get type(): OptionType {
    return this.#node.decl.type;
  }
  get declarations(): string[] {
    return this.#node.decl.declarations;
  }
  get readOnly(): boolean {
    return this.#node.decl.readOnly;
  }
  get internal(): boolean {
    return this.#node.decl.internal;
  }
  get visible(): boolean | "shallow" {
    return this.#node.decl.visible;
  }
  get description(): string | undefined {
    return this.#node.decl.description;
  }
  get defaultText(): string | undefined {
    return this.#node.decl.defaultText;
  }
  get hasDefault(): boolean {
    return this.#node.decl.defaultDecl !== undefined;
  }
  get hasExample(): boolean {
    return this.#node.decl.hasExample;
  }
  get example(): unknown {
    return this.#node.decl.example;
  }
  /** The declared default (not the merged value); `undefined` when there is none. */
  get default(): unknown {
    return this.#node.decl.defaultDecl?.default;
  }
  /** Values of the winning definitions (the default among them when it wins). */
  get definitions(): unknown[] {
    return this.#node.info.force().defsFinal.map((x) => x.value);
  }
  /** The winning definitions with their files. */
  get definitionsWithLocations(): Definition[] {
    return this.#node.winningDefs();
  }
  /** The files of the winning definitions (as NixOS: after priorities; the declaring file when the default wins). */
  get files(): string[] {
    return uniq(this.#node.info.force().defsFinal.map((x) => x.file));
  }
  /**
   * Every file with a definition of the option, winning or not, not counting the declaration's
   * default (what `files` listed before it followed NixOS).
   */
  get definitionFiles(): string[] {
    return uniq(this.#node.defs.map((d) => d.file));
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

export function removedError(loc: string[], instructions: string, files: string[]): ModuleError {
  return new ModuleError(
    "REMOVED_OPTION",
    `The option \`${showPath(loc)}\` can no longer be used since it has been removed${
      files.length ? ` (defined in ${showFiles(files)})` : ""
    }. ${instructions}`.trim(),
    { optionPath: showPath(loc), files },
  );
}

/** Defines the lazy config properties of a namespace and of every namespace under it. */
export function buildConfig(ns: NsNode): void {
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
      buildConfig(child);
      Object.defineProperty(ns.config, name, {
        value: child.config,
        enumerable: true,
        writable: false,
        configurable: true,
      });
    }
  }
}
