/**
 * A YAML 1.1 printer for JSON-like values: block style, two-space indent, sequences indented
 * under their key, no line folding. Its output is the `yaml` package's (`Document` with
 * `version: "1.1"`, `lineWidth: 0`, `indentSeq: true`) byte for byte, which the Compose files
 * were written with before (`test/yaml-print.test.ts` compares both over the goldens and
 * generated hostile strings); it only skips building a document tree, the largest cost of a
 * render at thousands of services. It differs only where the package's output does not read
 * back as the value written: `<<` and `=` are quoted (plain, PyYAML takes them for the merge
 * and value keys and docker-compose refuses the file), so is a timestamp with an empty fraction
 * (`2001-12-14 21:59:43.`, a timestamp to PyYAML), a string of blanks and line breaks holding a blank is
 * double-quoted (as a block scalar its blanks were lost), a string holding a tab is quoted
 * rather than plain (PyYAML, docker-compose's reader, stops a plain scalar at a tab and then
 * refuses the file), and a key holding U+2028 or U+2029 is double-quoted with the character
 * escaped (it was written plain and raw).
 */

const STEP = "  ";

// A plain scalar may not start with an indicator, be a lone `-`/`?` (or one followed by a
// blank), hold `: ` or ` #`, or end with a blank or `:`; any line break needs quoting or a block.
const NOT_PLAIN =
  /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-](?:$|[ \t])|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;

// What a YAML 1.1 reader (PyYAML, docker-compose v1) resolves to something other than a string:
// null, booleans, integers (binary, octal, decimal, hex, base 60), floats (base 60, exponent,
// .inf, .nan), the merge key `<<`, the value key `=` and timestamps. Such strings are quoted.
const NOT_A_STRING_11 = new RegExp(
  [
    "^(?:~|null|Null|NULL)?$",
    "^(?:[yYnN]|yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
    "^[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])*)$",
    "^[-+]?(?:[0-9][0-9_]*(?::[0-5]?[0-9])*)?\\.[0-9_]*$",
    "^[-+]?(?:[0-9][0-9_]*)?(?:\\.[0-9_]*)?[eE][-+]?[0-9]+$",
    "^(?:[-+]?\\.(?:inf|Inf|INF)|\\.nan|\\.NaN|\\.NAN)$",
    "^<<$",
    "^=$",
    "^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \\t]+)[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\\.[0-9]*)?(?:[ \\t]*(?:Z|[-+][012]?[0-9](?::[0-9]{2})?))?)?$",
  ].join("|"),
);

// Characters only a double-quoted scalar can hold: C0 controls other than tab and line feed,
// DEL, C1 controls and unpaired surrogates (the `u` flag leaves paired ones alone).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const NEEDS_ESCAPES = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{d800}-\u{dfff}]/u;
// Written escaped although JSON leaves them raw: a YAML 1.1 file may not hold DEL or C1
// controls (docker-compose refuses it), and readers fold NEL, LS and PS into spaces.
const RAW_IN_JSON = /[\x7f-\x9f\u2028\u2029]/;
const RAW_IN_JSON_ALL = /[\x7f-\x9f\u2028\u2029]/g;
/** A line-start document marker (`---`, `...`) or directive (`%`). */
const DOCUMENT_MARKER = /^(?:%|---|\.\.\.)/m;
/** A last line of blanks only: a block scalar cannot end with it. */
const BLANK_LAST_LINE = /\n[\t ]+$/;
/** Blanks and line breaks only, at least one blank: a block scalar loses the blanks. */
const BLANKS_ONLY = /^[\n\t ]*[\t ][\n\t ]*$/;
/** A blank next to a line break: single quotes would fold it away. */
const BLANK_AT_BREAK = /[ \t]\n|\n[ \t]/;
/** Short JSON strings keep `\n` escaped rather than breaking the line. */
const MIN_MULTILINE_LENGTH = 40;
const KEY_MAX_LENGTH = 1024;

/** Where a scalar is written: its indentation, and whether it is a mapping key. */
interface At {
  indent: string;
  key: boolean;
}

/** The escape, inside double quotes, of a character that JSON writes as `\uXXXX`. */
function escapeOfJsonU(code: string): string {
  switch (code) {
    case "0000":
      return "\\0";
    case "0007":
      return "\\a";
    case "000b":
      return "\\v";
    case "001b":
      return "\\e";
    default:
      return code.startsWith("00") ? `\\x${code.slice(2)}` : `\\u${code}`;
  }
}

