/** The deep merge behind render-k8s's overrides. */

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isNamedList(v: unknown): v is Array<{ name: string }> {
  return (
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((x) => isPlainObject(x) && typeof (x as { name?: unknown }).name === "string")
  );
}

/**
 * `base` with `patch` deep-merged into it, without changing either: objects merge key by key,
 * `null` in the patch removes the key, lists of items with a `name` (containers, ports, env,
 * volumes) merge item by item on `name` (new names are appended), other lists and values are
 * replaced. Keys keep `base`'s order; new keys follow in `patch`'s order. Core's `deepMerge`,
 * which every other renderer's `override` uses, differs only on lists: it replaces them all.
 */
export function strategicMerge<T>(base: T, patch: unknown): T {
  if (patch === undefined) return base;
  if (isPlainObject(base) && isPlainObject(patch)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = k in out ? strategicMerge(out[k], v) : clone(v);
    }
    return out as T;
  }
  if (isNamedList(base) && isNamedList(patch)) {
    const out: unknown[] = base.map((item) => {
      const p = patch.find((x) => x.name === item.name);
      return p === undefined ? item : strategicMerge(item, p);
    });
    for (const p of patch) if (!base.some((x) => x.name === p.name)) out.push(clone(p));
    return out as T;
  }
  return clone(patch) as T;
}

function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = clone(x);
    return out as T;
  }
  return v;
}

/**
 * @deprecated Renamed {@link strategicMerge} (it merges named lists, unlike core's `deepMerge`);
 * this alias goes in the next minor version.
 */
export const deepMerge = strategicMerge;
