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
  });
}

interface PrintOptions {
  sort: boolean;
  paths: boolean;
  indented: boolean;
  strings: ((value: string) => string | NixExpr) | null;
}

/** `value` with {@link ToNixOptions.strings} applied when it is a string. */
function mapped(value: unknown, o: PrintOptions): unknown {
  return typeof value === "string" && o.strings !== null ? o.strings(value) : value;
}

/** The key path and value of an attribute, following single-attribute sets when `paths` is on. */
function attrPath(key: string, value: unknown, o: PrintOptions): [string[], unknown] {
  const path = [key];
  let v = value;
  while (o.paths && isPlainObject(v) && !isNixExpr(v)) {
    const obj = v;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
    if (keys.length !== 1) break;
    const only = keys[0] as string;
    path.push(only);
    v = obj[only];
  }
  return [path, v];
}

/** `value` as Nix source (see {@link toNix}). */
function print(value: unknown, indent: number, o: PrintOptions): string {
  const out: string[] = [];
  write(mapped(value, o), indent, o, out);
  return out.length === 1 ? (out[0] as string) : out.join("");
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
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  if (o.sort) keys.sort();
  if (keys.length === 0) {
    out.push("{ }");
    return;
  }
  const pad = " ".repeat(indent + 2);
  out.push("{\n");
  keys.forEach((k, i) => {
    const [path, v] = attrPath(k, value[k], o);
    out.push(i === 0 ? pad : `\n${pad}`, nixAttrPath(path), " = ");
    write(mapped(v, o), indent + 2, o, out);
    out.push(";");
  });
  out.push(`\n${" ".repeat(indent)}}`);
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
    const items = value.map((item) => {
      // Mapped first: a string that becomes an expression may need parentheses.
      const v = mapped(item, o);
      const parts: string[] = [];
      write(v, indent + 2, o, parts);
      const s = parts.length === 1 ? (parts[0] as string) : parts.join("");
      // Function applications and negative numbers must be parenthesised inside a list.
      const needsParens =
        (typeof v === "number" && v < 0) || (isNixExpr(v) && !isSimpleExpr(v[NIX_EXPR_KEY]));
      return needsParens ? `(${s})` : s;
    });
    const inline = `[ ${items.join(" ")} ]`;
    if (!inline.includes("\n") && inline.length + indent <= 80) return inline;
    return `[\n${items.map((i) => `${pad}${i}`).join("\n")}\n${end}]`;
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
  if (!value.includes("\n") || /[\r\t\0]/.test(value)) return undefined;
  const lines = value.split("\n");
  const last = lines.pop() as string;
  const content = last === "" ? lines : [...lines, last];
  // Nix strips whitespace-only lines like indentation, and the common indentation of the rest.
  if (content.some((l) => l !== "" && /^ +$/.test(l))) return undefined;
  const nonBlank = content.filter((l) => l !== "");
  if (nonBlank.length === 0 || nonBlank.every((l) => l.startsWith(" "))) return undefined;
  const pad = " ".repeat(indent + 2);
  const escapeLine = (l: string) => {
    // Only `''` and `${` change (a lone `'` only before `${`): most lines are copied as they are.
    if (!l.includes("'") && !l.includes("${")) return l;
    let out = "";
    for (let i = 0; i < l.length; i++) {
      const c = l[i] as string;
      const next = l[i + 1];
      if (c === "'" && next === "'") {
        out += "'''";
        i++;
      } else if (c === "'" && next === "$" && l[i + 2] === "{") {
        // A lone quote before the `''${` escape would read as `'''`: escape it too.
        out += "''\\'";
      } else if (c === "$" && next === "{") {
        out += "''${";
        i++;
      } else out += c;
    }
    return out;
  };
  const body = content.map((l) => (l === "" ? "" : `${pad}${escapeLine(l)}`));
  if (last === "") return `''\n${body.join("\n")}\n${" ".repeat(indent)}''`;
  if (last.endsWith("'")) return undefined;
  return `''\n${body.join("\n")}''`;
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
