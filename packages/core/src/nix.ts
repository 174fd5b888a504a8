/**
 * Printing Nix source: string literals that evaluate back to exactly the input, and values
 * (attribute sets, lists, scalars, raw expressions) as readable, deterministic Nix.
 * Shared by every renderer that writes Nix (NixOS modules, flakes, `dockerTools` expressions).
 */

export { emptyRecord, setEntry } from "./record.js";

/** Marker key of a raw Nix expression inside data given to {@link toNix}. */
export const NIX_EXPR_KEY = "__nix2dreamNixExpr";

/** A piece of Nix source that {@link toNix} prints as is (e.g. `pkgs.redis`, `lib.mkForce 3`). */
export interface NixExpr {
  readonly [NIX_EXPR_KEY]: string;
}

/**
 * Wraps Nix source so {@link toNix} prints it verbatim. A plain object, so it survives deep
 * merges and module evaluation (usable in override options). The caller vouches that `code` is a
 * valid Nix expression; it is parenthesised where the grammar needs it.
 */
export function nixExpr(code: string): NixExpr {
  // The key written out (it is NIX_EXPR_KEY): V8 builds an object with a computed key slowly.
  return { __nix2dreamNixExpr: code };
}

/** True when `value` was made by {@link nixExpr}. */
export function isNixExpr(value: unknown): value is NixExpr {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    typeof (value as Record<string, unknown>)[NIX_EXPR_KEY] === "string" &&
    Object.keys(value).length === 1
  );
}

/** Thrown for a value Nix cannot represent (a NUL byte, a non-finite number, a function). */
export class NixPrintError extends Error {
  readonly code = "NIX2DREAM_NIX_PRINT";
  constructor(message: string) {
    super(message);
    this.name = "NixPrintError";
  }
}

