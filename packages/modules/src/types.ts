import type { z } from "zod";
import { HOLE } from "./args.js";
import { attrTag } from "./attrtag.js";
import { mergedDeclaredType } from "./decls.js";
import { closest, kindOf, ModuleError, pathTo, showFiles, showPath, showValue } from "./errors.js";
import {
  evalSubmodule,
  type OptionInfo,
  subOptionsOf,
  subSchemaOf,
  type TemplateSlot,
  templateIsPure,
} from "./eval.js";
import { setKey } from "./force.js";
import {
  allPlainDefs,
  defineThunksAt,
  FnThunk,
  isAttrs,
  isPlainData,
  type Merged,
  mergeDefinitions,
  NOT_SIMPLE,
  PlainAttrThunk,
  pushDownAttrs,
  type RawDef,
  singleSimpleValue,
  type Thunk,
} from "./merge.js";
import type { Module, ModuleArgs } from "./module.js";
import type { InferOptions, OptionsTree } from "./option.js";
import { DEFAULT_PRIORITY, isProperty, PROP, type Property } from "./props.js";
import { isOptionalSchema, optionsToZod } from "./schema.js";
import { zod } from "./zod.js";

/** One definition of an option after `mkIf`/`mkMerge`/priorities were resolved. */
export interface Definition {
  file: string;
  value: unknown;
}

const TYPE_BRAND: unique symbol = Symbol.for("nix2dream.modules.type");

/**
 * An option type: how definitions are checked and merged, its documentation name, and a zod
 * schema for JSON Schema generation. Build new leaf types with {@link fromZod} or
 * {@link mkOptionType}.
 */
export interface OptionType<T = unknown> {
  /** Constructor name, e.g. `str`, `attrsOf`, `submodule`. */
  readonly name: string;
  /** Human description used in docs and type errors, e.g. `attribute set of string`. */
  readonly description: string;
  /** A zod schema of the merged value (for JSON Schema and docs). */
  readonly zod: z.ZodType;
  /** Whether one definition value is acceptable for this type (shallow for containers). */
  check(value: unknown): boolean;
  /** Merges the (checked, winning-priority, sorted) definitions into the option value. */
  merge(loc: string[], defs: Definition[]): T;
  /** Why `value` is rejected, when the type can say more than its description. */
  explain?(value: unknown): string | undefined;
  /** Sub-options for documentation (submodules and containers of them). */
  getSubOptions?(loc: string[]): Record<string, unknown> | undefined;
  /** Element types of a container type. */
  readonly nestedTypes?: Readonly<Record<string, OptionType>>;
  /** Merges this type with the type of another declaration of the same option. */
  mergeType?(other: OptionType): OptionType | undefined;
  /** For submodule types: adds modules (used when declarations of one option merge). */
  extendModules?(modules: SubmoduleModule[]): OptionType<T>;
  /** The same type whose submodule modules without a file get `file` (the declaring module's). */
  withDeclarationFile?(file: string): OptionType<T>;
  /** True when merging a single definition returns its value unchanged. */
  readonly simple?: boolean;
  /**
   * True when `check` and `merge` read nothing but their arguments and what the `nestedTypes`
   * read (no option, no state): the engine may then merge definitions that are plain data
   * before the value is read (a failure is still thrown when it is read). Built-in containers
   * are pure when their element types are; a `simple` type is taken to be pure.
   */
  readonly pure?: boolean;
  /**
   * The value of a `lazyAttrsOf` entry whose definitions are all disabled (`mkIf false`), as
   * NixOS's `emptyValue`: `[]` for lists, `{}` for attribute sets and submodules, `null` for
   * `nullOr`. Absent when the type has none (the entry is then used but not defined).
   */
  readonly emptyValue?: { readonly value: unknown };
  /** Phantom field carrying the value type; never present at run time. */
  readonly __value?: T;
  readonly [TYPE_BRAND]: true;
}

/** A submodule module together with the file it was declared in. */
export interface SubmoduleModule {
  module: Module;
  file?: string;
}

export function isOptionType(v: unknown): v is OptionType {
  return typeof v === "object" && v !== null && TYPE_BRAND in v;
}

/** Fields of a custom option type; see {@link mkOptionType}. */
export interface OptionTypeSpec<T> {
  name: string;
  description?: string;
  zod?: z.ZodType | (() => z.ZodType);
  check?: (value: unknown) => boolean;
  merge?: (loc: string[], defs: Definition[]) => T;
  explain?: (value: unknown) => string | undefined;
  getSubOptions?: (loc: string[]) => Record<string, unknown> | undefined;
  nestedTypes?: Record<string, OptionType>;
  mergeType?: (other: OptionType) => OptionType | undefined;
  extendModules?: (modules: SubmoduleModule[]) => OptionType<T>;
  withDeclarationFile?: (file: string) => OptionType<T>;
  simple?: boolean;
  /** See {@link OptionType.pure}. */
  pure?: boolean;
  emptyValue?: { readonly value: unknown };
}

const acceptAll = () => true;

// Shared, frozen: an empty value is never built per use.
const EMPTY_LIST = { value: Object.freeze([]) };
const EMPTY_ATTRS = { value: Object.freeze({}) };
const EMPTY_NULL = { value: null };

