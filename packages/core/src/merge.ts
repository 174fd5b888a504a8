/** The one deep merge behind every renderer's `override` escape hatch. */

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/**
 * `patch` deep-merged into `base`, as every renderer's `override` option merges: objects merge
 * key by key, a `null` in `patch` deletes the key, `undefined` leaves `base` as it is, and
 * anything else — lists included — replaces what `base` has. Keys keep `base`'s order; new keys
 * follow in `patch`'s order. Neither input is modified (values taken from `patch` are shared,
 * not copied; an empty `patch` gives `base` itself). render-k8s's `strategicMerge` is the one variant: it merges lists of named items
 * by `name`, as Kubernetes does.
 */
export function deepMerge<T>(base: T, patch: unknown): T {
  if (patch === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch as T;
  // Nothing to merge (the usual `override: {}`): no copy of `base`.
  if (isEmpty(patch)) return base;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = key in out ? deepMerge(out[key], value) : value;
  }
  return out as T;
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}
