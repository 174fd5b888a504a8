/**
 * Unit-file quoting: how a value becomes unit-file text that systemd reads back as written.
 *
 * Quoting follows systemd.service(5) "Command lines" and systemd.unit(5) "Specifiers":
 * specifiers are expanded on the raw line first (`%%` is a literal `%`), then Exec lines are
 * split into words with C-style escapes in and out of double quotes, then `$VAR` / `${VAR}` are
 * substituted in each word (`$$` is a literal `$`).
 */
import { oneByteText } from "../one-byte.js";
import type { Ref } from "../refs.js";

/**
 * Unit-file text a reference resolves to when a plain string cannot say it: inserted without
 * escaping, so it may use specifiers (`{ unit: "%S/shop/db/data" }`). It must hold no quote,
 * backslash, `$`, whitespace or control character.
 */
export interface UnitSpecifierText {
  unit: string;
}

/** Resolves a reference for a systemd target: a literal string (escaped for you) or {@link UnitSpecifierText}. */
export type SystemdRefResolver = (ref: Ref) => string | UnitSpecifierText;

/** Thrown for a value no unit file can carry (a NUL byte, an unusable program name). */
export class SystemdQuoteError extends Error {
  readonly code = "NIX2DREAM_SYSTEMD_QUOTE";
  constructor(message: string) {
    super(message);
    this.name = "SystemdQuoteError";
  }
}

// Raw unit text travels inside ordinary strings between two private-use characters, like
// reference tokens, so that shell scripts can be built first and quoted for the unit last.
export const RAW_OPEN = "\uE002";
export const RAW_CLOSE = "\uE003";
const RAW_RE = /\uE002([^\uE002\uE003]*)\uE003/g;
const RAW_SAFE = /^[A-Za-z0-9_@%+:,./=~-]*$/;

/** Marks unit-file text (specifiers allowed) inside a string that is escaped later. */
export function rawUnitText(text: string): string {
  if (!RAW_SAFE.test(text)) {
    throw new SystemdQuoteError(
      `Raw unit text ${JSON.stringify(text)} may only hold letters, digits and _@%+:,./=~-.`,
    );
  }
  return `${RAW_OPEN}${text}${RAW_CLOSE}`;
}

/** `value` cut into plain text and text marked with {@link rawUnitText}, in order. */
export function splitRaw(value: string): Array<{ raw: boolean; text: string }> {
  // Most values hold no raw text: skip the regular expression for them.
  if (!value.includes(RAW_OPEN)) return value === "" ? [] : [{ raw: false, text: value }];
  const parts: Array<{ raw: boolean; text: string }> = [];
  let last = 0;
  // Each part stored one byte a character where it can be (see oneByteText), as `value` is not.
  // `exec` on the one expression, not `matchAll`, which copies the expression on every call.
  const re = RAW_RE;
  re.lastIndex = 0;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    if (m.index > last) parts.push({ raw: false, text: oneByteText(value.slice(last, m.index)) });
    parts.push({ raw: true, text: oneByteText(m[1] ?? "") });
    last = m.index + m[0].length;
  }
  if (last < value.length) parts.push({ raw: false, text: oneByteText(value.slice(last)) });
  return parts;
}

function checkNul(value: string): void {
  if (value.includes("\0")) throw new SystemdQuoteError("A unit file cannot carry a NUL byte.");
}

/**
 * Escapes a value for a unit setting that expands specifiers but takes no quotes (Description,
 * WorkingDirectory, User, Environment values before the printer quotes them): `%` → `%%`.
 * Text marked with {@link rawUnitText} is kept as is.
 */
export function unitEscape(value: string): string {
  checkNul(value);
  // Most values hold no raw unit text: no parts to map and join.
  if (!value.includes(RAW_OPEN)) return value.includes("%") ? value.replaceAll("%", "%%") : value;
  return splitRaw(value)
    .map((p) => (p.raw ? p.text : p.text.replaceAll("%", "%%")))
    .join("");
}

/**
 * Why `value` cannot be the value of a unit setting that takes no quotes (Description=, User=,
 * Group=, …) and come back as written, or undefined when it can: systemd ends a line at a line
 * break, strips whitespace around a value, and joins a line ending in `\` with the next one.
 */
export function unitValueProblem(value: string): string | undefined {
  if (/[\r\n]/.test(value)) return "holds a line break, which would end the unit-file line";
  if (/^\s|\s$/.test(value)) return "starts or ends with whitespace, which systemd strips";
  if (value.endsWith("\\")) return "ends with a backslash, which would join the next line to it";
  return undefined;
}

/**
 * A value for a unit setting that takes no quotes, escaped as {@link unitEscape} does.
 * @throws SystemdQuoteError when systemd would not read it back as written (see
 * {@link unitValueProblem}) or it holds a NUL byte.
 */
export function unitPlainValue(value: string): string {
  const problem = unitValueProblem(value);
  if (problem) throw new SystemdQuoteError(`${JSON.stringify(value)} ${problem}.`);
  return unitEscape(value);
}