/** What {@link nixString} escapes (`$` only before `{`). */
const NIX_STRING_SPECIAL = /[\\"\n\r\t]|\$\{/;

/**
 * A double-quoted Nix string literal that evaluates to exactly `value`: `\` and `"` are
 * backslash-escaped, `${` becomes `\${` (no interpolation), newlines, carriage returns and tabs
 * become `\n`, `\r`, `\t`. Unicode is kept as is. Throws {@link NixPrintError} for a NUL byte,
 * which Nix strings cannot hold.
 */
export function nixString(value: string): string {
  if (value.includes("\0")) throw new NixPrintError("A Nix string cannot contain a NUL byte.");
  // Most strings need no escape; the others copy the runs between escapes as slices.
  if (!NIX_STRING_SPECIAL.test(value)) return `"${value}"`;
  let out = '"';
  let last = 0;
  for (let i = 0; i < value.length; i++) {
    let escaped: string;
    switch (value.charCodeAt(i)) {
      case 0x5c:
        escaped = "\\\\";
        break;
      case 0x22:
        escaped = '\\"';
        break;
      case 0x0a:
        escaped = "\\n";
        break;
      case 0x0d:
        escaped = "\\r";
        break;
      case 0x09:
        escaped = "\\t";
        break;
      case 0x24:
        // Only `${` starts an interpolation; a lone `$` (shell `$HOME`, `$$`) stays readable.
        if (value.charCodeAt(i + 1) !== 0x7b) continue;
        escaped = "\\$";
        break;
      default:
        continue;
    }
    out += value.slice(last, i) + escaped;
    last = i + 1;
  }
  return `${out}${value.slice(last)}"`;
}

const NIX_KEYWORDS = new Set([
  "assert",
  "else",
  "if",
  "in",
  "inherit",
  "let",
  "or",
  "rec",
  "then",
  "with",
]);
const NIX_IDENT = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

/** An attribute name as Nix source: bare when it is an identifier, else a string literal. */
export function nixKey(name: string): string {
  return NIX_IDENT.test(name) && !NIX_KEYWORDS.has(name) ? name : nixString(name);
}

/** An attribute path (`["systemd", "services", "my.app"]` → `systemd.services."my.app"`). */
export function nixAttrPath(path: readonly string[]): string {
  return path.map(nixKey).join(".");
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Whether an expression may stand as a list element without parentheses. */
function isSimpleExpr(code: string): boolean {
  return /^[A-Za-z0-9_'.-]+$/.test(code) && !code.startsWith("-");
}

/** Options of {@link toNix}. */
export interface ToNixOptions {
  /** Indentation of the first line's nesting level, in spaces (default 0). */
  indent?: number;
  /** Sort attribute names (default false: insertion order, which callers keep deterministic). */
  sortKeys?: boolean;
  /**
   * Write an attribute whose value is a set with exactly one attribute as a path
   * (`networking.firewall.allowedTCPPorts = [ 80 ];`), as people write NixOS modules.
   */
  paths?: boolean;
  /** Write multi-line strings as indented strings where that is exact (default false). */
  indentedStrings?: boolean;
  /**
   * Maps every string value (attribute names are not values) before it is printed; a
   * {@link nixExpr} it returns is printed verbatim. For data whose strings stand for
   * expressions, without a copy of the whole value to map them first.
   */
  strings?: (value: string) => string | NixExpr;
}

/**
 * Prints a value as Nix source: objects as attribute sets (`{ a = 1; "b.c" = "x"; }`, names
 * quoted where needed), arrays as lists, strings through {@link nixString}, integers and finite
 * numbers, booleans, `null`, and {@link nixExpr} verbatim. `undefined` attributes are left out.
 * Nested attribute sets with a single attribute are written as paths (`a.b = 1;`) only
 * where that reads better is left to callers; this prints the full structure.
 * Throws {@link NixPrintError} for values Nix cannot represent.
 */
export function toNix(value: unknown, opts: ToNixOptions = {}): string {
  return print(value, opts.indent ?? 0, {
    sort: opts.sortKeys ?? false,
    paths: opts.paths ?? false,
    indented: opts.indentedStrings ?? false,
    strings: opts.strings ?? null,
    top: null,
    chunks: [],
  });
}

interface PrintOptions {
  sort: boolean;
  paths: boolean;
  indented: boolean;
  strings: ((value: string) => string | NixExpr) | null;
  /** The pieces of the whole text not yet joined into `chunks`. */
  top: string[] | null;
  /** The text so far, joined a chunk of pieces at a time. */
  chunks: string[];
}

/** Pieces joined at a time: an array of every piece of a big module would be as big as the text. */
const CHUNK_PIECES = 2048;

/** `value` with {@link ToNixOptions.strings} applied when it is a string. */
function mapped(value: unknown, o: PrintOptions): unknown {
  return typeof value === "string" && o.strings !== null ? o.strings(value) : value;
}

/** The defined keys of a set, sorted when the options say so. */
function definedKeys(value: Record<string, unknown>, o: PrintOptions): string[] {
  let keys = Object.keys(value);
  for (const k of keys) {
    if (value[k] === undefined) {
      keys = keys.filter((key) => value[key] !== undefined);
      break;
    }
  }
  if (o.sort) keys.sort();
  return keys;
}

/**
 * The one defined attribute of a set as `[key, value]`, or undefined when it has none or more
 * than one. The value is read here, among reads of every name: read by its name where a path is
 * written, V8 compiled that read for the first name it met and dropped the printer's code when
 * another came.
 */
function onlyDefinedEntry(value: Record<string, unknown>): [string, unknown] | undefined {
  let only: [string, unknown] | undefined;
  for (const k of Object.keys(value)) {
    const v = value[k];
    if (v === undefined) continue;
    if (only !== undefined) return undefined;
    only = [k, v];
  }
  return only;
}

// Attribute names repeat in every service (`serviceConfig`, `ExecStart`, ...): their Nix text is
// kept rather than tested against the identifier grammar again; the cache is bounded.
const KEY_CACHE_LIMIT = 10_000;
const keyTexts = new Map<string, string>();

/** {@link nixKey}, remembered. */
function keyText(name: string): string {
  let text = keyTexts.get(name);
  if (text === undefined) {
    text = nixKey(name);
    if (keyTexts.size < KEY_CACHE_LIMIT) keyTexts.set(name, text);
  }
  return text;
}

// Indentation by width (and after a line break): made once, not for every attribute set.
const pads: string[] = [];
const breakPads: string[] = [];
const padOf = (width: number) => (pads[width] ??= " ".repeat(width));
const breakPadOf = (width: number) => (breakPads[width] ??= `\n${padOf(width)}`);

/** `value` as Nix source (see {@link toNix}). */
function print(value: unknown, indent: number, o: PrintOptions): string {
  const out: string[] = [];
  o.top = out;
  write(mapped(value, o), indent, o, out);
  if (o.chunks.length === 0) return out.length === 1 ? (out[0] as string) : out.join("");
  o.chunks.push(out.join(""));
  return o.chunks.join("");
}

/**
 * Appends the Nix source of `value` (its strings already mapped: see {@link mapped}) to `out`.
 * Attribute sets are written piece by piece into the
 * one array, so the text of a big module is joined once, not again at every level of nesting.
 */
function write(value: unknown, indent: number, o: PrintOptions, out: string[]): void {
  if (isPlainObject(value) && !isNixExpr(value)) writeAttrs(value, indent, o, out);
  else out.push(printValue(value, indent, o));
}

function writeAttrs(
  value: Record<string, unknown>,
  indent: number,
  o: PrintOptions,
  out: string[],
): void {
  const keys = definedKeys(value, o);
  if (keys.length === 0) {
    out.push("{ }");
    return;
  }
  out.push("{\n");
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    let path = keyText(key);
    let v = value[key];
    // With `paths`, a set with a single attribute is written as a path (`a.b = 1;`).
    while (o.paths && isPlainObject(v) && !isNixExpr(v)) {
      const only = onlyDefinedEntry(v);
      if (only === undefined) break;
      path = `${path}.${keyText(only[0])}`;
      v = only[1];
    }
    out.push(i === 0 ? padOf(indent + 2) : breakPadOf(indent + 2), path, " = ");
    write(mapped(v, o), indent + 2, o, out);
    out.push(";");
    if (out === o.top && out.length >= CHUNK_PIECES) {
      o.chunks.push(out.join(""));
      out.length = 0;
    }
  }
  out.push(breakPadOf(indent), "}");
}

/** A value that is not an attribute set as Nix source. */
function printValue(value: unknown, indent: number, o: PrintOptions): string {
  if (value === null) return "null";
  if (typeof value === "string") {
    return o.indented ? (nixIndentedString(value, indent) ?? nixString(value)) : nixString(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new NixPrintError(`${value} is not a Nix number.`);
    if (Number.isInteger(value)) return String(value);
    // Nix floats need a digit before the point and no exponent.
    const s = value.toFixed(6).replace(/0+$/, "");
    return s.endsWith(".") ? `${s}0` : s;
  }
  if (typeof value === "bigint") return value.toString();
  if (isNixExpr(value)) return value[NIX_EXPR_KEY];
  const pad = " ".repeat(indent + 2);
  const end = " ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[ ]";
    // Loops rather than `map` and `join`: V8 dropped and recompiled this function when the
    // arrays it mapped came in another shape. A hole stays empty text, as `map` left it.
    const items: Array<string | undefined> = [];
    let multiline = false;
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) {
        items.push(undefined);
        continue;
      }
      // Mapped first: a string that becomes an expression may need parentheses.
      const v = mapped(value[i], o);
      const parts: string[] = [];
      write(v, indent + 2, o, parts);
      const s = parts.length === 1 ? (parts[0] as string) : parts.join("");
      if (s.includes("\n")) multiline = true;
      // Function applications and negative numbers must be parenthesised inside a list.
      const needsParens =
        (typeof v === "number" && v < 0) || (isNixExpr(v) && !isSimpleExpr(v[NIX_EXPR_KEY]));
      items.push(needsParens ? `(${s})` : s);
    }
    let inline = "[";
    for (const s of items) inline += ` ${s ?? ""}`;
    inline += " ]";
    if (!multiline && inline.length + indent <= 80) return inline;
    let lines = "[";
    for (const s of items) lines += s === undefined ? "\n" : `\n${pad}${s}`;
    return `${lines}\n${end}]`;
  }
  throw new NixPrintError(`A ${typeof value} cannot be printed as Nix.`);
}

