/**
 * The evaluation core shared by option values and lazy attribute values: definitions,
 * property discharge, priorities, ordering, memoized thunks with cycle detection.
 */
import { kindOf, ModuleError, pathTo, showFiles, showPath, showValue } from "./errors.js";
import {
  DEFAULT_ORDER,
  DEFAULT_PRIORITY,
  isProperty,
  mkIf,
  mkOrder,
  mkOverride,
  OPTION_DEFAULT_PRIORITY,
  PROP,
  type Property,
} from "./props.js";
import { type Definition, type OptionType, typeMismatch } from "./types.js";

/** A definition whose value may still be a thunk (a getter in the defining object). */
export interface RawDef {
  file: string;
  /** Position of the defining module, to keep definition order for late definitions. */
  ord?: number;
  value?: unknown;
  get?: (() => unknown) | undefined;
}

/** True for plain objects (attribute sets); not arrays, properties or class instances. */
export function isAttrs(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && !(PROP in v);
}

export function forceRaw(d: RawDef): unknown {
  if (d.get !== undefined) {
    const g = d.get;
    d.get = undefined;
    d.value = g();
  }
  return d.value;
}

/**
 * Splits an attribute-set definition (possibly wrapped in properties) into per-key
 * definitions, pushing `mkIf`/`mkOverride`/`mkOrder` down onto each key without evaluating
 * conditions, and keeping getters lazy.
 */
export function pushDownAttrs(
  value: unknown,
  file: string,
  byKey: Map<string, RawDef[]>,
  loc: readonly string[],
  wrap?: (v: unknown) => unknown,
  ord?: number,
): void {
  if (isProperty(value)) {
    const p = value as Property;
    switch (p[PROP]) {
      case "merge":
        for (const c of p.contents) pushDownAttrs(c, file, byKey, loc, wrap, ord);
        return;
      case "if": {
        const cond = p.condition;
        pushDownAttrs(p.content, file, byKey, loc, (v) =>
          wrap ? wrap(mkIf(cond, v)) : mkIf(cond, v),
        );
        return;
      }
      case "override": {
        const prio = p.priority;
        pushDownAttrs(
          p.content,
          file,
          byKey,
          loc,
          (v) => (wrap ? wrap(mkOverride(prio, v)) : mkOverride(prio, v)),
          ord,
        );
        return;
      }
      case "order": {
        const prio = p.priority;
        pushDownAttrs(p.content, file, byKey, loc, (v) =>
          wrap ? wrap(mkOrder(prio, v)) : mkOrder(prio, v),
        );
        return;
      }
      case "located":
        pushDownAttrs(p.content, p.file, byKey, loc, wrap, ord);
        return;
    }
  }
  if (!isAttrs(value)) {
    throw new ModuleError(
      "TYPE_MISMATCH",
      `The option \`${showPath(loc)}\` is a set of options, but ${file} defines it as ${showValue(value)} (${kindOf(
        value,
      )}); expected an attribute set.`,
      { optionPath: showPath(loc), files: [file] },
    );
  }
  for (const key of Object.keys(value)) {
    const desc = Object.getOwnPropertyDescriptor(value, key) as PropertyDescriptor;
    // One object shape for every definition (value or getter), for monomorphic access.
    let def: RawDef;
    if (desc.get) {
      const g = desc.get;
      def = {
        file,
        value: undefined,
        get: wrap ? () => wrap(g.call(value)) : () => g.call(value),
        ord,
      };
    } else {
      def = { file, value: wrap ? wrap(desc.value) : desc.value, get: undefined, ord };
    }
    const list = byKey.get(key);
    if (list) list.push(def);
    else byKey.set(key, [def]);
  }
}

interface Prioritized extends Definition {
  priority: number;
  order: number;
}