/** The longest line systemd reads from a unit file (LONG_LINE_MAX: 1 MiB, key and `=` included). */
export const MAX_UNIT_LINE_BYTES = 1024 * 1024;

/**
 * @throws SystemdQuoteError when `key=value` is longer than systemd reads from a unit file.
 */
export function checkUnitLineLength(key: string, value: string): void {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most lines need no count.
  if (3 * (key.length + 1 + value.length) <= MAX_UNIT_LINE_BYTES) return;
  const bytes = Buffer.byteLength(key) + 1 + Buffer.byteLength(value);
  if (bytes > MAX_UNIT_LINE_BYTES) {
    throw new SystemdQuoteError(
      `Its ${key}= line would be ${bytes} bytes; systemd reads at most ${MAX_UNIT_LINE_BYTES} (1 MiB) per unit-file line ("No buffer space available"). Put big contents into a file (\`files.<path>.source\`) or the package.`,
    );
  }
}

/** A word that needs no quotes in an Exec line, in any position but the first. */
const EXEC_SAFE = /^[A-Za-z0-9_@+:,./=-]+$/;

// What cEscape escapes, by whether `%` and `$` are escaped too: index `percent + 2 * dollar`.
// biome-ignore-start lint/suspicious/noControlCharactersInRegex: control characters are escaped
const C_SPECIAL = [
  /[\\"\x00-\x1f\x7f]/g,
  /[\\"\x00-\x1f\x7f%]/g,
  /[\\"\x00-\x1f\x7f$]/g,
  /[\\"\x00-\x1f\x7f%$]/g,
] as const;
// biome-ignore-end lint/suspicious/noControlCharactersInRegex: control characters are escaped

/** The escape of one character cEscape matched. */
function cEscapeOf(c: string): string {
  if (c === "\\") return "\\\\";
  if (c === '"') return '\\"';
  if (c === "%") return "%%";
  if (c === "$") return "$$";
  return controlEscape(c.charCodeAt(0));
}

/**
 * `text` C-escaped for a double-quoted unit value (`\`, `"`, control characters), with `%` as
 * `%%` when the text is not unit text yet (`percent`) and `$` as `$$` where the directive
 * substitutes variables (`dollar`).
 */
function cEscape(text: string, percent: boolean, dollar: boolean): string {
  // One global replace: V8 copies the runs between matches into the result once, where a
  // string built escape by escape allocates two pieces per escape (whole scripts come here,
  // with an escape every few characters).
  return text.replace(C_SPECIAL[(percent ? 1 : 0) + (dollar ? 2 : 0)] as RegExp, cEscapeOf);
}

/** A control character (its code) as its C escape: `\n`, `\t`, `\r`, else `\xNN`. */
function controlEscape(c: number): string {
  if (c === 0x0a) return "\\n";
  if (c === 0x09) return "\\t";
  if (c === 0x0d) return "\\r";
  return `\\x${c.toString(16).padStart(2, "0")}`;
}

/**
 * Quotes one argument of an Exec line (ExecStart=, ExecStartPre=, …) so that the program
 * receives exactly `value`: bare when it is made of safe characters, else in double quotes
 * with `\`, `"` and control characters C-escaped (newline as `\n`), `%` as `%%` and `$` as
 * `$$`. Text marked with {@link rawUnitText} is inserted unescaped.
 * @throws SystemdQuoteError for a NUL byte.
 */
export function unitQuote(value: string): string {
  checkNul(value);
  if (!value.includes(RAW_OPEN)) {
    if (value === "") return '""';
    return EXEC_SAFE.test(value) ? value : `"${cEscape(value, true, true)}"`;
  }
  const parts = splitRaw(value);
  if (parts.length === 0) return '""';
  if (parts.every((p) => p.raw || EXEC_SAFE.test(p.text))) {
    return parts.map((p) => p.text).join("");
  }
  return `"${parts.map((p) => (p.raw ? p.text : cEscape(p.text, true, true))).join("")}"`;
}

/**
 * Quotes an argv as the value of an Exec line. The program (`argv[0]`) must be an absolute
 * path or a bare name systemd finds in its fixed search path; it must not start with one of
 * the prefix characters `@-:+!` nor hold quotes, backslashes or control characters (systemd
 * refuses them), and `$` stays as is in it (systemd substitutes variables in arguments only).
 * `prefix` (e.g. `"-"`, `"+"`) is written before the program.
 * @throws SystemdQuoteError for an empty argv, an unusable program name, or a NUL byte.
 */
export function execLine(argv: readonly string[], prefix = ""): string {
  const program = argv[0];
  if (program === undefined || program === "") {
    throw new SystemdQuoteError("An Exec line needs a program.");
  }
  checkNul(program);
  const plain = splitRaw(program)
    .map((p) => p.text)
    .join("");
  if (/^[@\-:+!]/.test(plain)) {
    throw new SystemdQuoteError(
      `The program ${JSON.stringify(plain)} starts with ${JSON.stringify(plain[0])}, which systemd reads as an Exec prefix; use its absolute path.`,
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/["'\\\x00-\x1f\x7f]/.test(plain)) {
    throw new SystemdQuoteError(
      `The program ${JSON.stringify(plain)} holds a quote, a backslash or a control character, which systemd refuses in an executable name.`,
    );
  }
  if (!plain.startsWith("/") && plain.includes("/")) {
    throw new SystemdQuoteError(
      `The program ${JSON.stringify(plain)} is a relative path; systemd needs an absolute path or a bare name found in its search path.`,
    );
  }
  const parts = splitRaw(program);
  const first = parts.every((p) => p.raw || EXEC_SAFE.test(p.text))
    ? parts.map((p) => p.text).join("")
    : `"${parts.map((p) => (p.raw ? p.text : cEscape(p.text, true, false))).join("")}"`;
  return `${prefix}${[first, ...argv.slice(1).map(unitQuote)].join(" ")}`;
}

/**
 * Quotes an `Environment=` assignment: `"KEY=value"` with `\`, `"` and control characters
 * C-escaped. `value` is unit text as in {@link SystemdService.environment} (its `%` already
 * escaped); `$` stays literal because Environment= does not substitute variables.
 */
export function environmentLine(key: string, value: string): string {
  checkNul(value);
  return `"${cEscape(`${key}=${value}`, false, false)}"`;
}

// What ends a run of plain characters in a word of an Exec line, outside quotes and inside them.
const UNQUOTED_STOP = /[ \t\n\\"']/g;
const DOUBLE_STOP = /[\\"]/g;
const SINGLE_STOP = /[\\']/g;

/**
 * Splits an Exec line back into argv as systemd does (specifiers `%%` only, quotes, C escapes,
 * `$$` in arguments after the program); for tests and tools. Other specifiers and `$VAR` substitutions are left as written.
 * @throws SystemdQuoteError on an unterminated quote or a bad escape.
 */
export function parseExecLine(line: string): string[] {
  const s = line.replace(/%%/g, "%");
  const argv: string[] = [];
  let i = 0;
  const hex = (n: number) => {
    const h = s.slice(i, i + n);
    if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) {
      throw new SystemdQuoteError(`Bad escape at ${i} in ${JSON.stringify(line)}.`);
    }
    i += n;
    return String.fromCodePoint(Number.parseInt(h, 16));
  };
  const escapedChar = (): string => {
    const e = s[i++];
    switch (e) {
      case "a":
        return "\x07";
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case "v":
        return "\v";
      case "\\":
      case '"':
      case "'":
      case " ":
        return e;
      case "s":
        return " ";
      case "x":
        return hex(2);
      case "u":
        return hex(4);
      case "U":
        return hex(8);
      default:
        throw new SystemdQuoteError(`Bad escape \\${e ?? ""} in ${JSON.stringify(line)}.`);
    }
  };
  const blank = (ch: string) => ch === " " || ch === "\t" || ch === "\n";
  while (i < s.length) {
    while (i < s.length && blank(s[i] as string)) i++;
    if (i >= s.length) break;
    let word = "";
    let quote: string | null = null;
    // Text between escapes and quotes is copied as one slice, not character by character.
    let run = i;
    for (; i < s.length; ) {
      const ch = s[i] as string;
      if (quote === null && blank(ch)) break;
      if (ch === "\\") {
        word += s.slice(run, i++);
        word += escapedChar();
        run = i;
      } else if (quote !== null ? ch === quote : ch === '"' || ch === "'") {
        word += s.slice(run, i++);
        quote = quote === null ? ch : null;
        run = i;
      } else {
        // Jump to the next character that can end the run.
        const stop = quote === null ? UNQUOTED_STOP : quote === '"' ? DOUBLE_STOP : SINGLE_STOP;
        stop.lastIndex = i + 1;
        i = stop.exec(s)?.index ?? s.length;
      }
    }
    word += s.slice(run, i);
    if (quote !== null)
      throw new SystemdQuoteError(`Unterminated quote in ${JSON.stringify(line)}.`);
    argv.push(argv.length === 0 ? word : word.replace(/\$\$/g, "$"));
  }
  return argv;
}

/** A duration in seconds as a systemd time span: `5s`, `500ms`, `infinity`. */
export function systemdTimespan(seconds: number): string {
  if (!Number.isFinite(seconds)) return "infinity";
  if (Number.isInteger(seconds)) return `${seconds}s`;
  return `${Math.round(seconds * 1000)}ms`;
}

const BINARY_SUFFIX: Record<string, string> = { Ki: "K", Mi: "M", Gi: "G", Ti: "T", Pi: "P" };
const DECIMAL_FACTOR: Record<string, number> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
};

/** A Kubernetes-style memory quantity (`512Mi`, `1G`, `1000`) as a MemoryMax= value, or null. */
export function systemdMemory(quantity: string): string | null {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P|)$/.exec(quantity.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const suffix = m[2] ?? "";
  const binary = BINARY_SUFFIX[suffix];
  if (binary && Number.isInteger(n)) return `${n}${binary}`;
  const factor = binary
    ? 1024 ** (Object.keys(BINARY_SUFFIX).indexOf(suffix) + 1)
    : DECIMAL_FACTOR[suffix];
  return String(Math.round(n * (factor ?? 1)));
}