class OptionTypeImpl<T> {
  readonly [TYPE_BRAND] = true as const;
  name: string;
  readonly description: string;
  readonly check: (value: unknown) => boolean;
  readonly merge: (loc: string[], defs: Definition[]) => T;
  readonly explain?: (value: unknown) => string | undefined;
  readonly getSubOptions?: (loc: string[]) => Record<string, unknown> | undefined;
  readonly nestedTypes?: Readonly<Record<string, OptionType>>;
  readonly extendModules?: (modules: SubmoduleModule[]) => OptionType<T>;
  readonly withDeclarationFile?: (file: string) => OptionType<T>;
  readonly simple?: boolean;
  readonly pure?: boolean;
  readonly emptyValue?: { readonly value: unknown };
  #zod: z.ZodType | (() => z.ZodType) | undefined;
  #mergeType: ((other: OptionType) => OptionType | undefined) | undefined;
  constructor(spec: OptionTypeSpec<T>) {
    this.name = spec.name;
    this.description = spec.description ?? spec.name;
    this.check = spec.check ?? acceptAll;
    this.merge = spec.merge ?? (mergeEqualOption as (loc: string[], defs: Definition[]) => T);
    if (spec.explain) this.explain = spec.explain;
    if (spec.getSubOptions) this.getSubOptions = spec.getSubOptions;
    if (spec.nestedTypes) this.nestedTypes = spec.nestedTypes;
    if (spec.extendModules) this.extendModules = spec.extendModules;
    if (spec.withDeclarationFile) this.withDeclarationFile = spec.withDeclarationFile;
    if (spec.simple) this.simple = true;
    if (spec.pure) this.pure = true;
    if (spec.emptyValue) this.emptyValue = spec.emptyValue;
    this.#zod = spec.zod;
    this.#mergeType = spec.mergeType;
  }
  get zod(): z.ZodType {
    let z0 = this.#zod;
    if (typeof z0 === "function") z0 = z0();
    if (z0 === undefined) z0 = zod().any();
    this.#zod = z0;
    return z0;
  }
  mergeType(other: OptionType): OptionType | undefined {
    if (this.#mergeType) return this.#mergeType(other);
    return (other as unknown) === this ||
      (other.name === this.name && other.description === this.description)
      ? (this as unknown as OptionType)
      : undefined;
  }
}

/** @internal An option type of this package (its `merge`, if any, is one of ours). */
export function makeType<T>(spec: OptionTypeSpec<T>): OptionType<T> {
  return new OptionTypeImpl(spec) as unknown as OptionType<T>;
}

// Types built by `mkOptionType` with a `merge` of the caller's: nothing is known of the keys
// their merged value has (see `hasOwnMerge`).
const ownMerge = new WeakSet<OptionType>();

/**
 * @internal Whether `type` merges with a function given to {@link mkOptionType}: as a freeform
 * type, the keys of its merged value, not the defined keys, are those of `config`.
 */
export function hasOwnMerge(type: OptionType): boolean {
  return ownMerge.has(type);
}

/**
 * Builds an option type; unspecified parts default to "anything goes, definitions must be equal".
 * Used as a `freeformType`, a type given its own `merge` is merged when the evaluation ends and
 * `config` gets the keys of the merged value (the types of `types.*` keep each key lazy).
 */
export function mkOptionType<T>(spec: OptionTypeSpec<T>): OptionType<T> {
  const t = makeType(spec);
  if (spec.merge) ownMerge.add(t as OptionType);
  return t;
}

// ---------------------------------------------------------------------------------------------
// merge helpers

/** Structural equality, as Nix's `==` on values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") {
    return typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  // Class instances (dates, URLs, ...) are equal only to themselves.
  if (!Array.isArray(a) && (!isAttrs(a) || !isAttrs(b))) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) =>
      Object.hasOwn(b as object, k) &&
      deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

function conflict(loc: string[], defs: Definition[]): ModuleError {
  const list = defs.map((d) => `${showValue(d.value)} in ${d.file}`).join(", ");
  return new ModuleError(
    "CONFLICTING_DEFINITIONS",
    `The option \`${showPath(loc)}\` has conflicting definitions: ${list}.`,
    { optionPath: showPath(loc), files: defs.map((d) => d.file) },
  );
}

/** Merge for types whose definitions must all be equal (Nix `mergeEqualOption`). */
export function mergeEqualOption<T>(loc: string[], defs: Definition[]): T {
  const first = defs[0] as Definition;
  for (let i = 1; i < defs.length; i++) {
    if (!deepEqual((defs[i] as Definition).value, first.value)) throw conflict(loc, defs);
  }
  return first.value as T;
}

/** Merge allowing exactly one definition (Nix `mergeOneOption`). */
export function mergeOneOption<T>(loc: string[], defs: Definition[]): T {
  if (defs.length === 1) return (defs[0] as Definition).value as T;
  throw new ModuleError(
    "CONFLICTING_DEFINITIONS",
    `The option \`${showPath(loc)}\` has conflicting definitions (it accepts only one): ${defs
      .map((d) => `${showValue(d.value)} in ${d.file}`)
      .join(", ")}.`,
    { optionPath: showPath(loc), files: defs.map((d) => d.file) },
  );
}

function mergeDefaultOption(loc: string[], defs: Definition[]): unknown {
  const list = defs.map((d) => d.value);
  if (list.length === 1) return list[0];
  if (list.every((x) => typeof x === "function")) {
    return (...args: unknown[]) =>
      mergeDefaultOption(
        loc,
        defs.map((d) => ({
          file: d.file,
          value: (d.value as (...a: unknown[]) => unknown)(...args),
        })),
      );
  }
  if (list.every(Array.isArray)) return (list as unknown[][]).flat(1);
  if (list.every(isAttrs)) return Object.assign({}, ...(list as object[]));
  if (list.every((x) => typeof x === "boolean")) return list.some(Boolean);
  if (list.every((x) => typeof x === "string")) return list.join("");
  if (list.every((x) => Number.isInteger(x) && x === list[0])) return list[0];
  throw conflict(loc, defs);
}

function describeNested(word: string, t: OptionType): string {
  return `${word} ${t.description}`;
}

// ---------------------------------------------------------------------------------------------
// leaf types

const str = makeType<string>({
  name: "str",
  description: "string",
  zod: () => zod().string(),
  check: (v) => typeof v === "string",
  simple: true,
});

const path = makeType<string>({
  name: "path",
  description: "path (string)",
  zod: () => zod().string(),
  check: (v) => typeof v === "string" && v.length > 0,
  simple: true,
});

const lines = makeType<string>({
  name: "lines",
  description: 'strings concatenated with "\\n"',
  zod: () => zod().string(),
  check: (v) => typeof v === "string",
  merge: (_loc, defs) => defs.map((d) => d.value as string).join("\n"),
  simple: true,
});

const int = makeType<number>({
  name: "int",
  description: "signed integer",
  zod: () => zod().number().int(),
  check: (v) => typeof v === "number" && Number.isInteger(v),
  simple: true,
});

const float = makeType<number>({
  name: "float",
  description: "floating point number",
  zod: () => zod().number(),
  check: (v) => typeof v === "number" && !Number.isNaN(v),
  simple: true,
});

const bool = makeType<boolean>({
  name: "bool",
  description: "boolean",
  zod: () => zod().boolean(),
  check: (v) => typeof v === "boolean",
  simple: true,
});

function between(lo: number, hi: number, description?: string): OptionType<number> {
  if (!(lo <= hi)) {
    throw new ModuleError(
      "INVALID_MODULE",
      `ints.between: the lower bound ${lo} is above the upper bound ${hi}.`,
    );
  }
  return makeType<number>({
    name: "intBetween",
    description: description ?? `integer between ${lo} and ${hi} (both inclusive)`,
    zod: () => zod().number().int().min(lo).max(hi),
    check: (v) => typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi,
    simple: true,
  });
}

const betweenCache = new Map<string, OptionType<number>>();
/**
 * `ints.between` of the same bounds is the same type: a submodule declared by a function builds
 * its types once per instance, and an instance should not pay for a new type each time.
 */
function betweenMemo(lo: number, hi: number): OptionType<number> {
  if ((lo as unknown) === HOLE || (hi as unknown) === HOLE)
    return builtFromPlaceholder("ints.between") as OptionType<number>;
  // A submodule written as a function asks again for the bounds it asked for last.
  if (lastBetween && lastBetween.lo === lo && lastBetween.hi === hi) return lastBetween.type;
  const key = `${lo},${hi}`;
  let t = betweenCache.get(key);
  if (t === undefined) {
    t = between(lo, hi);
    if (betweenCache.size < MAX_ENUMS) betweenCache.set(key, t);
  }
  lastBetween = { lo, hi, type: t };
  return t;
}
let lastBetween: { lo: number; hi: number; type: OptionType<number> } | undefined;

const unsigned = makeType<number>({
  name: "unsignedInt",
  description: "unsigned integer, meaning >=0",
  zod: () => zod().number().int().min(0),
  check: (v) => typeof v === "number" && Number.isInteger(v) && v >= 0,
  simple: true,
});

const positive = makeType<number>({
  name: "positiveInt",
  description: "positive integer, meaning >0",
  zod: () => zod().number().int().min(1),
  check: (v) => typeof v === "number" && Number.isInteger(v) && v > 0,
  simple: true,
});

const port = between(0, 65535, "16 bit unsigned integer; between 0 and 65535 (both inclusive)");
(port as { name: string }).name = "port";

const anything: OptionType<unknown> = makeType<unknown>({
  name: "anything",
  description: "anything",
  zod: () => zod().any(),
  merge: (loc, defs) => mergeAnything(loc, defs),
});

function anyKind(v: unknown): string {
  if (Array.isArray(v)) return "list";
  if (isAttrs(v)) return "set";
  if (v === null) return "null";
  return typeof v;
}

function mergeAnything(loc: string[], defs: Definition[]): unknown {
  const kind = anyKind((defs[0] as Definition).value);
  for (const d of defs) {
    if (anyKind(d.value) !== kind) {
      throw new ModuleError(
        "CONFLICTING_DEFINITIONS",
        `The option \`${showPath(loc)}\` has conflicting definition types: ${defs
          .map((x) => `${kindOf(x.value)} in ${x.file}`)
          .join(", ")}.`,
        { optionPath: showPath(loc), files: defs.map((x) => x.file) },
      );
    }
  }
  if (kind === "set") return mergeAttrs(loc, anything, defs, false);
  if (kind === "list" && defs.length > 1) {
    throw new ModuleError(
      "CONFLICTING_DEFINITIONS",
      `The option \`${showPath(loc)}\` has conflicting definitions (\`anything\` does not concatenate lists; use \`listOf\`): ${defs
        .map((d) => `${showValue(d.value)} in ${d.file}`)
        .join(", ")}.`,
      { optionPath: showPath(loc), files: defs.map((d) => d.file) },
    );
  }
  if (kind === "function") {
    return (...args: unknown[]) =>
      mergeAnything(
        [...loc, "<function body>"],
        defs.map((d) => ({
          file: d.file,
          value: (d.value as (...a: unknown[]) => unknown)(...args),
        })),
      );
  }
  return mergeEqualOption(loc, defs);
}

const raw = makeType<unknown>({
  name: "raw",
  description: "raw value",
  zod: () => zod().any(),
  merge: mergeOneOption,
});

const attrs = makeType<Record<string, unknown>>({
  name: "attrs",
  description: "attribute set",
  zod: () => zod().record(zod().string(), zod().any()),
  check: isAttrs,
  emptyValue: EMPTY_ATTRS,
  merge: (_loc, defs) => {
    const out: Record<string, unknown> = {};
    for (const d of defs) {
      for (const [k, v] of Object.entries(d.value as object)) {
        Object.defineProperty(out, k, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    return out;
  },
});

const unspecified = makeType<unknown>({
  name: "unspecified",
  description: "unspecified value",
  zod: () => zod().any(),
  merge: mergeDefaultOption,
});

// ---------------------------------------------------------------------------------------------
// composite types

type Values = readonly (string | number | boolean | null)[];

function enumType<const V extends Values>(values: V): OptionType<V[number]> {
  if (!Array.isArray(values)) {
    throw new ModuleError(
      "INVALID_MODULE",
      `types.enum expects a list of values, got ${showValue(values)}.`,
    );
  }
  const vs = [...values];
  if (vs.includes(HOLE)) return builtFromPlaceholder("enum") as OptionType<V[number]>;
  const t = makeType<V[number]>({
    name: "enum",
    description:
      vs.length === 0
        ? "impossible (empty enum)"
        : `one of ${vs.map((v) => JSON.stringify(v)).join(", ")}`,
    zod: () => {
      if (vs.length === 0) return zod().never();
      if (vs.every((v) => typeof v === "string")) return zod().enum(vs as [string, ...string[]]);
      const lits = vs.map((v) => zod().literal(v as string));
      return lits.length === 1
        ? (lits[0] as z.ZodType)
        : zod().union(lits as unknown as [z.ZodType, z.ZodType]);
    },
    check: (v) => vs.includes(v as V[number]),
    explain: (v) => {
      const near =
        typeof v === "string"
          ? closest(v, vs.filter((x) => typeof x === "string") as string[])
          : undefined;
      return near === undefined ? undefined : `did you mean ${JSON.stringify(near)}?`;
    },
    simple: true,
    mergeType: (other) =>
      other.name === "enum" && "enumValues" in other
        ? enumType([
            ...new Set([...vs, ...(other as unknown as { enumValues: Values }).enumValues]),
          ])
        : undefined,
  });
  return withEnumValues(t, vs);
}

function withEnumValues<T extends OptionType>(t: T, values: Values): T {
  Object.defineProperty(t, "enumValues", { value: values, enumerable: false });
  return t;
}

function mergeElemType(
  self: { name: string },
  ctor: (t: OptionType) => OptionType,
  elem: OptionType,
): (other: OptionType) => OptionType | undefined {
  return (other) => {
    if (other.name !== self.name || !other.nestedTypes?.elemType) return undefined;
    const m = elem.mergeType?.(other.nestedTypes.elemType);
    return m ? ctor(m) : undefined;
  };
}

/** Rejects a non-type argument of a type constructor with a clear error (not a TypeError later). */
function assertType(t: unknown, where: string): void {
  if (!isOptionType(t)) {
    throw new ModuleError(
      "INVALID_MODULE",
      `types.${where} expects an option type (\`types.*\` or \`fromZod(...)\`), got ${showValue(t)} (${kindOf(t)}).`,
    );
  }
}

/** `withDeclarationFile` of a container: rebuilt around its element's, memoized per file. */
function withFileVia<T>(
  ctor: (t: OptionType) => OptionType,
  elem: OptionType,
): (file: string) => OptionType<T> {
  let cache: Map<string, OptionType> | undefined;
  return function (this: OptionType<T>, file: string): OptionType<T> {
    if (!elem.withDeclarationFile) return this;
    const inner = elem.withDeclarationFile(file);
    if (inner === elem) return this;
    if (!cache) cache = new Map();
    let t = cache.get(file);
    if (!t) {
      t = ctor(inner);
      cache.set(file, t);
    }
    return t as OptionType<T>;
  };
}

function nullOr<T>(elem: OptionType<T>): OptionType<T | null> {
  assertType(elem, "nullOr");
  const self = { name: "nullOr" };
  return makeType<T | null>({
    name: "nullOr",
    description: `null or ${elem.description}`,
    pure: true,
    zod: () => elem.zod.nullable(),
    check: (v) => v === null || elem.check(v),
    explain: (v) => elem.explain?.(v),
    merge: (loc, defs) => {
      const nulls = defs.filter((d) => d.value === null);
      if (nulls.length === defs.length) return null;
      if (nulls.length === 0) return elem.merge(loc, defs);
      throw new ModuleError(
        "CONFLICTING_DEFINITIONS",
        `The option \`${showPath(loc)}\` is defined both null and not null: ${defs
          .map((d) => `${showValue(d.value)} in ${d.file}`)
          .join(", ")}.`,
        { optionPath: showPath(loc), files: defs.map((d) => d.file) },
      );
    },
    getSubOptions: (loc) => elem.getSubOptions?.(loc),
    nestedTypes: { elemType: elem },
    emptyValue: EMPTY_NULL,
    simple: elem.simple ?? false,
    mergeType: mergeElemType(self, (t) => nullOr(t), elem),
    withDeclarationFile: withFileVia((t) => nullOr(t), elem),
  });
}

function either<A, B>(a: OptionType<A>, b: OptionType<B>): OptionType<A | B> {
  assertType(a, "either");
  assertType(b, "either");
  const t: OptionType<A | B> = makeType<A | B>({
    name: "either",
    description: `${a.description} or ${b.description}`,
    pure: true,
    zod: () => zod().union([a.zod, b.zod]),
    check: (v) => a.check(v) || b.check(v),
    merge: (loc, defs) => {
      if (defs.every((d) => a.check(d.value))) return a.merge(loc, defs);
      if (defs.every((d) => b.check(d.value))) return b.merge(loc, defs);
      throw new ModuleError(
        "CONFLICTING_DEFINITIONS",
        `The option \`${showPath(loc)}\` has definitions that fit no single type of \`${t.description}\`: ${defs
          .map((d) => `${showValue(d.value)} in ${d.file}`)
          .join(", ")}.`,
        { optionPath: showPath(loc), files: defs.map((d) => d.file) },
      );
    },
    getSubOptions: (loc) => a.getSubOptions?.(loc) ?? b.getSubOptions?.(loc),
    nestedTypes: { left: a, right: b },
    mergeType: (other) => {
      if (other.name !== "either" || !other.nestedTypes?.left || !other.nestedTypes.right)
        return undefined;
      const l = a.mergeType?.(other.nestedTypes.left);
      const r = b.mergeType?.(other.nestedTypes.right);
      return l && r ? either(l, r) : undefined;
    },
  });
  return t;
}

type TypeValue<T> = T extends OptionType<infer V> ? V : never;

function oneOf<const Ts extends readonly OptionType<unknown>[]>(
  ts: Ts,
): OptionType<TypeValue<Ts[number]>> {
  if (ts.length === 0) {
    throw new ModuleError("INVALID_MODULE", "types.oneOf needs at least one type.");
  }
  const list = [...ts] as OptionType[];
  let acc = list[list.length - 1] as OptionType;
  for (let i = list.length - 2; i >= 0; i--) acc = either(list[i] as OptionType, acc);
  return acc as OptionType<TypeValue<Ts[number]>>;
}

/** The path of a list element, as NixOS names it (built only when an element needs one). */
function entryPath(loc: string[], def: number, entry: number): string[] {
  return pathTo(loc, `[definition ${def + 1}-entry ${entry + 1}]`);
}

function listOf<T>(elem: OptionType<T>): OptionType<T[]> {
  assertType(elem, "listOf");
  const self = { name: "listOf" };
  return makeType<T[]>({
    name: "listOf",
    description: describeNested("list of", elem),
    pure: true,
    zod: () => zod().array(elem.zod),
    check: Array.isArray,
    merge: (loc, defs) => {
      // Exact size (cut down below when entries drop out): a list grown by push keeps a
      // backing store of 16 or more slots for as long as the value is kept.
      let size = 0;
      for (let n = 0; n < defs.length; n++)
        size += ((defs[n] as Definition).value as unknown[]).length;
      const out: T[] = new Array(size);
      let j = 0;
      for (let n = 0; n < defs.length; n++) {
        const def = defs[n] as Definition;
        const xs = def.value as unknown[];
        for (let m = 0; m < xs.length; m++) {
          const x = xs[m];
          // A hole of a sparse list is no element (as `forEach` skips it).
          if (x === undefined && !(m in xs)) continue;
          if (elem.simple && !isPropertyLike(x)) {
            if (!elem.check(x))
              throw typeMismatch(entryPath(loc, n, m), elem, { file: def.file, value: x });
            out[j++] = x as T;
            continue;
          }
          const r = mergeDefinitions(entryPath(loc, n, m), elem, [{ file: def.file, value: x }]);
          if (r.isDefined) out[j++] = r.value() as T;
        }
      }
      if (j < size) out.length = j;
      return out;
    },
    getSubOptions: (loc) => elem.getSubOptions?.([...loc, "*"]),
    nestedTypes: { elemType: elem },
    emptyValue: EMPTY_LIST,
    mergeType: mergeElemType(self, (t) => listOf(t), elem),
    withDeclarationFile: withFileVia((t) => listOf(t), elem),
  });
}

function isPropertyLike(x: unknown): boolean {
  return typeof x === "object" && x !== null && Symbol.for("nix2dream.modules.property") in x;
}

/** Merges attribute-set definitions key by key; the result has lazy (memoized) values. */
export function mergeAttrs(
  loc: string[],
  elem: OptionType,
  defs: Definition[],
  lazy: boolean,
): Record<string, unknown> {
  if (!lazy && elem.simple) {
    const small = smallPlainAttrs(elem, defs);
    if (small !== undefined) return small;
  }
  const byKey = new Map<string, RawDef[]>();
  for (const def of defs) pushDownAttrs(def.value, def.file, byKey, loc);
  const keys = [...byKey.keys()].sort();
  // The resolved definitions of each attribute that has mkIf (resolved now, as below).
  const resolved: (Merged | undefined)[] = new Array(keys.length);
  if (!lazy && elem.simple && keys.length <= MAX_PLAIN_KEYS) {
    const plain = plainAttrs(loc, elem, keys, byKey, resolved);
    if (plain !== undefined) return plain;
  }
  // Exact size (the thunks are kept by the result): see `listOf`.
  const names: string[] = new Array(keys.length);
  const thunks: Thunk<unknown>[] = new Array(keys.length);
  let j = 0;
  // Whether every value is of a pure type and defined by plain data (see `plainValues`); the
  // values of a simple type were tried above.
  let eager = !lazy && !elem.simple && isPureType(elem);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const kdefs = byKey.get(k) as RawDef[];
    let th: Thunk<unknown>;
    if (eager && !plainDefs(kdefs)) eager = false;
    if (allPlainDefs(kdefs)) {
      // Defined for sure (no mkIf to evaluate now): all the work waits for the value's read.
      th = new PlainAttrThunk(loc, k, elem, kdefs);
      names[j] = k;
      thunks[j++] = th;
      continue;
    }
    // pathTo: `[...loc, k]` grows by a push and keeps a much larger backing store.
    const kloc = pathTo(loc, k);
    if (lazy) {
      th = new FnThunk(kloc, () => lazyAttrValue(kloc, elem, kdefs));
    } else {
      const r = resolved[i] ?? mergeDefinitions(kloc, elem, kdefs);
      if (!r.isDefined) continue;
      th = new FnThunk(kloc, () => r.value());
    }
    // An attribute resolved now (its mkIf conditions are plain data) may still be eager.
    if (lazy) eager = false;
    names[j] = k;
    thunks[j++] = th;
  }
  if (j < keys.length) {
    names.length = j;
    thunks.length = j;
  }
  const plain = eager ? plainValues(names, thunks) : undefined;
  if (plain) return plain;
  const out: Record<string, unknown> = {};
  defineThunksAt(out, names, thunks);
  return out;
}

/**
 * The purity of each submodule type (see {@link OptionType.pure}): whether its instances are
 * built from a template (plain or name-only modules, no freeform type, no `onInstance`).
 */
const submodulePurity = new WeakMap<OptionType, () => boolean>();

/** Whether `t` and every type nested in it is pure (see {@link OptionType.pure}). */
function isPureType(t: OptionType): boolean {
  if (t.simple) return true;
  const sub = submodulePurity.get(t);
  if (sub) return sub();
  if (!t.pure) return false;
  const nested = t.nestedTypes;
  if (nested) for (const k in nested) if (!isPureType(nested[k] as OptionType)) return false;
  return true;
}

/** Whether each definition is plain data (see `isPlainData`), none behind a getter. */
function plainDefs(defs: readonly RawDef[]): boolean {
  for (let i = 0; i < defs.length; i++) {
    const d = defs[i] as RawDef;
    if (d.get !== undefined || !isPlainData(d.value, 0)) return false;
  }
  return true;
}

/**
 * The attribute set of `names` with the values of `thunks` computed now, as a plain object, when
 * every one is computed without an error; undefined otherwise (the set is then lazy, and a value
 * that failed fails again when read, with the same error). Only for plain data of a pure type:
 * their values depend on nothing else, so computing them early changes only the cost (an object
 * of accessors costs about a microsecond a key to build).
 */
function plainValues(
  names: readonly string[],
  thunks: readonly Thunk<unknown>[],
): Record<string, unknown> | undefined {
  // An assignment to "__proto__" would set the prototype instead.
  if (names.includes("__proto__")) return undefined;
  const values: unknown[] = new Array(names.length);
  for (let i = 0; i < names.length; i++) {
    try {
      values[i] = (thunks[i] as Thunk<unknown>).force();
    } catch {
      return undefined;
    }
  }
  const out = new (AttrSet as unknown as new () => Record<string, unknown>)();
  for (let i = 0; i < names.length; i++) out[names[i] as string] = values[i];
  return out;
}

// The objects of `plainValues`, built key by key: objects made by `{}` share V8's one tree of
// hidden classes, which a big evaluation fills (sets keyed by service names or file paths), after
// which each key added costs a hidden class of its own. A constructor's objects start a tree of
// their own; with Object.prototype as its prototype, they cannot be told from `{}`.
function AttrSet(): void {}
AttrSet.prototype = Object.prototype;

/** Attribute sets of up to this many keys may be made plain (see {@link plainAttrs}). */
const MAX_PLAIN_KEYS = 64;

/**
 * An `attrsOf` of a simple type as a plain object of its values, when every value is known
 * now without running anything the lazy set would not run now: each attribute's definitions
 * are plain (see `allPlainDefs`) with one winning value the type accepts, or have `mkIf`s,
 * which the lazy set resolves now too (their results go to `resolved`, so that set does not
 * evaluate a condition twice) and whose value the type then accepts. Checking and merging a
 * simple type's values reads nothing else, so doing it now changes nothing but the cost (a lazy
 * set is a thunk and an accessor per attribute). Undefined when an attribute does not qualify:
 * the set is then lazy as usual, and a value that fails fails when read, naming its path.
 */
function plainAttrs(
  loc: string[],
  elem: OptionType,
  keys: readonly string[],
  byKey: Map<string, RawDef[]>,
  resolved: (Merged | undefined)[],
): Record<string, unknown> | undefined {
  const values: unknown[] = new Array(keys.length);
  const absent = NOT_SIMPLE;
  for (let i = 0; i < keys.length; i++) {
    const kdefs = byKey.get(keys[i] as string) as RawDef[];
    let v: unknown;
    if (allPlainDefs(kdefs)) {
      v = singleSimpleValue(elem, kdefs, false, false, undefined);
      if (v === NOT_SIMPLE) return undefined;
    } else {
      const r = mergeDefinitions(pathTo(loc, keys[i] as string), elem, kdefs);
      resolved[i] = r;
      if (!r.isDefined) v = absent;
      else {
        try {
          v = r.value();
        } catch {
          return undefined;
        }
      }
    }
    values[i] = v;
  }
  const out = new (AttrSet as unknown as new () => Record<string, unknown>)();
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const v = values[i];
    if (v !== absent) setKey(out, k, v);
  }
  return out;
}

/** At most this many keys, over all definitions, for {@link smallPlainAttrs}. */
const MAX_SMALL_KEYS = 16;

/**
 * {@link plainAttrs} of a few keys, without the per-key definitions and the map of them that
 * `mergeAttrs` builds first: every definition is an object of data properties, each value plain
 * or one `mkOverride`/`mkOrder` around a plain value, or `mkIf` with a boolean condition around
 * one of those; each key has one winning value, which the type accepts. Undefined when anything
 * else applies (getters, other properties, ties, a value the type rejects): the general path then
 * gives the same result or error. Reads nothing the general path would not read.
 */
function smallPlainAttrs(
  elem: OptionType,
  defs: Definition[],
): Record<string, unknown> | undefined {
  const keys: string[] = [];
  const values: unknown[] = [];
  const prios: number[] = [];
  /** How many definitions of the key have the winning priority so far. */
  const counts: number[] = [];
  for (let i = 0; i < defs.length; i++) {
    const v = (defs[i] as Definition).value;
    if (!isAttrs(v) || isProperty(v)) return undefined;
    const own = Object.keys(v);
    for (let j = 0; j < own.length; j++) {
      const k = own[j] as string;
      const desc = Object.getOwnPropertyDescriptor(v, k) as PropertyDescriptor;
      if (desc.get !== undefined || desc.set !== undefined) return undefined;
      let x: unknown = desc.value;
      let enabled = true;
      if (isProperty(x) && (x as Property)[PROP] === "if") {
        const c = (x as Property & { condition: unknown }).condition;
        if (typeof c !== "boolean") return undefined;
        enabled = c;
        x = (x as Property & { content: unknown }).content;
      }
      let prio = DEFAULT_PRIORITY;
      if (isProperty(x)) {
        const p = x as Property & { priority: number; content: unknown };
        if ((p[PROP] !== "override" && p[PROP] !== "order") || isProperty(p.content))
          return undefined;
        if (p[PROP] === "override") prio = p.priority;
        x = p.content;
      }
      let at = keys.indexOf(k);
      if (at < 0) {
        if (keys.length === MAX_SMALL_KEYS) return undefined;
        at = keys.length;
        keys.push(k);
        values.push(undefined);
        prios.push(Number.POSITIVE_INFINITY);
        counts.push(0);
      }
      if (!enabled) continue;
      const best = prios[at] as number;
      if (prio < best) {
        prios[at] = prio;
        values[at] = x;
        counts[at] = 1;
      } else if (prio === best) counts[at] = (counts[at] as number) + 1;
    }
  }
  for (let i = 0; i < keys.length; i++) {
    const n = counts[i] as number;
    // A tie goes to the type's merge (and its errors); a key disabled by mkIf is left out.
    if (n > 1 || (n === 1 && !elem.check(values[i]))) return undefined;
  }
  const sorted = keys.slice().sort();
  const out = new (AttrSet as unknown as new () => Record<string, unknown>)();
  for (let i = 0; i < sorted.length; i++) {
    const at = keys.indexOf(sorted[i] as string);
    if (counts[at] === 1) setKey(out, sorted[i] as string, values[at]);
  }
  return out;
}

/** The value of a `lazyAttrsOf` attribute, its `mkIf` conditions evaluated only now. */
function lazyAttrValue(kloc: string[], elem: OptionType, kdefs: RawDef[]): unknown {
  const r = mergeDefinitions(kloc, elem, kdefs);
  if (!r.isDefined) {
    if (elem.emptyValue) return elem.emptyValue.value;
    throw new ModuleError(
      "UNDEFINED_OPTION",
      `The option \`${showPath(kloc)}\` is used but not defined (all its definitions in ${showFiles(
        kdefs.map((d) => d.file),
      )} are disabled by mkIf).`,
      { optionPath: showPath(kloc), files: kdefs.map((d) => d.file) },
    );
  }
  return r.value();
}

function attrsOf<T>(elem: OptionType<T>): OptionType<Record<string, T>> {
  assertType(elem, "attrsOf");
  const self = { name: "attrsOf" };
  return makeType<Record<string, T>>({
    name: "attrsOf",
    description: describeNested("attribute set of", elem),
    pure: true,
    zod: () => zod().record(zod().string(), elem.zod),
    check: isAttrs,
    merge: (loc, defs) => mergeAttrs(loc, elem as OptionType, defs, false) as Record<string, T>,
    getSubOptions: (loc) => elem.getSubOptions?.([...loc, "<name>"]),
    nestedTypes: { elemType: elem },
    emptyValue: EMPTY_ATTRS,
    mergeType: mergeElemType(self, (t) => attrsOf(t), elem),
    withDeclarationFile: withFileVia((t) => attrsOf(t), elem),
  });
}

function lazyAttrsOf<T>(elem: OptionType<T>): OptionType<Record<string, T>> {
  assertType(elem, "lazyAttrsOf");
  const self = { name: "lazyAttrsOf" };
  return makeType<Record<string, T>>({
    name: "lazyAttrsOf",
    description: describeNested("lazy attribute set of", elem),
    zod: () => zod().record(zod().string(), elem.zod),
    check: isAttrs,
    merge: (loc, defs) => mergeAttrs(loc, elem as OptionType, defs, true) as Record<string, T>,
    getSubOptions: (loc) => elem.getSubOptions?.([...loc, "<name>"]),
    nestedTypes: { elemType: elem },
    emptyValue: EMPTY_ATTRS,
    mergeType: mergeElemType(self, (t) => lazyAttrsOf(t), elem),
    withDeclarationFile: withFileVia((t) => lazyAttrsOf(t), elem),
  });
}

function functionTo<T>(result: OptionType<T>): OptionType<(...args: unknown[]) => T> {
  assertType(result, "functionTo");
  const self = { name: "functionTo" };
  return makeType<(...args: unknown[]) => T>({
    name: "functionTo",
    description: `function that evaluates to a(n) ${result.description}`,
    zod: () => zod().custom<(...args: unknown[]) => T>((v) => typeof v === "function"),
    check: (v) => typeof v === "function",
    merge:
      (loc, defs) =>
      (...args: unknown[]) => {
        const r = mergeDefinitions(
          [...loc, "<function body>"],
          result as OptionType,
          defs.map((d) => ({
            file: d.file,
            value: (d.value as (...a: unknown[]) => unknown)(...args),
          })),
        );
        return r.value() as T;
      },
    getSubOptions: (loc) => result.getSubOptions?.([...loc, "<function body>"]),
    nestedTypes: { elemType: result },
    mergeType: mergeElemType(self, (t) => functionTo(t), result),
    withDeclarationFile: withFileVia((t) => functionTo(t), result),
  });
}

/** Options of `submoduleWith`. */
export interface SubmoduleWithSpec {
  modules: Module[] | SubmoduleModule[];
  specialArgs?: Record<string, unknown>;
  /** When true (as for `types.submodule`), a definition that is an object is all config. */
  shorthandOnlyDefinesConfig?: boolean;
  description?: string;
  /** The class of the submodule's modules (see `EvalModulesArgs.class`). */
  class?: string;
  /**
   * Called with each instance of the submodule once its definitions are assigned (before any of
   * its values is read): its option path and its `options` tree, e.g. to learn which files
   * defined its options without adding a function module to every instance (which would keep
   * instances from sharing what the type's modules declare). Not called when only the
   * declarations are read (docs, schemas). When two declarations of the option merge, both
   * callbacks are called.
   */
  onInstance?: (instance: SubmoduleInstance) => void;
}

/** One instance of a submodule type, as `SubmoduleWithSpec.onInstance` receives it. */
export interface SubmoduleInstance {
  /** Its option path, e.g. `["services", "api"]`. */
  readonly loc: readonly string[];
  /** Its options tree (the `options` module argument of its modules), built on first read. */
  readonly options: Record<string, unknown>;
  /**
   * Calls `visit` with each option of the instance in the order of its options tree (nested
   * option sets walked), without building the tree: each record is made for the call and not
   * kept. Cheaper than walking `options` when every instance of a large configuration is read
   * once.
   */
  forEachOption(visit: (option: OptionInfo) => void): void;
}

/** Both callbacks, once each (the same callback from both declarations is called once). */
function bothCallbacks<A>(
  a: ((arg: A) => void) | undefined,
  b: ((arg: A) => void) | undefined,
): ((arg: A) => void) | undefined {
  if (!a || a === b) return b;
  if (!b) return a;
  return (arg) => {
    a(arg);
    b(arg);
  };
}

function normalizeSubmodules(mods: ReadonlyArray<Module | SubmoduleModule>): SubmoduleModule[] {
  return mods.map((m) =>
    typeof m === "object" &&
    m !== null &&
    "module" in m &&
    Object.keys(m).every((k) => k === "module" || k === "file")
      ? (m as SubmoduleModule)
      : { module: m as Module },
  );
}

function submoduleWith<T = Record<string, unknown>>(spec: SubmoduleWithSpec): OptionType<T> {
  const modules = normalizeSubmodules(spec.modules);
  const specialArgs = spec.specialArgs ?? {};
  const shorthand = spec.shorthandOnlyDefinesConfig ?? false;
  const cls = spec.class;
  const onInstance = spec.onInstance;
  let withFileCache: Map<string, OptionType<T>> | undefined;
  // Instances share what the type's modules declare when those are plain objects.
  const slot: TemplateSlot = {};
  const t: OptionType<T> = makeType<T>({
    name: "submodule",
    description: spec.description ?? "submodule",
    zod: () => {
      const { options, freeform } = subSchemaOf(modules, specialArgs, ["<name>"], cls);
      const schema = optionsToZod(options, freeform);
      // Whether the option holding the submodule is required is its own declaration's business.
      return isOptionalSchema(schema) ? (schema.unwrap() as z.ZodType) : schema;
    },
    check: (v) => isAttrs(v) || typeof v === "function",
    merge: (loc, defs) => {
      // Built by a module's first call, before config existed, and used before its second
      // call replaced it: say so rather than take the placeholder for `true`.
      if ((shorthand as unknown) === HOLE) throw placeholderInType(loc);
      return evalSubmodule(modules, specialArgs, shorthand, loc, defs, cls, slot, onInstance) as T;
    },
    // As NixOS: `{}`, not evaluated through the submodule's options.
    emptyValue: EMPTY_ATTRS,
    getSubOptions: (loc) => subOptionsOf(modules, specialArgs, loc, cls),
    extendModules: (more) =>
      submoduleWith<T>({ ...spec, modules: [...modules, ...more], specialArgs }),
    withDeclarationFile: (file) => {
      if (modules.every((m) => m.file !== undefined)) return t;
      if (!withFileCache) withFileCache = new Map();
      let c = withFileCache.get(file);
      if (!c) {
        c = submoduleWith<T>({
          ...spec,
          modules: modules.map((m) => (m.file === undefined ? { module: m.module, file } : m)),
          specialArgs,
        });
        withFileCache.set(file, c);
      }
      return c;
    },
    mergeType: (other) => {
      if (other.name !== "submodule" || !("submoduleSpec" in other)) return undefined;
      const o = (other as unknown as { submoduleSpec: Required<SubmoduleWithSpec> }).submoduleSpec;
      if ((o.shorthandOnlyDefinesConfig ?? false) !== shorthand) return undefined;
      if (cls !== undefined && o.class !== undefined && cls !== o.class) {
        const [a, b] = [cls, o.class].sort();
        throw new ModuleError(
          "DECLARATION_CONFLICT",
          `A submoduleWith option is declared multiple times with conflicting class values "${a}" and "${b}".`,
        );
      }
      return submoduleWith<T>({
        modules: [...modules, ...normalizeSubmodules(o.modules)],
        specialArgs: { ...specialArgs, ...o.specialArgs },
        shorthandOnlyDefinesConfig: shorthand,
        ...(spec.description ? { description: spec.description } : {}),
        ...((cls ?? o.class) === undefined ? {} : { class: cls ?? o.class }),
        onInstance: bothCallbacks(onInstance, o.onInstance),
      });
    },
  });
  submodulePurity.set(
    t,
    () => shorthand === true && !onInstance && templateIsPure(modules, specialArgs, cls, slot),
  );
  Object.defineProperty(t, "submoduleSpec", {
    value: { modules, specialArgs, shorthandOnlyDefinesConfig: shorthand, class: cls, onInstance },
    enumerable: false,
  });
  return t;
}

type ModuleOptionsOf<M> = M extends (args: ModuleArgs) => infer R
  ? R extends { options: infer O }
    ? O
    : Record<string, never>
  : M extends { options: infer O }
    ? O
    : Record<string, never>;

type SubmoduleValue<M> =
  ModuleOptionsOf<M> extends OptionsTree
    ? InferOptions<ModuleOptionsOf<M>> & Record<string, unknown>
    : Record<string, unknown>;

function submodule<const M extends Module>(
  module: M | readonly M[],
): OptionType<SubmoduleValue<M>> {
  const mods = (Array.isArray(module) ? module : [module]) as Module[];
  return submoduleWith<SubmoduleValue<M>>({ modules: mods, shorthandOnlyDefinesConfig: true });
}

/**
 * A type whose arguments were read from config while its module was being called (config did
 * not exist yet). The module is called again and its declaration replaced; this type is only
 * used when the option is read before that, and then fails naming the option, instead of
 * checking values against a placeholder.
 */
function builtFromPlaceholder(ctor: string): OptionType {
  return makeType<never>({
    name: ctor,
    description: `${ctor} (built from config before config existed)`,
    // Accept every definition so that merge, which knows the option, reports the problem.
    check: () => true,
    merge: (loc) => {
      throw new ModuleError(
        "INVALID_MODULE",
        `The type of \`${showPath(loc)}\` (types.${ctor}) was built from config read when its module was called, and \`${showPath(loc)}\` is read while modules are still being called again. Build the type lazily: \`get type() { return types.${ctor}(…) }\`.`,
        { optionPath: showPath(loc) },
      );
    },
  });
}

function placeholderInType(loc: string[]): ModuleError {
  return new ModuleError(
    "INVALID_MODULE",
    `The submodule type of \`${showPath(loc)}\` was built from config read when its module was called, and \`${showPath(loc)}\` is read while modules are still being called again. Build the type lazily: \`get type() { return types.submoduleWith({ … }) }\`.`,
    { optionPath: showPath(loc) },
  );
}

/** A type-mismatch error for `def` (or every rejected definition) against `type` at `loc`. */
export function typeMismatch(
  loc: string[],
  type: OptionType,
  def: Definition | readonly Definition[],
): ModuleError {
  const defs = Array.isArray(def) ? (def as readonly Definition[]) : [def as Definition];
  const first = defs[0] as Definition;
  const extra = defs.length === 1 ? type.explain?.(first.value) : undefined;
  const got = defs.map((d) => `${showValue(d.value)} (${kindOf(d.value)}) in ${d.file}`).join(", ");
  return new ModuleError(
    "TYPE_MISMATCH",
    `The option \`${showPath(loc)}\` has a value of the wrong type: expected ${type.description}, got ${got}${extra ? `; ${extra}` : "."}`,
    { optionPath: showPath(loc), files: defs.map((d) => d.file) },
  );
}

/**
 * A leaf option type from any zod schema: a definition is valid when the schema parses it,
 * the option's value is the parsed output, and several definitions must be equal.
 */
export function fromZod<S extends z.ZodType>(schema: S, name?: string): OptionType<z.output<S>> {
  const label = name ?? zodLabel(schema);
  return makeType<z.output<S>>({
    name: name ?? "zod",
    description: label,
    zod: schema,
    check: (v) => schema.safeParse(v).success,
    explain: (v) => {
      const r = schema.safeParse(v);
      return r.success
        ? undefined
        : r.error.issues
            .map((i) => `${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`)
            .join("; ");
    },
    merge: (loc, defs) => schema.parse(mergeEqualOption(loc, defs)) as z.output<S>,
  });
}

function zodLabel(schema: z.ZodType): string {
  const d = schema.description;
  if (d) return d;
  const t = (schema as unknown as { def?: { type?: string } }).def?.type;
  return t ? `value matching a zod ${t} schema` : "value matching a zod schema";
}

/**
 * Types are immutable, so a type built from the same element type is the same type: a submodule
 * written as a function builds its option types again for every instance (every service), and
 * reusing them keeps one copy instead of one per instance.
 */
function memoByElem<E extends object, R>(f: (elem: E) => R): (elem: E) => R {
  const cache = new WeakMap<object, R>();
  return (elem) => {
    if (typeof elem !== "object" || elem === null) return f(elem);
    let t = cache.get(elem);
    if (t === undefined) {
      t = f(elem);
      cache.set(elem, t);
    }
    return t;
  };
}

const enumCache = new Map<string, OptionType>();
const MAX_ENUMS = 1000;
/** `types.enum` of the same (primitive) values, in the same order, is the same type. */
function enumMemo<const V extends Values>(values: V): OptionType<V[number]> {
  if (!Array.isArray(values)) return enumType(values);
  // A submodule written as a function asks for the same values on every instance: compared
  // with the last ones first, without building the cache key.
  const last = lastEnum;
  if (last && sameValues(last.values, values)) return last.type as OptionType<V[number]>;
  let key = "";
  for (const v of values) {
    const k = typeof v;
    if (v !== null && k !== "string" && k !== "number" && k !== "boolean") return enumType(values);
    // typeof first: 1 and "1" are different values (strings quoted, so no value can fake a separator).
    key += `${k}:${k === "string" ? JSON.stringify(v) : String(v)},`;
  }
  let t = enumCache.get(key);
  if (t === undefined) {
    t = enumType(values) as OptionType;
    if (enumCache.size < MAX_ENUMS) enumCache.set(key, t);
  }
  lastEnum = { values: values.slice(), type: t };
  return t as OptionType<V[number]>;
}
/** The values and type of the last `types.enum` of primitive values (a copy: callers may mutate theirs). */
let lastEnum: { values: readonly unknown[]; type: OptionType } | undefined;

function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Values of `to`, or of `from` converted with `coerce` (NixOS `coercedTo`): a definition that
 * `from` accepts is converted before `to` checks and merges it.
 */
function coercedTo<A, B>(
  from: OptionType<A>,
  coerce: (value: A) => B,
  to: OptionType<B>,
): OptionType<B> {
  assertType(from, "coercedTo");
  assertType(to, "coercedTo");
  if (from.extendModules) {
    throw new ModuleError(
      "INVALID_MODULE",
      `types.coercedTo: the type converted from must not be a submodule (it is ${from.description}).`,
    );
  }
  const converted = (v: unknown): unknown => (from.check(v) ? coerce(v as A) : v);
  // Not pure: `coerce` is the caller's function, which may read other options.
  return makeType<B>({
    name: "coercedTo",
    description: `${to.description} or ${from.description} convertible to it`,
    zod: () => zod().union([to.zod, from.zod]),
    check: (v) => (from.check(v) && to.check(coerce(v as A))) || to.check(v),
    merge: (loc, defs) =>
      to.merge(
        loc,
        defs.map((d) => ({ file: d.file, value: converted(d.value) })),
      ),
    getSubOptions: (loc) => to.getSubOptions?.(loc),
    nestedTypes: { coercedType: from, finalType: to },
    ...(to.emptyValue ? { emptyValue: to.emptyValue } : {}),
  });
}

/** A list with at least one element in every definition; no empty value. */
function nonEmptyListOf<T>(elem: OptionType<T>): OptionType<T[]> {
  const list = types.listOf(elem);
  return makeType<T[]>({
    name: "nonEmptyListOf",
    description: `non-empty ${list.description}`,
    zod: () => zod().array(elem.zod).min(1),
    check: (v) => Array.isArray(v) && v.length > 0,
    merge: list.merge,
    getSubOptions: (loc) => list.getSubOptions?.(loc),
    nestedTypes: { elemType: elem },
  });
}

/** Booleans merged with "or": true when any definition is true. */
const boolByOr = makeType<boolean>({
  name: "boolByOr",
  description: "boolean (merged using or)",
  zod: () => zod().boolean(),
  check: (v) => typeof v === "boolean",
  merge: (_loc, defs) => defs.some((d) => d.value === true),
});

function sized(bits: number, signed: boolean): OptionType<number> {
  const lo = signed ? -(2 ** (bits - 1)) : 0;
  const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const t = between(
    lo,
    hi,
    `${bits} bit ${signed ? "signed" : "unsigned"} integer; between ${lo} and ${hi} (both inclusive)`,
  );
  (t as { name: string }).name = `${signed ? "signedInt" : "unsignedInt"}${bits}`;
  return t;
}

/**
 * A module kept as a value, to be imported elsewhere (NixOS `deferredModule`): definitions merge
 * into one module importing each, located as `<file>, via option <path>` in messages.
 */
const deferredModule: OptionType<Module> = makeType<Module>({
  name: "deferredModule",
  description: "module",
  zod: () => zod().any(),
  check: (v) => isAttrs(v) || typeof v === "function",
  merge: (loc, defs) => ({
    imports: defs.map((d) => ({
      file: `${d.file}, via option ${showPath(loc)}`,
      imports: [d.value as Module],
    })),
  }),
  mergeType: (other) => (other.name === "deferredModule" ? deferredModule : undefined),
});

/**
 * `types.optionType`: a value that is itself an option type, e.g. to let modules contribute to
 * the type of another option. Several definitions merge as several declarations of one option
 * would (submodule types join their modules; incompatible types are a declaration conflict).
 */
const optionType = makeType<OptionType>({
  name: "optionType",
  description: "option type",
  check: (v) => isOptionType(v),
  merge: (loc, defs) =>
    defs.length === 1
      ? ((defs[0] as Definition).value as OptionType)
      : mergedDeclaredType(loc, defs),
});

/** A package value: a derivation-like object, or a path (a store path). */
export type PackageValue = { type: "derivation"; [attr: string]: unknown } | string;

/**
 * `types.package` (NixOS): a derivation-like object (`type: "derivation"`, as Nix represents a
 * package) or an absolute path. See `mkPackageOption`.
 */
const packageType = makeType<PackageValue>({
  name: "package",
  description: "package",
  check: (v) =>
    (isAttrs(v) && v.type === "derivation") || (typeof v === "string" && v.startsWith("/")),
  merge: (loc, defs) => mergeEqualOption(loc, defs),
});

// ---------------------------------------------------------------------------------------------
// refined strings and numbers (NixOS `nonEmptyStr`, `strMatching`, `separatedString`, `numbers`)

const isString = (v: unknown): v is string => typeof v === "string";

/** A string with at least one character other than a space, tab or newline. */
const nonEmptyStr = makeType<string>({
  name: "nonEmptyStr",
  description: "non-empty string",
  zod: () =>
    zod()
      .string()
      .regex(/[^ \t\n]/),
  check: (v) => isString(v) && /[^ \t\n]/.test(v),
  simple: true,
});

/** A string without line breaks; one trailing newline is allowed and removed by the merge. */
const singleLineStr = makeType<string>({
  name: "singleLineStr",
  description: "(optionally newline-terminated) single-line string",
  zod: () =>
    zod()
      .string()
      .regex(/^[^\n\r]*\n?$/),
  check: (v) => isString(v) && /^[^\n\r]*\n?$/.test(v),
  merge: (loc, defs) => {
    const value = mergeEqualOption<string>(loc, defs);
    return value.endsWith("\n") ? value.slice(0, -1) : value;
  },
});

// POSIX bracket classes, as NixOS patterns (`builtins.match`, POSIX extended) write them.
const POSIX_CLASSES: Record<string, string> = {
  alnum: "A-Za-z0-9",
  alpha: "A-Za-z",
  blank: " \\t",
  cntrl: "\\x00-\\x1f\\x7f",
  digit: "0-9",
  graph: "\\x21-\\x7e",
  lower: "a-z",
  print: "\\x20-\\x7e",
  punct: "!-\\/:-@\\[-`{-~",
  space: " \\t\\n\\r\\f\\v",
  upper: "A-Z",
  xdigit: "0-9A-Fa-f",
};

/** A whole-string JavaScript regular expression for a `strMatching` pattern. */
function wholeStringRegExp(pattern: string | RegExp): RegExp {
  if (pattern instanceof RegExp)
    return new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gy]/g, ""));
  const source = pattern.replace(
    /\[:([a-z]+):\]/g,
    (whole, name: string) => POSIX_CLASSES[name] ?? whole,
  );
  try {
    return new RegExp(`^(?:${source})$`, "u");
  } catch (e) {
    throw new ModuleError(
      "INVALID_MODULE",
      `types.strMatching: ${JSON.stringify(pattern)} is not a valid regular expression (${(e as Error).message}).`,
    );
  }
}

