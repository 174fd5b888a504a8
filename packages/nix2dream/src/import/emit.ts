/**
 * Printing TypeScript source: values as literals (every string quoted safely), objects with
 * comments before their keys, and commented-out blocks for what an import could not carry.
 */

/** A TypeScript expression printed as written (a reference, a function call). */
export class TsCode {
  constructor(readonly code: string) {}
}

/** One key of a {@link TsObject}, with comment lines printed above it. */
export interface TsEntry {
  key: string;
  value: TsValue;
  comment: string[];
}

/** An object literal whose keys keep their order and may carry comments. */
export class TsObject {
  readonly entries: TsEntry[] = [];
  /** Comment blocks printed after the last key (what was not carried, with the reason). */
  readonly trailing: string[][] = [];

  /** Sets `key` (replacing an earlier value, keeping its place); returns this. */
  set(key: string, value: TsValue, comment: string[] = []): this {
    const old = this.entries.find((e) => e.key === key);
    if (old) {
      old.value = value;
      old.comment.push(...comment);
    } else this.entries.push({ key, value, comment: [...comment] });
    return this;
  }

  get(key: string): TsValue | undefined {
    return this.entries.find((e) => e.key === key)?.value;
  }

  /** The object at `key`, created empty when missing. */
  child(key: string): TsObject {
    const v = this.get(key);
    if (v instanceof TsObject) return v;
    const o = new TsObject();
    this.set(key, o);
    return o;
  }

  get size(): number {
    return this.entries.length;
  }
}

/** What {@link printValue} prints. */
export type TsValue = string | number | boolean | null | TsValue[] | TsObject | TsCode;

/** A string literal: double quotes, every character that could end or bend it escaped. */
export function tsString(s: string): string {
  // JSON escapes quotes, backslashes and C0 controls; U+2028/2029 are valid in TS strings but
  // confuse editors and older tools, so they are escaped too, as are DEL and C1 controls.
  return JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Text for the inside of a template literal (`` ` ``, `\` and `${` escaped). */
export function templateText(s: string): string {
  return tsString(s)
    .slice(1, -1)
    .replace(/\\"/g, '"')
    .replace(/`/g, "\\`")
    .replace(/\$\{/g, "\\${");
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** An object key: bare when it is an identifier, else a string literal. */
export function tsKey(key: string): string {
  return IDENT.test(key) ? key : tsString(key);
}

/** `base.name` or `base["na-me"]`. */
export function member(base: string, name: string): string {
  return IDENT.test(name) ? `${base}.${name}` : `${base}[${tsString(name)}]`;
}

/**
 * Comment lines as `//` comments. Line terminators inside a line (CR, U+2028, U+2029, which
 * would end a `//` comment and turn the rest into code) are shown escaped.
 */
export function commentLines(lines: string[], indent: string): string[] {
  return lines
    .flatMap((l) => l.split("\n"))
    .map((l) => l.replace(/[\r\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1)))
    .map((l) => (l ? `${indent}// ${l}` : `${indent}//`));
}

const WIDTH = 100;

/** The source of `value` at nesting `depth` (two spaces a level). */
export function printValue(value: TsValue, depth = 0): string {
  if (value instanceof TsCode) return value.code;
  if (value instanceof TsObject) return printObject(value, depth);
  if (Array.isArray(value)) return printArray(value, depth);
  if (typeof value === "string") return tsString(value);
  return String(value);
}

function printArray(items: TsValue[], depth: number): string {
  const parts = items.map((v) => printValue(v, depth + 1));
  const flat = `[${parts.join(", ")}]`;
  if (!flat.includes("\n") && flat.length + depth * 2 < WIDTH) return flat;
  const pad = "  ".repeat(depth + 1);
  return `[\n${parts.map((p) => `${pad}${p},`).join("\n")}\n${"  ".repeat(depth)}]`;
}

function printObject(o: TsObject, depth: number): string {
  if (o.size === 0 && o.trailing.length === 0) return "{}";
  const pad = "  ".repeat(depth + 1);
  const simple = o.trailing.length === 0 && o.entries.every((e) => e.comment.length === 0);
  // The key `...` spreads its value (`{ ...shared, PORT: "5000" }`).
  const parts = o.entries.map((e) =>
    e.key === "..."
      ? `...${printValue(e.value, depth + 1)}`
      : `${tsKey(e.key)}: ${printValue(e.value, depth + 1)}`,
  );
  const flat = `{ ${parts.join(", ")} }`;
  if (simple && depth > 1 && !flat.includes("\n") && flat.length + depth * 2 < WIDTH) return flat;
  const lines: string[] = [];
  o.entries.forEach((e, i) => {
    lines.push(...commentLines(e.comment, pad), `${pad}${parts[i]},`);
  });
  for (const block of o.trailing) lines.push(...commentLines(block, pad));
  return `{\n${lines.join("\n")}\n${"  ".repeat(depth)}}`;
}