/** The escape, inside double quotes, of a character JSON leaves raw (see RAW_IN_JSON). */
function escapeOfRaw(c: string): string {
  if (c === "\u2028") return "\\L";
  if (c === "\u2029") return "\\P";
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/**
 * `value` double-quoted: JSON's escapes in YAML's spelling; outside keys, a line feed of a long
 * string becomes a real line break (a blank line in the folded scalar), and blanks at a break
 * are escaped so folding keeps them.
 */
function doubleQuoted(value: string, at: At): string {
  const json = JSON.stringify(value);
  const out = json.includes("\\") ? rewriteJsonEscapes(json, value, at) : json;
  return RAW_IN_JSON.test(out) ? out.replace(RAW_IN_JSON_ALL, escapeOfRaw) : out;
}

function rewriteJsonEscapes(json: string, value: string, at: At): string {
  const indent = at.indent || (DOCUMENT_MARKER.test(value) ? STEP : "");
  const breakLines = !at.key && json.length >= MIN_MULTILINE_LENGTH;
  let out = "";
  let start = 0;
  for (let i = 0; i < json.length; i++) {
    if (json[i] === " " && json[i + 1] === "\\" && json[i + 2] === "n") {
      out += `${json.slice(start, i)}\\ `;
      start = ++i;
    }
    if (json[i] !== "\\") continue;
    const next = json[i + 1];
    if (next === "u") {
      out += json.slice(start, i) + escapeOfJsonU(json.slice(i + 2, i + 6));
      i += 5;
      start = i + 1;
    } else if (next === "n" && breakLines && json[i + 2] !== '"') {
      out += `${json.slice(start, i)}\n\n`;
      while (json[i + 2] === "\\" && json[i + 3] === "n" && json[i + 4] !== '"') {
        out += "\n";
        i += 2;
      }
      out += json[i + 2] === " " ? `${indent}\\` : indent;
      i += 1;
      start = i + 1;
    } else {
      i += 1;
    }
  }
  return start ? out + json.slice(start) : json;
}

/** `value` single-quoted (`'` doubled), or double-quoted where single quotes cannot hold it. */
function singleQuoted(value: string, at: At): string {
  if ((at.key && value.includes("\n")) || BLANK_AT_BREAK.test(value)) {
    return doubleQuoted(value, at);
  }
  const indent = at.indent || (DOCUMENT_MARKER.test(value) ? STEP : "");
  return `'${value.replaceAll("'", "''").replace(/\n+/g, (m) => `${m}\n${indent}`)}'`;
}

/** Single quotes when the value holds `"` but no `'`, else double quotes. */
function quoted(value: string, at: At): string {
  return value.includes('"') && !value.includes("'")
    ? singleQuoted(value, at)
    : doubleQuoted(value, at);
}

/** The chomping indicator of a block scalar whose trailing blanks and breaks are `end`. */
function chompOf(value: string, end: string): string {
  const nl = end.indexOf("\n");
  if (nl === -1) return "-";
  return value === end || nl !== end.length - 1 ? "+" : "";
}

/** Index just past the last character that is not a blank or line break. */
function contentEnd(value: string): number {
  let i = value.length;
  while (i > 0 && (value[i - 1] === "\n" || value[i - 1] === "\t" || value[i - 1] === " ")) i--;
  return i;
}

/** `value` (which holds a line break) as a literal block scalar `|`, or quoted where it cannot be. */
function literalBlock(value: string, at: At, forceIndent = false): string {
  if (BLANK_LAST_LINE.test(value) || BLANKS_ONLY.test(value)) return quoted(value, at);
  const indent = at.indent || (forceIndent || DOCUMENT_MARKER.test(value) ? STEP : "");
  let end = value.slice(contentEnd(value));
  const chomp = chompOf(value, end);
  let body = end ? value.slice(0, -end.length) : value;
  if (end.endsWith("\n")) end = end.slice(0, -1);
  end = end.replace(/\n+(?=[^\n])/g, (m) => m + indent);
  // Leading blanks and breaks: kept up to the last break; a leading blank needs an indent indicator.
  let startWithSpace = false;
  let lastBreak = -1;
  let i = 0;
  for (; i < body.length; i++) {
    if (body[i] === " ") startWithSpace = true;
    else if (body[i] === "\n") lastBreak = i;
    else break;
  }
  let start = body.slice(0, lastBreak < i ? lastBreak + 1 : i);
  if (start) {
    body = body.slice(start.length);
    start = start.replace(/\n+/g, (m) => m + indent);
  }
  const header = (startWithSpace ? (indent ? "2" : "1") : "") + chomp;
  return `|${header}\n${indent}${start}${body.replace(/\n+/g, (m) => m + indent)}${end}`;
}

/** A string scalar as the `yaml` package writes it by default (plain where it can). */
function stringScalar(value: string, at: At): string {
  if (NEEDS_ESCAPES.test(value)) return doubleQuoted(value, at);
  if (at.key && value.includes("\n")) return quoted(value, at);
  if (NOT_PLAIN.test(value)) {
    return at.key || !value.includes("\n") ? quoted(value, at) : literalBlock(value, at);
  }
  if (!at.key && value.includes("\n")) return literalBlock(value, at);
  if (DOCUMENT_MARKER.test(value)) {
    if (at.indent === "") return literalBlock(value, at, true);
    if (at.key && at.indent === STEP) return quoted(value, at);
  }
  // PyYAML ends a plain scalar at a tab, then refuses the tab: such strings are quoted.
  return NOT_A_STRING_11.test(value) || value.includes("\t") ? quoted(value, at) : value;
}

// A string of these characters (no blank, break, quote, indicator or escape; a letter, digit or
// `_` first, so no document marker) is written the same wherever it stands, as a key or a value:
// its scalar is kept, since names, ports and labels repeat through a Compose file.
const SIMPLE = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
const SIMPLE_CACHE_LIMIT = 10_000;
const simpleScalars = new Map<string, string>();

function simpleScalar(value: string, at: At): string {
  let out = simpleScalars.get(value);
  if (out === undefined) {
    out = stringScalar(value, at);
    if (simpleScalars.size < SIMPLE_CACHE_LIMIT) simpleScalars.set(value, out);
  }
  return out;
}

/** A number as YAML 1.1 writes it (`.inf`, `.nan`, `-0`). */
function numberScalar(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? ".nan" : value < 0 ? "-.inf" : ".inf";
  return Object.is(value, -0) ? "-0" : JSON.stringify(value);
}

/** A non-collection value; a mapping key when `at.key`. */
function scalar(value: unknown, at: At): string {
  switch (typeof value) {
    case "string":
      if (SIMPLE.test(value)) return simpleScalar(value, at);
      return RAW_IN_JSON.test(value) ? doubleQuoted(value, at) : stringScalar(value, at);
    case "number":
      return numberScalar(value);
    case "bigint":
      return String(value);
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return "null";
    default:
      if (value === null) return "null";
      throw new TypeError(`Cannot write a ${typeof value} value as YAML.`);
  }
}

/** True for arrays and objects: written as YAML collections. */
function isCollection(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

// The printers below append pieces to one array, joined once per document: a string grown with
// `+=` is a rope of a million pieces at 5000 services, slower to build and to flatten.

/** Lines of a block sequence; the first is not indented (it follows its parent's prefix). */
function sequence(items: readonly unknown[], indent: string, out: string[]): void {
  if (items.length === 0) {
    out.push("[]");
    return;
  }
  const itemIndent = indent + STEP;
  for (let i = 0; i < items.length; i++) {
    out.push(i === 0 ? "- " : `\n${indent}- `);
    node(items[i], itemIndent, out);
  }
}

/** Lines of a block mapping (keys in object order, `undefined` values left out). */
function mapping(object: object, indent: string, out: string[]): void {
  const keyAt: At = { indent: indent + STEP, key: true };
  const record = object as Record<string, unknown>;
  let first = true;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value === undefined) continue;
    if (!first) out.push(`\n${indent}`);
    first = false;
    pair(scalar(key, keyAt), value, indent, out);
  }
  if (first) out.push("{}");
}

