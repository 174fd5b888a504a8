/**
 * Empty records for code that adds keys one by one to objects it builds per service
 * (`@nix2dream/core/record`; also re-exported by `/systemd`, `/oci` and `/nix`), and lists that
 * keep one kind of array ({@link packedMap}).
 *
 * V8 gives every object a hidden class and shares one tree of them among all objects that start
 * as `{}`. That tree stops growing after about 1500 branches, and evaluating a big deployment
 * fills it (every object keyed by a service name, such as each `dependsOn`, is a branch of its
 * own). From then on each key added to a new `{}` builds a hidden class nobody shares: about a
 * microsecond per key plus garbage, most of a renderer's time at 5000 services. Objects made
 * here start from a tree of their own; they are plain objects in every other way (prototype
 * `Object.prototype`, same keys, same JSON).
 */

// A constructor's objects get that constructor's own first hidden class. Its prototype is
// Object.prototype, so what it makes cannot be told from `{}`.
function PlainRecord(): void {}
PlainRecord.prototype = Object.prototype;

/** A new empty object, which `{}` would be, that stays fast when keys are added to it. */
export function emptyRecord<T>(): Record<string, T> {
  return new (PlainRecord as unknown as new () => Record<string, T>)();
}

/**
 * Sets `key` of `record` as its own property, as `Object.fromEntries` does: an assignment
 * would set the prototype for `__proto__`.
 */
export function setEntry<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(record, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else record[key] = value;
}

/**
 * `xs.map(f)`, built with `push`, for lists a renderer builds per service and reads again in hot
 * code (its YAML writer, the next step of a service's objects). `Array.prototype.map` gives a
 * packed array while it runs as a builtin but a holey one once V8 has inlined it into optimized
 * code, so the code reading the lists meets a second kind of array halfway through a first render
 * and is thrown away and compiled again (render-k8s' first render at 5000 services: 13
 * deoptimizations to 4). `f` gets the element only.
 */
export function packedMap<T, U>(xs: readonly T[], f: (x: T) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < xs.length; i++) out.push(f(xs[i] as T));
  return out;
}