function discharge(
  loc: readonly string[],
  value: unknown,
  file: string,
  priority: number,
  order: number,
  out: Prioritized[],
): void {
  if (!isProperty(value)) {
    out.push({ file, value, priority, order });
    return;
  }
  const p = value as Property;
  switch (p[PROP]) {
    case "merge":
      for (const c of p.contents) discharge(loc, c, file, priority, order, out);
      return;
    case "if": {
      const c = typeof p.condition === "function" ? p.condition() : p.condition;
      if (typeof c !== "boolean") {
        throw new ModuleError(
          "INVALID_CONDITION",
          `The condition of an mkIf for the option \`${showPath(loc)}\` in ${file} is not a boolean: got ${showValue(
            c,
          )} (${kindOf(c)}).`,
          { optionPath: showPath(loc), files: [file] },
        );
      }
      if (c) discharge(loc, p.content, file, priority, order, out);
      return;
    }
    case "override":
      discharge(loc, p.content, file, p.priority, order, out);
      return;
    case "order":
      discharge(loc, p.content, file, priority, p.priority, out);
      return;
    case "located":
      discharge(loc, p.content, p.file, priority, order, out);
      return;
  }
}

/** Answered by {@link singleSimpleValue} when the general path (`mergeDefinitions`) is needed. */
export const NOT_SIMPLE: unique symbol = Symbol("nix2dream.modules.notSimple");

// The content of the last value `plainPriority` accepted: a module-level slot, so classifying a
// definition allocates nothing.
let plainContent: unknown;

/**
 * The priority of a definition value that is plain, or one `mkOverride`/`mkOrder` around a plain
 * value (its content is then in `plainContent`); -1 for anything else (mkIf, mkMerge, nesting).
 */
function plainPriority(v: unknown, base: number): number {
  if (!isProperty(v)) {
    plainContent = v;
    return base;
  }
  const p = v as Property;
  const kind = p[PROP];
  if (kind !== "override" && kind !== "order") return -1;
  if (isProperty(p.content)) return -1;
  plainContent = p.content;
  return kind === "override" ? p.priority : base;
}

/**
 * The value of an option of a `simple` type whose definitions (the default, when `hasDefault`,
 * already forced into `defaultValue`) have exactly one winner, found without building the
 * {@link Merged} record that most options of most submodule instances never need again.
 * {@link NOT_SIMPLE} whenever anything else applies (mkIf, mkMerge, a tie, no definition, a value
 * the type rejects, a read-only option set more than once): `mergeDefinitions` then gives the
 * result or the error, the same as it would have.
 */
export function singleSimpleValue(
  type: OptionType,
  defs: readonly RawDef[] | RawDef,
  readOnly: boolean,
  hasDefault: boolean,
  defaultValue: unknown,
): unknown {
  let best: unknown;
  let bestPrio = Number.POSITIVE_INFINITY;
  let atBest = 0;
  if (hasDefault) {
    bestPrio = plainPriority(defaultValue, OPTION_DEFAULT_PRIORITY);
    if (bestPrio < 0) return NOT_SIMPLE;
    best = plainContent;
    atBest = 1;
  }
  // One definition is passed as it is kept, without a list (see `OptNodeImpl.defs`).
  const one = !Array.isArray(defs);
  const n = one ? 1 : defs.length;
  for (let i = 0; i < n; i++) {
    const d = one ? (defs as RawDef) : ((defs as readonly RawDef[])[i] as RawDef);
    const prio = plainPriority(forceRaw(d), DEFAULT_PRIORITY);
    if (prio < 0) return NOT_SIMPLE;
    if (prio < bestPrio) {
      bestPrio = prio;
      best = plainContent;
      atBest = 1;
    } else if (prio === bestPrio) atBest++;
  }
  plainContent = undefined;
  if (atBest !== 1) return NOT_SIMPLE;
  if (readOnly && n + (hasDefault ? 1 : 0) > 1) return NOT_SIMPLE;
  return type.check(best) ? best : NOT_SIMPLE;
}