/**
 * An indented string literal (`''` … `''`) that evaluates to exactly `value`, for multi-line
 * text such as shell scripts, laid out for nesting level `indent` (spaces). Returns undefined
 * where an indented string cannot carry the value exactly (a single line, carriage returns,
 * tabs, whitespace-only lines, or text whose every line is indented, which Nix would strip);
 * use {@link nixString} then.
 */
export function nixIndentedString(value: string, indent = 0): string | undefined {
  if (!value.includes("\n") || INDENTED_UNSAFE.test(value)) return undefined;
  // Nix strips whitespace-only lines like indentation, and the common indentation of the rest:
  // some line must start with neither a space nor a line break (so it is not blank either).
  if (BLANK_LINE.test(value) || !UNINDENTED_LINE.test(value)) return undefined;
  const endsInNewline = value.endsWith("\n");
  if (!endsInNewline && value.endsWith("'")) return undefined;
  // Escapes never span a line break, so the whole text is escaped at once, and each non-empty
  // line is indented by inserting the padding after the break before it: no array of lines.
  const escaped =
    value.includes("'") || value.includes("${")
      ? value.replace(INDENTED_SPECIAL, indentedEscape)
      : value;
  const pad = " ".repeat(indent + 2);
  const first = escaped.charCodeAt(0) === 0x0a ? "" : pad;
  const body = `${first}${escaped.replace(LINE_START, `\n${pad}`)}`;
  return `''\n${body}${endsInNewline ? " ".repeat(indent) : ""}''`;
}

