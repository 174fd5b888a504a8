/**
 * `forceDeep`: a plain, fully evaluated deep copy of a lazy config value. Objects of the same
 * keys (every instance of a submodule, every service) are built by one literal-like factory per
 * key list, so the copies share one fast hidden class: adding the keys one by one would leave
 * objects of more than about 16 keys in V8's slow dictionary mode, which is slow to build and
 * slow for every renderer that reads the result.
 */
import { ModuleError, showPath } from "./errors.js";
import { type Thunk, thunksOf } from "./merge.js";

/** Options of {@link forceDeep}. */
export interface ForceDeepOptions {
  /**
   * Give every object of the copy its keys in sorted order (as `Object.keys(o).sort()`), so the
   * result never depends on the order modules defined things in. Values are still read in the
   * original order, so errors are met (and reported) in the same order either way.
   */
  sortKeys?: boolean;
}

/** Whether `keys` are in ascending order (as `keys.sort()` orders them). */
function inOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++)
    if ((keys[i - 1] as string) > (keys[i] as string)) return false;
  return true;
}

/** @internal Sets `out[k]`; a key named "__proto__" stays a plain key. */
export function setKey(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__")
    Object.defineProperty(out, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else out[k] = v;
}

const SKIPPED: unique symbol = Symbol("skipped");

/**
 * The thunk behind key `k` of a lazy object whose `i`-th key it is, when the `i`-th thunk is the
 * one of that key (its path ends with it); undefined otherwise (keys in another order, e.g.
 * integer-like keys, which objects list first, or keys added or removed afterwards).
 */
function thunkNamed(
  thunks: readonly Thunk<unknown>[],
  i: number,
  k: string,
): Thunk<unknown> | undefined {
  const th = thunks[i];
  return th !== undefined && th.key() === k ? th : undefined;
}

// ---- copy factories, one per key list seen often enough -------------------------------------

type Factory = (values: readonly unknown[]) => Record<string, unknown>;

/** A node of the trie of key lists; `make`: undefined until built, null when it cannot be. */
interface CopyShape {
  next: Map<string, CopyShape> | undefined;
  seen: number;
  make: Factory | null | undefined;
  makeSorted: Factory | null | undefined;
}

const newShape = (): CopyShape => ({
  next: undefined,
  seen: 0,
  make: undefined,
  makeSorted: undefined,
});
const copyShapes = newShape();
let copyShapeCount = 0;
/** Bounds of the trie (it lives as long as the process): nodes, and keys of one object. */
const MAX_COPY_SHAPE_NODES = 20000;
const MAX_FACTORY_KEYS = 128;
/** A factory is compiled for a key list from its this-many-th object on. */
const FACTORY_AFTER = 8;

/** The last key list met of each length and its node: most objects repeat the last shape. */
const lastOfLength: ({ keys: readonly string[]; node: CopyShape } | undefined)[] = [];

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function copyShapeOf(keys: readonly string[]): CopyShape | undefined {
  const last = lastOfLength[keys.length];
  if (last !== undefined && sameKeys(last.keys, keys)) return last.node;
  const node = walkCopyShapes(keys);
  if (node !== undefined) lastOfLength[keys.length] = { keys, node };
  return node;
}

function walkCopyShapes(keys: readonly string[]): CopyShape | undefined {
  let node = copyShapes;
  for (const k of keys) {
    let next = node.next?.get(k);
    if (!next) {
      if (copyShapeCount >= MAX_COPY_SHAPE_NODES) return undefined;
      copyShapeCount++;
      next = newShape();
      if (!node.next) node.next = new Map();
      node.next.set(k, next);
    }
    node = next;
  }
  return node;
}

/**
 * A function returning `{ [keys[order[0]]]: v[order[0]], … }` as an object literal (one hidden
 * class for every copy), or null where that cannot be done (a "__proto__" key, which a literal
 * would take for the prototype; code generation disallowed).
 */
function compileFactory(keys: readonly string[], order: readonly number[]): Factory | null {
  if (keys.includes("__proto__")) return null;
  const fields = order.map((i) => `${JSON.stringify(keys[i])}: v[${i}]`).join(", ");
  try {
    return new Function("v", `"use strict"; return { ${fields} };`) as Factory;
  } catch {
    return null;
  }
}

/** The indices of `keys` in sorted key order. */
function sortedOrder(keys: readonly string[]): number[] {
  const order = keys.map((_, i) => i);
  order.sort((a, b) => ((keys[a] as string) < (keys[b] as string) ? -1 : 1));
  return order;
}

/** The factory for objects of these keys (sorted or not), once the key list is common. */
function factoryFor(keys: readonly string[], sorted: boolean): Factory | undefined {
  if (keys.length === 0 || keys.length > MAX_FACTORY_KEYS) return undefined;
  const shape = copyShapeOf(keys);
  if (!shape || ++shape.seen < FACTORY_AFTER) return undefined;
  if (sorted) {
    if (shape.makeSorted === undefined) shape.makeSorted = compileFactory(keys, sortedOrder(keys));
    return shape.makeSorted ?? undefined;
  }
  if (shape.make === undefined)
    shape.make = compileFactory(
      keys,
      keys.map((_, i) => i),
    );
  return shape.make ?? undefined;
}

// ---- the walk --------------------------------------------------------------------------------

/** Keys copied per call of `DeepCopy.entries` (see `DeepCopy.object`). */
const ENTRIES_SLICE = 256;

/** The state of one `forceDeep` call: errors met, and the objects being copied (for cycles). */
class DeepCopy {
  readonly errors: ModuleError[] = [];
  /** Ancestors and their copies (a copy is made on demand when a cycle needs it first). */
  readonly originals: object[] = [];
  readonly copies: (Record<string, unknown> | unknown[] | undefined)[] = [];
  /** The keys leading here, for messages. */
  readonly keys: string[] = [];
  constructor(readonly sort: boolean) {}

  fail(e: unknown, k: string): void {
    const path = showPath([...this.keys, k]);
    const err =
      e instanceof ModuleError
        ? e
        : new ModuleError(
            "EVALUATION_ERROR",
            `Error while evaluating \`${path}\`: ${e instanceof Error ? e.message : String(e)}`,
            { optionPath: path, cause: e },
          );
    if (!this.errors.includes(err)) this.errors.push(err);
  }

  walk(x: unknown): unknown {
    if (typeof x !== "object" || x === null) return x;
    const at = this.originals.lastIndexOf(x);
    if (at >= 0) {
      // A cycle: the copy of an object still being copied (created now if not yet).
      let c = this.copies[at];
      if (c === undefined) {
        c = {};
        this.copies[at] = c;
      }
      return c;
    }
    if (Array.isArray(x)) return this.array(x);
    const proto = Object.getPrototypeOf(x);
    if (proto !== Object.prototype && proto !== null) return x;
    return this.object(x as Record<string, unknown>);
  }

  array(x: unknown[]): unknown[] {
    const n = x.length;
    // Exact size: a list grown by push keeps a backing store of 16 or more slots, and the copy
    // is kept as long as the caller keeps the result.
    const out: unknown[] = new Array(n);
    let j = 0;
    this.originals.push(x);
    this.copies.push(out);
    for (let i = 0; i < n; i++) {
      let v: unknown;
      try {
        v = x[i];
      } catch (e) {
        this.fail(e, String(i));
        continue;
      }
      this.keys.push(String(i));
      out[j++] = this.walk(v);
      this.keys.pop();
    }
    if (j < n) out.length = j;
    this.originals.pop();
    this.copies.pop();
    return out;
  }

  /**
   * Copies the values of keys `from` to `to` (excluded) of `x` into `vals`, SKIPPED for a value
   * whose reading failed; true if one did.
   */
  entries(
    x: Record<string, unknown>,
    thunks: readonly Thunk<unknown>[] | undefined,
    ks: readonly string[],
    vals: unknown[],
    from: number,
    to: number,
  ): boolean {
    let skipped = false;
    for (let i = from; i < to; i++) {
      const k = ks[i] as string;
      let v: unknown;
      try {
        const th = thunks !== undefined ? thunkNamed(thunks, i, k) : undefined;
        v = th !== undefined ? th.force() : x[k];
      } catch (e) {
        this.fail(e, k);
        vals[i] = SKIPPED;
        skipped = true;
        continue;
      }
      this.keys.push(k);
      vals[i] = this.walk(v);
      this.keys.pop();
    }
    return skipped;
  }

  object(x: Record<string, unknown>): Record<string, unknown> {
    const ks = Object.keys(x);
    const n = ks.length;
    this.originals.push(x);
    this.copies.push(undefined);
    // Values are read (and errors met) in the object's own key order.
    const vals: unknown[] = new Array(n);
    // A lazy config object: its values are forced from its thunks, not through its getters.
    const thunks = thunksOf(x);
    // In slices of ENTRIES_SLICE keys, each a call: the object of every service is copied by a
    // call that began before V8 optimized anything, and a loop over all its keys would run
    // unoptimized until V8 compiled `object` a second time, "on stack", for that one call (about
    // 5 % of a first evaluation of 1000 services, measured). A slice ends before that happens and
    // the next one runs optimized. (The loops below stay here: moved out too, `object` becomes
    // small enough for V8 to inline it into `array`, which then costs more to compile.)
    let skipped = false;
    for (let from = 0; from < n; from += ENTRIES_SLICE)
      if (this.entries(x, thunks, ks, vals, from, Math.min(n, from + ENTRIES_SLICE)))
        skipped = true;
    this.originals.pop();
    const early = this.copies.pop() as Record<string, unknown> | undefined;
    const sorted = this.sort && !inOrder(ks);
    if (early === undefined && !skipped) {
      const make = factoryFor(ks, sorted);
      if (make) return make(vals);
    }
    const out = early ?? {};
    if (!sorted) {
      for (let i = 0; i < n; i++) if (vals[i] !== SKIPPED) setKey(out, ks[i] as string, vals[i]);
    } else {
      for (const i of sortedOrder(ks))
        if (vals[i] !== SKIPPED) setKey(out, ks[i] as string, vals[i]);
    }
    return out;
  }
}

/**
 * Walks a (lazy) config value and returns a plain, fully evaluated deep copy (keys sorted with
 * `{ sortKeys: true }`). Every error met on the way is collected; one is rethrown as is, several
 * as one `ModuleError` (code of the first) whose `errors` holds them all.
 */
export function forceDeep<T>(value: T, options: ForceDeepOptions = {}): T {
  const copy = new DeepCopy(options.sortKeys === true);
  const result = copy.walk(value);
  const errors = copy.errors;
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    const first = errors[0] as ModuleError;
    throw new ModuleError(
      first.code,
      `${errors.length} errors:\n${errors.map((e) => `- ${e.message}`).join("\n")}`,
      {
        files: errors.flatMap((e) => e.files),
        errors,
        ...(first.optionPath ? { optionPath: first.optionPath } : {}),
      },
    );
  }
  return result as T;
}
