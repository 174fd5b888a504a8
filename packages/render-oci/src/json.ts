/** Deterministic JSON and the deep merge of the escape hatches. */
import { deepMerge } from "@nix2dream/core";
import { emptyRecord, setEntry } from "@nix2dream/core/oci";

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** The deep merge of the escape hatches: core's (objects merge, `null` deletes, lists replace). */
export { deepMerge };

/** JSON with object keys sorted at every level, two-space indented, newline-terminated. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (isPlainObject(v)) {
      const out = emptyRecord<unknown>();
      for (const k of Object.keys(v).sort()) setEntry(out, k, sort(v[k]));
      return out;
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}
