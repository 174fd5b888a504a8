/** Option types the core options share. */
import { createRequire } from "node:module";
import { mkOptionType, type OptionType } from "@nix2dream/modules";
import type { z as Z } from "zod";

let loaded: typeof Z | undefined;

/**
 * zod, required on first use. Importing it costs more CPU than node's own start-up, and the
 * core options need it only to explain a rejected value and for JSON Schema, so evaluating a
 * valid config never loads it. Through `require`: the same (CommonJS) copy the module engine
 * loads for JSON Schema, not a second one.
 */
function zod(): typeof Z {
  loaded ??= (createRequire(import.meta.url)("zod") as { z: typeof Z }).z;
  return loaded;
}

/**
 * The option type `fromZod(schema(z), name)` would give — same name, description, merge and
 * messages — checked by `accepts`, a plain predicate that accepts exactly what the schema
 * accepts, so that zod is loaded only to explain a rejected value or to build JSON Schema.
 * `copy` is applied to a merged value, as zod's parse returns a copy of an array.
 */
export function checkedType<T>(
  name: string,
  accepts: (value: unknown) => boolean,
  schema: (z: typeof Z) => Z.ZodType<T>,
  copy?: (value: T) => T,
): OptionType<T> {
  let built: Z.ZodType<T> | undefined;
  const zodSchema = () => {
    built ??= schema(zod());
    return built;
  };
  const spec = {
    name,
    description: name,
    zod: zodSchema,
    check: accepts,
    explain: (v: unknown) => {
      const r = zodSchema().safeParse(v);
      return r.success
        ? undefined
        : r.error.issues
            .map((i) => `${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`)
            .join("; ");
    },
  };
  // Simple: merging one definition gives it back unchanged (all definitions must be equal), so
  // the engine takes an option's single winning value without building its merge record.
  if (!copy) return mkOptionType<T>({ ...spec, simple: true });
  const equal = mkOptionType<T>({ name }); // all definitions equal, as zod's types merge
  return mkOptionType<T>({
    ...spec,
    pure: true,
    merge: (loc, defs) => copy(equal.merge(loc, defs)),
  });
}

/**
 * `coercedTo(from, coerce, to)` as in nixpkgs: a definition of type `from` is converted with
 * `coerce` before being merged as `to`, so shorthand and full forms merge with each other
 * (`ports.http = 8080` in one module, `ports.http.expose = true` in another).
 */
export function coercedTo<A, B>(
  from: OptionType<A>,
  coerce: (value: A) => unknown,
  to: OptionType<B>,
  description?: string,
): OptionType<B> {
  const convert = (v: unknown): unknown => (from.check(v) && !to.check(v) ? coerce(v as A) : v);
  const spec = {
    name: "coercedTo",
    // Its conversion and merge read nothing else: plain definitions may be merged early.
    pure: true,
    description: description ?? `${to.description} or ${from.description} convertible to it`,
    zod: () => zod().union([from.zod, to.zod]),
    check: (v: unknown) => to.check(v) || (from.check(v) && to.check(coerce(v as A))),
    merge: (loc: string[], defs: Array<{ file: string; value: unknown }>) =>
      to.merge(
        loc,
        defs.map((d) => ({ file: d.file, value: convert(d.value) })),
      ),
    explain: (v: unknown) => to.explain?.(v) ?? from.explain?.(v),
    nestedTypes: { coercedType: from as OptionType, finalType: to as OptionType },
  };
  return mkOptionType<B>(
    to.getSubOptions
      ? { ...spec, getSubOptions: (loc: string[]) => to.getSubOptions?.(loc) }
      : spec,
  );
}

/**
 * `type` whose merged value is passed through `finish` with the option's path: an `apply` that
 * knows where its option is, so that one declaration serves every instance of a submodule
 * (every service) where an `apply` would need a closure over the instance's name — and each
 * instance a declaration, a type and a template of its own. Never `simple`: its value depends on
 * its path, so the engine never gives one instance's value to another.
 */
export function withPath<T, R>(
  type: OptionType<T>,
  finish: (loc: string[], value: T) => R,
): OptionType<R> {
  const { getSubOptions, explain, mergeType, withDeclarationFile } = type;
  let byFile: Map<string, OptionType<R>> | undefined;
  const t: OptionType<R> = mkOptionType<R>({
    name: type.name,
    description: type.description,
    zod: () => type.zod,
    check: (v) => type.check(v),
    merge: (loc, defs) => finish(loc, type.merge(loc, defs)),
    ...(explain ? { explain: (v: unknown) => explain.call(type, v) } : {}),
    ...(getSubOptions ? { getSubOptions: (loc: string[]) => getSubOptions.call(type, loc) } : {}),
    ...(type.nestedTypes ? { nestedTypes: { ...type.nestedTypes } } : {}),
    ...(type.emptyValue ? { emptyValue: type.emptyValue } : {}),
    // `finish` reads nothing but its arguments.
    ...(type.pure || type.simple ? { pure: true } : {}),
    ...(mergeType
      ? {
          mergeType: (other: OptionType) => {
            const merged = mergeType.call(type, other);
            return merged === undefined
              ? undefined
              : merged === type
                ? t
                : withPath(merged as OptionType<T>, finish);
          },
        }
      : {}),
    ...(withDeclarationFile
      ? {
          // Asked again by every instance's declaration of the option: one type per file.
          withDeclarationFile: (file: string) => {
            const inner = withDeclarationFile.call(type, file);
            if (inner === type) return t;
            byFile ??= new Map();
            let w = byFile.get(file);
            if (w === undefined) {
              w = withPath(inner, finish);
              byFile.set(file, w);
            }
            return w;
          },
        }
      : {}),
  });
  return t;
}
