/** Stable codes of {@link ModuleError}; the union stays open for codes added later. */
export type ModuleErrorCode =
  | "UNDECLARED_OPTION"
  | "CONFLICTING_DEFINITIONS"
  | "TYPE_MISMATCH"
  | "UNDEFINED_OPTION"
  | "READ_ONLY"
  | "DECLARATION_CONFLICT"
  | "INFINITE_RECURSION"
  | "INVALID_CONDITION"
  | "REMOVED_OPTION"
  | "FAILED_ASSERTIONS"
  | "INVALID_MODULE"
  | "EVALUATION_ERROR"
  | (string & {});

/**
 * The one error class for every user mistake in module evaluation.
 * `message` is a complete sentence naming the option path and the files involved;
 * `code` is stable and safe to branch on.
 */
export class ModuleError extends Error {
  override name = "ModuleError";
  /** Stable machine-readable code, e.g. `CONFLICTING_DEFINITIONS`. */
  code: ModuleErrorCode;
  /** The full option path, e.g. `services.api.port`, when the error is about one option. */
  optionPath?: string;
  /** Every file involved (declarations and definitions), deduplicated, in message order. */
  files: string[];
  /** For an aggregated error (see `forceDeep`), the individual errors. */
  errors?: ModuleError[];

  constructor(
    code: ModuleErrorCode,
    message: string,
    opts: { optionPath?: string; files?: string[]; cause?: unknown; errors?: ModuleError[] } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    if (opts.optionPath !== undefined) this.optionPath = opts.optionPath;
    this.files = [...new Set(opts.files ?? [])];
    if (opts.errors) this.errors = opts.errors;
  }
}

/**
 * `loc` with `name` appended, as a new exact-size array. Not `loc.concat(name)`: V8's `concat`
 * takes a generic path that is ~15× slower, and option paths are built once per option of every
 * submodule instance.
 */
export function pathTo(loc: readonly string[], name: string): string[] {
  const n = loc.length;
  switch (n) {
    case 0:
      return [name];
    case 1:
      return [loc[0] as string, name];
    case 2:
      return [loc[0] as string, loc[1] as string, name];
    case 3:
      return [loc[0] as string, loc[1] as string, loc[2] as string, name];
  }
  const out: string[] = new Array(n + 1);
  for (let i = 0; i < n; i++) out[i] = loc[i] as string;
  out[n] = name;
  return out;
}

const SIMPLE_NAME = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

/** Placeholders in option paths: `<name>` (attrsOf), `<function body>` (functionTo). */
const PLACEHOLDER = /^<[a-z ]+>$/;

/** Renders an option path like Nix's `showOption`: `services."my.app".port`. */
export function showPath(loc: readonly string[]): string {
  return loc
    .map((p) => (SIMPLE_NAME.test(p) || PLACEHOLDER.test(p) || p === "*" ? p : JSON.stringify(p)))
    .join(".");
}

const MAX_VALUE_CHARS = 80;

/** Prints a value compactly for messages, truncated when huge; never throws. */
export function showValue(value: unknown, max = MAX_VALUE_CHARS): string {
  let out: string;
  try {
    out = render(value, 0, new WeakSet());
  } catch {
    out = "<value>";
  }
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

function render(v: unknown, depth: number, seen: WeakSet<object>): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  switch (typeof v) {
    case "string":
      return JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v);
    case "number":
    case "boolean":
      return String(v);
    case "bigint":
      return `${v}n`;
    case "function":
      return "<function>";
    case "symbol":
      return v.toString();
  }
  const o = v as object;
  if (seen.has(o)) return "<cycle>";
  if (depth > 3) return Array.isArray(o) ? "[…]" : "{…}";
  seen.add(o);
  if (Array.isArray(o)) {
    const items = o.slice(0, 10).map((x) => render(x, depth + 1, seen));
    if (o.length > 10) items.push("…");
    return `[${items.join(", ")}]`;
  }
  const brand = (o as { _type?: unknown })._type;
  if (typeof brand === "string" && brand.startsWith("mk")) return `<${brand}>`;
  const keys = Object.keys(o);
  const parts: string[] = [];
  for (const k of keys.slice(0, 10)) {
    const d = Object.getOwnPropertyDescriptor(o, k);
    const shown = d && "value" in d ? render(d.value, depth + 1, seen) : "<lazy>";
    parts.push(`${SIMPLE_NAME.test(k) ? k : JSON.stringify(k)}: ${shown}`);
  }
  if (keys.length > 10) parts.push("…");
  return `{ ${parts.join(", ")} }`.replace("{  }", "{}");
}

/** A short name of a value's kind for type errors: `a string`, `a list`, ... */
export function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an attribute set";
  if (typeof v === "number") return Number.isInteger(v) ? "an integer" : "a float";
  if (typeof v === "string") return "a string";
  if (typeof v === "boolean") return "a boolean";
  if (typeof v === "function") return "a function";
  return typeof v;
}

/** Joins files for messages: `a.ts`, `a.ts and b.ts`, `a.ts, b.ts and c.ts`. */
export function showFiles(files: readonly string[]): string {
  const u = [...new Set(files)];
  if (u.length <= 1) return u[0] ?? "<unknown file>";
  return `${u.slice(0, -1).join(", ")} and ${u[u.length - 1]}`;
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      prev[j] = Math.min((prev[j] as number) + 1, (prev[j - 1] as number) + 1, diag + cost);
      diag = tmp;
    }
  }
  return prev[b.length] as number;
}

/**
 * Every candidate close enough to `name` to be a likely typo, closest first (for "did you
 * mean"). Close means within a third of the last path segment's length (at least 2) edits.
 */
export function closeMatches(name: string, candidates: Iterable<string>): string[] {
  const last = name.slice(name.lastIndexOf(".") + 1);
  const limit = Math.max(2, Math.floor(last.length / 3));
  const lname = name.toLowerCase();
  const found: { c: string; d: number }[] = [];
  for (const c of candidates) {
    const d = editDistance(lname, c.toLowerCase());
    if (d <= limit) found.push({ c, d });
  }
  found.sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : a.c > b.c ? 1 : 0));
  return found.map((f) => f.c);
}

/** The closest candidate to `name`, if it is close enough to be a likely typo. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  const lname = name.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(lname, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(name.length / 3));
  return bestD <= limit ? best : undefined;
}