/**
 * The value of an option of a type that is not `simple` (lists, attribute sets, submodules...)
 * whose definitions, at least one, are each a plain value or one `mkOverride`/`mkOrder` around
 * one, and win over the default (forced already into `defaultValue`, which must be plain): what
 * `mergeDefinitions(...).value()` gives, without the {@link Merged} record and the default's
 * definition that most options of most submodule instances never need again.
 * {@link NOT_SIMPLE} whenever anything else applies (mkIf, mkMerge, a read-only option, a value
 * the type rejects, the default winning or tying): `mergeDefinitions` then gives the result or
 * the error, the same as it would have.
 */
export function plainMergedValue(
  at: { readonly loc: string[] },
  type: OptionType,
  defs: readonly RawDef[] | RawDef,
  readOnly: boolean,
  hasDefault: boolean,
  defaultValue: unknown,
): unknown {
  if (readOnly || (hasDefault && isProperty(defaultValue))) return NOT_SIMPLE;
  // One definition is passed as it is kept, without a list (see `OptNodeImpl.defs`).
  const one = !Array.isArray(defs);
  const n = one ? 1 : defs.length;
  if (n === 0) return NOT_SIMPLE;
  // The fields and order `discharge` gives each definition.
  let final: Prioritized[] = new Array(n);
  let highest = Number.POSITIVE_INFINITY;
  let samePriority = true;
  let sameOrder = true;
  for (let i = 0; i < n; i++) {
    const d = one ? (defs as RawDef) : ((defs as readonly RawDef[])[i] as RawDef);
    let value = forceRaw(d);
    let priority = DEFAULT_PRIORITY;
    let order = DEFAULT_ORDER;
    if (isProperty(value)) {
      const p = value as Property;
      const kind = p[PROP];
      if ((kind !== "override" && kind !== "order") || isProperty(p.content)) return NOT_SIMPLE;
      value = p.content;
      if (kind === "override") priority = p.priority;
      else order = p.priority;
    }
    if (i > 0 && priority !== highest) samePriority = false;
    if (priority < highest) highest = priority;
    if (order !== DEFAULT_ORDER) sameOrder = false;
    final[i] = { file: d.file, value, priority, order };
  }
  if (hasDefault && highest >= OPTION_DEFAULT_PRIORITY) return NOT_SIMPLE;
  if (!samePriority) final = atPriority(final, highest);
  if (!sameOrder) final.sort(byOrder);
  for (let i = 0; i < final.length; i++)
    if (!type.check((final[i] as Prioritized).value)) return NOT_SIMPLE;
  const loc = at.loc;
  if (final.length === 1) return type.merge(loc, final);
  try {
    return type.merge(loc, final);
  } catch (e) {
    throw withPriority(e, loc, highest);
  }
}

/**
 * Whether every definition is a plain value (or one `mkOverride`/`mkOrder` around one) that is
 * already known: no getter to force, no `mkIf` or `mkMerge`. Such definitions always define
 * their option, so nothing about them needs resolving before the value is read.
 */
export function allPlainDefs(defs: readonly RawDef[]): boolean {
  for (let i = 0; i < defs.length; i++) {
    const d = defs[i] as RawDef;
    if (d.get !== undefined || plainPriority(d.value, DEFAULT_PRIORITY) < 0) {
      plainContent = undefined;
      return false;
    }
  }
  plainContent = undefined;
  return true;
}

/** How deep {@link isPlainData} looks before it gives up (answering false). */
const PLAIN_DEPTH = 8;

/**
 * @internal Whether `v` is a primitive, or a list or object (of the ordinary prototypes) whose own
 * properties are data (no getter or setter) holding plain data in turn, at most
 * {@link PLAIN_DEPTH} levels deep: values such as `mkDefault("x")` or `{ port: 80 }`, which no
 * merge can make read another option. Functions, symbols and class instances are not.
 */