/** What an indented string cannot carry exactly. */
const INDENTED_UNSAFE = /[\r\t\0]/;
/** A line of spaces only (Nix would strip it). */
const BLANK_LINE = /(?:^|\n) +(?:\n|$)/;
/** A line starting with something other than a space or a line break. */
const UNINDENTED_LINE = /(?:^|\n)[^ \n]/;
/** A line break before a non-empty line. */
const LINE_START = /\n(?=[^\n])/g;
/** What changes in an indented string: `''`, a lone `'` before `${`, and `${`. */
const INDENTED_SPECIAL = /''|'(?=\$\{)|\$\{/g;

/** The escape of one {@link INDENTED_SPECIAL} match. */
function indentedEscape(match: string): string {
  if (match === "''") return "'''";
  // A lone quote before the `''${` escape would read as `'''`: it is escaped too.
  if (match === "'") return "''\\'";
  return "''${";
}

/**
 * A Nix string literal joining literal text and interpolated expressions:
 * `nixInterpolate([nixExpr("lib.getExe pkgs.redis"), " --port 6379"])` is
 * `"${lib.getExe pkgs.redis} --port 6379"`. Literal parts are escaped as by {@link nixString}.
 */
export function nixInterpolate(parts: ReadonlyArray<string | NixExpr>): string {
  let out = "";
  parts.forEach((p, i) => {
    if (typeof p !== "string") {
      out += `\${${p[NIX_EXPR_KEY]}}`;
      return;
    }
    let body = nixString(p).slice(1, -1);
    // `$${` is literal text in Nix: a `$` right before an interpolation must be escaped.
    if (body.endsWith("$") && typeof parts[i + 1] === "object") body = `${body.slice(0, -1)}\\$`;
    out += body;
  });
  return `"${out}"`;
}
