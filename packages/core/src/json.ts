/**
 * Deterministic JSON for generated files (`processes.json`, `images.json`, image labels): object
 * keys sorted at every level, two-space indented, newline-terminated. Written directly rather
 * than as `JSON.stringify` of a key-sorted copy (which cost a third of render-procfile's time at
 * 5000 services); the text is the same as that copy's.
 */

/** Array indices come first in a JS object, in numeric order, whatever order they were set in. */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;
const isArrayIndex = (key: string) => ARRAY_INDEX.test(key) && Number(key) < 4294967295;

/**
 * JSON of `value` with object keys sorted at every level (array indices first, in numeric order,
 * as a JS object enumerates them), two-space indented, newline-terminated: the text of
 * `JSON.stringify` of a key-sorted copy. Data only: `toJSON` methods are not called, and values
 * JSON has no text for (undefined, functions, symbols) are left out of objects and are `null`
 * in arrays.
 */
export function stableJson(value: unknown): string {
  return `${jsonOf(value, "") ?? "undefined"}\n`;
}

/**
 * The keys of `o` in the order `JSON.stringify` writes an object built by setting them in sorted
 * order: array indices ascending by number first, then the others sorted.
 */
function sortedKeys(o: object): string[] {
  const keys = Object.keys(o).sort();
  if (!keys.some(isArrayIndex)) return keys;
  const indices = keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
  return [...indices, ...keys.filter((k) => !isArrayIndex(k))];
}

/** `value` as JSON at nesting `indent`; undefined where JSON has no value (undefined, functions). */
function jsonOf(value: unknown, indent: string): string | undefined {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const inner = `${indent}  `;
  const parts: string[] = [];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) parts.push(jsonOf(value[i], inner) ?? "null");
    return parts.length === 0 ? "[]" : `[\n${inner}${parts.join(`,\n${inner}`)}\n${indent}]`;
  }
  const record = value as Record<string, unknown>;
  for (const key of sortedKeys(record)) {
    const json = jsonOf(record[key], inner);
    if (json !== undefined) parts.push(`${JSON.stringify(key)}: ${json}`);
  }
  return parts.length === 0 ? "{}" : `{\n${inner}${parts.join(`,\n${inner}`)}\n${indent}}`;
}