export function isPlainData(v: unknown, depth: number): boolean {
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean")
    return true;
  if (typeof v !== "object" || depth >= PLAIN_DEPTH) return false;
  const proto = Object.getPrototypeOf(v);
  if (Array.isArray(v)) {
    if (proto !== Array.prototype) return false;
    // A hole reads as undefined, which is not plain data.
    for (let i = 0; i < v.length; i++) if (!isPlainData(v[i], depth + 1)) return false;
    return true;
  }
  // Symbol keys are left out: no merge reads them.
  if (proto !== Object.prototype && proto !== null) return false;
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const p = Object.getOwnPropertyDescriptor(o, k);
    if (p === undefined || p.get !== undefined || p.set !== undefined) return false;
    if (!isPlainData(p.value, depth + 1)) return false;
  }
  return true;
}

/** The result of resolving one option's definitions. */
export interface Merged {
  /** Whether any definition survived `mkIf` and priorities. */
  isDefined: boolean;
  /** The winning (lowest) priority; `Infinity` when undefined. */
  highestPrio: number;
  /** Definitions at the winning priority, sorted by `mkOrder`. */
  defsFinal: Definition[];
  /** How many definitions there were after `mkIf`/`mkMerge`, at any priority. */
  count: number;
  /** Every definition after `mkIf`/`mkMerge`, at any priority. */
  all: Definition[];
  /** Type-checks and merges `defsFinal`. */
  value(): unknown;
}

class MergedImpl implements Merged {
  constructor(
    private readonly loc: string[],
    private readonly type: OptionType,
    readonly all: Definition[],
    readonly defsFinal: Definition[],
    readonly highestPrio: number,
  ) {}
  get isDefined(): boolean {
    return this.defsFinal.length > 0;
  }
  get count(): number {
    return this.all.length;
  }
  value(): unknown {
    const { type, defsFinal, loc } = this;
    for (const d of defsFinal) {
      // As NixOS, name every rejected definition, not only the first.
      if (!type.check(d.value))
        throw typeMismatch(
          loc,
          type,
          defsFinal.filter((x) => !type.check(x.value)),
        );
    }
    if (type.simple && defsFinal.length === 1) return (defsFinal[0] as Definition).value;
    if (defsFinal.length === 1) return type.merge(loc, defsFinal);
    try {
      return type.merge(loc, defsFinal);
    } catch (e) {
      throw withPriority(e, loc, this.highestPrio);
    }
  }
}

/** Adds the winning priority, and how to choose, to a conflict between definitions at `loc`. */
function withPriority(e: unknown, loc: readonly string[], priority: number): unknown {
  if (!(e instanceof ModuleError) || e.code !== "CONFLICTING_DEFINITIONS") return e;
  if (e.optionPath !== showPath(loc)) return e;
  e.message += ` They all have priority ${priority} (a plain definition is 100); give one another priority to choose it, e.g. mkForce (50) or mkDefault (1000).`;
  return e;
}

/**
 * Resolves properties and priorities of `defs` and prepares the typed merge (Nix
 * `mergeDefinitions`). `optionDefault`, when given, is the declaration's default: a definition
 * at priority 1500 that comes first.
 */
export function mergeDefinitions(
  loc: string[],
  type: OptionType,
  defs: RawDef[],
  optionDefault?: RawDef,
): Merged {
  const all: Prioritized[] = [];
  if (optionDefault)
    discharge(
      loc,
      forceRaw(optionDefault),
      optionDefault.file,
      OPTION_DEFAULT_PRIORITY,
      DEFAULT_ORDER,
      all,
    );
  for (const d of defs) discharge(loc, forceRaw(d), d.file, DEFAULT_PRIORITY, DEFAULT_ORDER, all);
  let highest = Number.POSITIVE_INFINITY;
  let sameOrder = true;
  for (const d of all) {
    if (d.priority < highest) highest = d.priority;
    if (d.order !== DEFAULT_ORDER) sameOrder = false;
  }
  let final: Prioritized[] = all;
  for (const d of all) {
    if (d.priority !== highest) {
      final = atPriority(all, highest);
      break;
    }
  }
  if (!sameOrder) final = [...final].sort(byOrder);
  return new MergedImpl(loc, type, all, final, highest);
}