const strMatchingCache = new Map<string, OptionType<string>>();

/**
 * Strings matched as a whole by `pattern` (NixOS `strMatching`, which uses `builtins.match`).
 * A string pattern is a JavaScript regular expression in which the POSIX classes NixOS modules
 * use (`[[:alnum:]]`, `[[:space:]]`, …) also work; the match is always against the whole string.
 */
function strMatching(pattern: string | RegExp): OptionType<string> {
  const shown = pattern instanceof RegExp ? pattern.toString() : pattern;
  let t = strMatchingCache.get(shown);
  if (t) return t;
  const re = wholeStringRegExp(pattern);
  t = makeType<string>({
    name: `strMatching ${JSON.stringify(shown)}`,
    description: `string matching the pattern ${shown}`,
    zod: () => zod().string().regex(re),
    check: (v) => isString(v) && re.test(v),
    simple: true,
  });
  if (strMatchingCache.size < MAX_ENUMS) strMatchingCache.set(shown, t);
  return t;
}

const separatedCache = new Map<string, OptionType<string>>();

/**
 * Strings whose definitions are concatenated with `sep` between them (NixOS
 * `separatedString`); `commas` and `envVar` are the `","` and `":"` cases.
 */
function separatedString(sep: string): OptionType<string> {
  let t = separatedCache.get(sep);
  if (t) return t;
  t = makeType<string>({
    name: "separatedString",
    description:
      sep === "" ? "concatenated string" : `strings concatenated with ${JSON.stringify(sep)}`,
    zod: () => zod().string(),
    check: isString,
    merge: (_loc, defs) => defs.map((d) => d.value as string).join(sep),
    simple: true,
  });
  if (separatedCache.size < MAX_ENUMS) separatedCache.set(sep, t);
  return t;
}

