/**
 * YAML for Compose tools. The document is written with the YAML 1.1 schema, which is what
 * docker-compose v1 (PyYAML) reads: strings such as `no`, `on`, `0755` or `1:30` are quoted so
 * that they stay strings, and numbers-as-strings stay strings.
 */
import { Document, Scalar } from "yaml";

/** Escapes `$` as `$$` so Compose's interpolation leaves the value as written. */
export function literal(value: string): string {
  return value.replaceAll("$", "$$$$");
}

/** Plain objects (not arrays, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Deep-merges `override` into `base` (neither is modified): objects merge key by key, anything
 * else replaces; a `null` in `override` deletes the key.
 */
export function deepMerge(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) {
      delete out[key];
      continue;
    }
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

// Characters a YAML 1.1 file may not hold raw (DEL, C1 controls: docker-compose refuses the
// file) or that readers fold into spaces (NEL, LINE and PARAGRAPH SEPARATOR).
const UNPRINTABLE = /[\x7f-\x9f\u2028\u2029]/;
const UNPRINTABLE_ALL = /[\x7f-\x9f\u2028\u2029]/g;

/** `value` with every string holding an unprintable character made a double-quoted scalar. */
function quoteUnprintable(value: unknown): unknown {
  if (typeof value === "string") {
    if (!UNPRINTABLE.test(value)) return value;
    const s = new Scalar(value);
    s.type = Scalar.QUOTE_DOUBLE;
    return s;
  }
  if (Array.isArray(value)) return value.map(quoteUnprintable);
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, quoteUnprintable(v)]));
  }
  return value;
}

/** The escape of an unprintable character inside a double-quoted YAML scalar. */
function escapeUnprintable(c: string): string {
  if (c === "\u2028") return "\\L";
  if (c === "\u2029") return "\\P";
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/**
 * The YAML text of `value`, preceded by `header` comment lines. Strings holding DEL, C1
 * controls, U+2028 or U+2029 are written double-quoted with those characters escaped (the
 * `yaml` package writes them raw).
 */
export function toYaml(value: unknown, header: string[] = []): string {
  const doc = new Document(quoteUnprintable(value), { version: "1.1" });
  // Only double-quoted scalars can hold them now, where the escapes are valid.
  const body = doc
    .toString({ lineWidth: 0, indentSeq: true })
    .replace(UNPRINTABLE_ALL, escapeUnprintable);
  const comments = header.map((l) => (l ? `# ${l}` : "#")).join("\n");
  return comments ? `${comments}\n${body}` : body;
}
