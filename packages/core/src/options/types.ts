/** Option types the core options share. */
import { mkOptionType, type OptionType } from "@nix2dream/modules";
import { z } from "zod";

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
    description: description ?? `${to.description} or ${from.description} convertible to it`,
    zod: () => z.union([from.zod, to.zod]),
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
