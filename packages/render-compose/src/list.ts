/**
 * `xs.map(f)` built with `push`: the same kind of array (packed) whether or not V8 has optimized
 * the caller. `Array.prototype.map` gives a packed array when it runs as a builtin and a holey one
 * once inlined into optimized code, so code reading the lists (`recordOf`) met a second kind of
 * array halfway through the first render and was deoptimized and compiled again.
 */
export function mapped<T, U>(xs: readonly T[], f: (x: T) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < xs.length; i++) out.push(f(xs[i] as T));
  return out;
}