/** Values of `entryType` that can be a field of `/etc/passwd`: no `:` and no newline. */
function passwdEntry<T extends string>(entryType: OptionType<T>): OptionType<T> {
  assertType(entryType, "passwdEntry");
  return makeType<T>({
    name: `passwdEntry ${entryType.name}`,
    description: `${entryType.description}, not containing newlines or colons`,
    zod: () => entryType.zod,
    check: (v) => entryType.check(v) && isString(v) && !v.includes(":") && !v.includes("\n"),
    merge: entryType.merge,
    ...(entryType.simple ? { simple: true } : {}),
  });
}

const isNumber = (v: unknown): v is number => typeof v === "number" && !Number.isNaN(v);

/** An integer or a floating point number (NixOS `number`). */
const number = makeType<number>({
  name: "number",
  description: "signed integer or floating point number",
  zod: () => zod().number(),
  check: isNumber,
  simple: true,
});

/** Numbers (integers or not) from `lo` to `hi`, both included (NixOS `numbers.between`). */
function numbersBetween(lo: number, hi: number): OptionType<number> {
  if (!(lo <= hi)) {
    throw new ModuleError(
      "INVALID_MODULE",
      `types.numbers.between: lowest (${lo}) must not be greater than highest (${hi}).`,
    );
  }
  return makeType<number>({
    name: "numberBetween",
    description: `integer or floating point number between ${lo} and ${hi} (both inclusive)`,
    zod: () => zod().number().min(lo).max(hi),
    check: (v) => isNumber(v) && v >= lo && v <= hi,
    simple: true,
  });
}