/** True for `[]` and for an object with no defined value: both are written inline. */
function isEmptyCollection(value: object): boolean {
  if (Array.isArray(value)) return value.length === 0;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) if (record[key] !== undefined) return false;
  return true;
}

/** `key: value`; a key longer than YAML's 1024-character limit for implicit keys is explicit. */
function pair(key: string, value: unknown, indent: string, out: string[]): void {
  const inner = indent + STEP;
  if (key.length > KEY_MAX_LENGTH) out.push("? ", key, `\n${indent}: `);
  // A non-empty collection starts on the next line; `[]` and `{}` stay on the key's.
  else if (isCollection(value) && !isEmptyCollection(value)) out.push(key, `:\n${inner}`);
  else out.push(key, ": ");
  node(value, inner, out);
}

/** Any value, its continuation lines indented by `indent`. */
function node(value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value)) sequence(value, indent, out);
  else if (isCollection(value)) mapping(value, indent, out);
  else out.push(scalar(value, { indent, key: false }));
}

/**
 * `value` as one YAML document (ending in a line feed): objects as block mappings, arrays as
 * block sequences, strings plain where YAML 1.1 reads them back as the same string, else quoted
 * or as literal blocks; strings holding DEL, C1 controls, U+2028 or U+2029 double-quoted with
 * those characters escaped. `undefined` object values are left out. Throws a TypeError on a
 * function or symbol.
 */
export function printYaml(value: unknown): string {
  const out: string[] = [];
  node(value, "", out);
  out.push("\n");
  return out.join("");
}