// Apart from their callers: a closure over `highest` there would allocate a context on every
// call of those hot functions, not only when it is made.
function atPriority(defs: Prioritized[], priority: number): Prioritized[] {
  return defs.filter((x) => x.priority === priority);
}

const byOrder = (a: Prioritized, b: Prioritized): number => a.order - b.order;

// ---------------------------------------------------------------------------------------------
// thunks

const stack: Thunk<unknown>[] = [];

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/** A memoized computation of the value at `loc`; re-entering it while it runs is a cycle. */
export abstract class Thunk<T> {
  private state: 0 | 1 | 2 | 3 = 0;
  /** The value once computed (state 2), the error once failed (state 3): one slot for both. */
  private result: unknown;
  /**
   * The path of the value, for messages. Thunks kept by the thousand (options, attributes)
   * build it when read from their parent's path and their key, instead of keeping one each.
   */
  abstract readonly loc: readonly string[];

  /** The last key of {@link loc}, without building the path. */
  key(): string {
    const loc = this.loc;
    return loc[loc.length - 1] as string;
  }

  /** What the thunk computes (see {@link FnThunk} for a closure). */
  protected abstract compute(): T;

  /** Files to name when this computation fails. */
  files(): string[] {
    return [];
  }

  get done(): boolean {
    return this.state === 2;
  }

  /** Whether the computation has been started (or finished, or failed). */
  get started(): boolean {
    return this.state !== 0;
  }

  /** Forgets a computed result so it is recomputed on next use (to save memory). */
  reset(): void {
    if (this.state === 2) {
      this.state = 0;
      this.result = undefined;
    }
  }

  force(): T {
    if (this.state === 2) return this.result as T;
    if (this.state === 3) throw this.result;
    if (this.state === 1) throw cycleError(this as Thunk<unknown>);
    this.state = 1;
    stack.push(this as Thunk<unknown>);
    try {
      const v = this.compute();
      this.result = v;
      this.state = 2;
      return v;
    } catch (e) {
      if (isStackOverflow(e)) {
        this.state = 0;
        const err = e as RangeError & { n2dLoc?: readonly string[] };
        if (err.n2dLoc === undefined) err.n2dLoc = this.loc;
        if (stack.length === 1) {
          throw new ModuleError(
            "INFINITE_RECURSION",
            `Evaluating the option \`${showPath(this.loc)}\` recursed too deeply (the call stack overflowed near \`${showPath(
              err.n2dLoc,
            )}\`); a definition probably depends on itself through a function or getter.`,
            { optionPath: showPath(this.loc), files: this.files(), cause: e },
          );
        }
        throw e;
      }
      const err = e instanceof ModuleError ? e : wrapUserError(this as Thunk<unknown>, e);
      this.state = 3;
      this.result = err;
      throw err;
    } finally {
      stack.pop();
    }
  }
}

/** A thunk of a closure; the closure is dropped once it has returned. */
export class FnThunk<T> extends Thunk<T> {
  constructor(
    readonly loc: readonly string[],
    private fn: (() => T) | undefined,
    private readonly filesFn?: () => string[],
  ) {
    super();
  }
  protected override compute(): T {
    const v = (this.fn as () => T)();
    this.fn = undefined;
    return v;
  }
  override files(): string[] {
    return this.filesFn ? this.filesFn() : [];
  }
}

/**
 * The value of one attribute of an `attrsOf` whose definitions are all plain (see
 * {@link allPlainDefs}): resolved when read, through {@link singleSimpleValue} when the element
 * type is simple, and otherwise (or on a tie, or a value the type rejects) through
 * `mergeDefinitions`, which gives the value or the error exactly as for any other attribute.
 */