const numbers = {
  between: numbersBetween,
  nonnegative: makeType<number>({
    name: "numberNonnegative",
    description: "nonnegative integer or floating point number, meaning >=0",
    zod: () => zod().number().min(0),
    check: (v) => isNumber(v) && v >= 0,
    simple: true,
  }),
  positive: makeType<number>({
    name: "numberPositive",
    description: "positive integer or floating point number, meaning >0",
    zod: () => zod().number().gt(0),
    check: (v) => isNumber(v) && v > 0,
    simple: true,
  }),
};

/** The built-in option types. */
export const types = {
  str,
  int,
  bool,
  float,
  port,
  lines,
  path,
  nonEmptyStr,
  singleLineStr,
  strMatching,
  separatedString,
  commas: separatedString(","),
  envVar: separatedString(":"),
  passwdEntry,
  number,
  numbers,
  anything,
  raw,
  attrs,
  unspecified,
  enum: enumMemo,
  attrTag,
  optionType,
  package: packageType,
  nullOr: memoByElem(nullOr) as typeof nullOr,
  either,
  oneOf,
  listOf: memoByElem(listOf) as typeof listOf,
  attrsOf: memoByElem(attrsOf) as typeof attrsOf,
  lazyAttrsOf: memoByElem(lazyAttrsOf) as typeof lazyAttrsOf,
  submodule,
  submoduleWith,
  deferredModule,
  functionTo,
  coercedTo,
  nonEmptyListOf,
  boolByOr,
  ints: {
    between: betweenMemo,
    unsigned,
    positive,
    s8: sized(8, true),
    u8: sized(8, false),
    s16: sized(16, true),
    u16: sized(16, false),
    s32: sized(32, true),
    u32: sized(32, false),
  },
};

export { showFiles };