export class PlainAttrThunk extends Thunk<unknown> {
  /** The definitions, dropped once the value is computed (nothing reads them again). */
  private defs: RawDef[] | undefined;
  constructor(
    /** The path of the attribute set (shared by its attributes). */
    private readonly parentLoc: readonly string[],
    private readonly name: string,
    private readonly elem: OptionType,
    defs: RawDef[],
  ) {
    super();
    // Exact size: a list grown by push keeps 17 or more slots for as long as this thunk lives.
    this.defs = defs.length > 1 ? defs.slice() : defs;
  }
  get loc(): string[] {
    return pathTo(this.parentLoc, this.name);
  }
  override key(): string {
    return this.name;
  }
  protected override compute(): unknown {
    const elem = this.elem;
    const defs = this.defs as RawDef[];
    let v: unknown = NOT_SIMPLE;
    if (elem.simple) v = singleSimpleValue(elem, defs, false, false, undefined);
    if (v === NOT_SIMPLE) v = mergeDefinitions(this.loc, elem, defs).value();
    this.defs = undefined;
    return v;
  }
}

function cycleError(t: Thunk<unknown>): ModuleError {
  const idx = stack.lastIndexOf(t);
  const frames = stack.slice(idx);
  const paths: string[] = [];
  for (const f of frames) {
    const p = showPath(f.loc);
    if (paths[paths.length - 1] !== p) paths.push(p);
  }
  paths.push(showPath(t.loc));
  const files = frames.flatMap((f) => f.files());
  return new ModuleError(
    "INFINITE_RECURSION",
    `Infinite recursion: the option \`${showPath(t.loc)}\` depends on itself: ${paths
      .map((p) => `\`${p}\``)
      .join(" → ")}${files.length ? ` (defined in ${showFiles(files)})` : ""}.`,
    { optionPath: showPath(t.loc), files },
  );
}

function wrapUserError(t: Thunk<unknown>, e: unknown): ModuleError {
  const files = t.files();
  const msg = e instanceof Error ? e.message : String(e);
  return new ModuleError(
    "EVALUATION_ERROR",
    `Error while evaluating the option \`${showPath(t.loc)}\`${files.length ? ` (defined in ${showFiles(files)})` : ""}: ${msg}`,
    { optionPath: showPath(t.loc), files, cause: e },
  );
}

/** Where a lazy object keeps the thunks of its values (a hidden, non-enumerable key). */
export const THUNKS: unique symbol = Symbol("nix2dream.modules.thunks");

// Option-name lists seen so far, in a trie by key: finding one allocates nothing (no key string
// built per list). A node keeps one shared copy of its names (see `internNames`).
interface ShapeNode {
  next: Map<string, ShapeNode> | undefined;
  names: string[] | undefined;
}
const shapes: ShapeNode = { next: undefined, names: undefined };
let shapeCount = 0;
const MAX_SHAPES = 2000;
const MAX_SHARED_KEYS = 64;

/** The trie node of these keys in this order, or undefined once the trie is full. */
function shapeOf(names: readonly string[]): ShapeNode | undefined {
  let node: ShapeNode = shapes;
  for (const name of names) {
    let next: ShapeNode | undefined = node.next?.get(name);
    if (!next) {
      if (shapeCount >= MAX_SHAPES) return undefined;
      shapeCount++;
      next = { next: undefined, names: undefined };
      if (!node.next) node.next = new Map();
      node.next.set(name, next);
    }
    node = next;
  }
  return node;
}

// The slot of the thunks, defined (not enumerable) before it is assigned: assigning a new
// symbol key would make it enumerable, and `{ ...config }` would copy it.
const THUNKS_SLOT: PropertyDescriptor = {
  value: undefined,
  enumerable: false,
  writable: true,
  configurable: true,
};

/**
 * One shared, exact-size copy of a list of keys seen before (every instance of a submodule
 * has the same option names); the list itself when the table is full. Never mutate the result.
 */
export function internNames(names: string[]): string[] {
  if (names.length === 0 || names.length > MAX_SHARED_KEYS) return names;
  const node = shapeOf(names);
  if (!node) return names;
  if (!node.names) node.names = names.slice();
  return node.names;
}

// Getters reading the thunk at an index of `this[THUNKS]`, and their accessor descriptors,
// shared by every lazy object: what key `i` is named does not matter to them, so any key set,
// seen before or not, takes them (objects of the same keys then share V8 hidden classes).
const indexGetters: (() => unknown)[] = [];
const indexDescriptors: PropertyDescriptor[] = [];
function indexGetter(i: number): () => unknown {
  let g = indexGetters[i];
  if (!g) {
    g = function (this: { [THUNKS]: readonly Thunk<unknown>[] }) {
      return (this[THUNKS][i] as Thunk<unknown>).force();
    };
    indexGetters[i] = g;
  }
  return g;
}

/** {@link indexDescriptors}, made up to index `n - 1`. */
function descriptorsUpTo(n: number): readonly PropertyDescriptor[] {
  for (let i = indexDescriptors.length; i < n; i++)
    indexDescriptors.push({ get: indexGetter(i), enumerable: true, configurable: true });
  return indexDescriptors;
}

/**
 * Defines `names[i]` as a lazy enumerable property of `obj` forcing `thunks[i]`, in order.
 * `thunks` is kept as it is (not copied), so it must not change afterwards. Small key sets share
 * getters and descriptors by index; large ones (e.g. 10 000 services) get a getter each, so the
 * shared tables stay bounded.
 */
export function defineThunksAt(
  obj: object,
  names: readonly string[],
  thunks: readonly Thunk<unknown>[],
): void {
  const n = names.length;
  if (n === 0) return;
  if (n <= MAX_SHARED_KEYS) {
    // One defineProperty per key: about twice as fast as Object.defineProperties of a map.
    const descriptors = descriptorsUpTo(n);
    for (let i = 0; i < n; i++)
      Object.defineProperty(obj, names[i] as string, descriptors[i] as PropertyDescriptor);
  } else {
    // A large key set (e.g. 10 000 services): a getter each that needs no `this`, so the
    // shared tables stay bounded. The object is put in dictionary mode first: a getter of its
    // own per key would otherwise make a new hidden class per key until V8 gives up on them.
    toDictionaryMode(obj);
    for (let i = 0; i < n; i++) {
      const th = thunks[i] as Thunk<unknown>;
      Object.defineProperty(obj, names[i] as string, {
        get: () => th.force(),
        enumerable: true,
        configurable: true,
      });
    }
  }
  // Also read by `forceDeep`, which forces the thunks without going through the getters.
  Object.defineProperty(obj, THUNKS, THUNKS_SLOT);
  (obj as Record<symbol, unknown>)[THUNKS] = thunks;
}

/**
 * Puts an object of no own properties in V8's dictionary mode (by deleting the first of two
 * properties added for that; deleting the last one added only undoes its hidden class): keys
 * added afterwards go straight to its hash table. Nothing observable changes.
 */
function toDictionaryMode(obj: object): void {
  const o = obj as Record<symbol, unknown>;
  if (Reflect.ownKeys(o).length > 0) return;
  o[DICTIONARY_A] = 0;
  o[DICTIONARY_B] = 0;
  delete o[DICTIONARY_A];
  delete o[DICTIONARY_B];
}
const DICTIONARY_A: unique symbol = Symbol("nix2dream.modules.dictionaryA");
const DICTIONARY_B: unique symbol = Symbol("nix2dream.modules.dictionaryB");

/**
 * The thunks behind the lazy properties of `obj` (see {@link defineThunksAt}), in the order of
 * its first keys; undefined for any other object.
 */
export function thunksOf(obj: object): readonly Thunk<unknown>[] | undefined {
  return (obj as { [THUNKS]?: readonly Thunk<unknown>[] })[THUNKS];
}

/** Defines each `[name, thunk]` as a lazy enumerable property of `obj`, in order (see {@link defineThunksAt}). */
export function defineThunks(
  obj: object,
  entries: ReadonlyArray<readonly [string, Thunk<unknown>]>,
): void {
  const names: string[] = new Array(entries.length);
  const thunks: Thunk<unknown>[] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as readonly [string, Thunk<unknown>];
    names[i] = e[0];
    thunks[i] = e[1];
  }
  defineThunksAt(obj, names, thunks);
}
