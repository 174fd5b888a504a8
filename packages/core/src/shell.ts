/**
 * POSIX `sh` quoting, shared by every renderer that writes shell (launchers, entrypoints).
 * Everything here produces shell source text; nothing runs a shell.
 */
import { hasRefs, parseRefs, type Ref } from "./refs.js";

/** Characters that never need quoting in any position of a word (no `=`, `~`, globs or braces). */
const SAFE_WORD = /^[A-Za-z0-9_@%+:,./-]+$/;
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Thrown for a value no POSIX shell word can carry (a NUL byte). */
export class ShellQuoteError extends Error {
  readonly code = "NIX2DREAM_SHELL_QUOTE";
  constructor(message: string) {
    super(message);
    this.name = "ShellQuoteError";
  }
}

/**
 * Quotes `value` as one `sh` word that expands to exactly `value`, whatever it holds (quotes,
 * `$()`, backticks, newlines, unicode, a leading `-`, the empty string). Words made only of
 * safe characters stay bare for readability; everything else is single-quoted, with `'`
 * written as `'\''`. Throws {@link ShellQuoteError} for a NUL byte, which no shell string can hold.
 */
export function shellQuote(value: string): string {
  if (value.includes("\0")) {
    throw new ShellQuoteError("A shell word cannot contain a NUL byte.");
  }
  if (SAFE_WORD.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Quotes each element and joins them with spaces: an argv as `sh` source. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}

/** True when `name` can be a shell variable name (and so be `export`ed by `sh`). */
export function isShellName(name: string): boolean {
  return SHELL_NAME.test(name);
}

/** `sh` source that expands to the value of variable `name`, as part of one word: `"${name}"`. */
export function shellVar(name: string): string {
  if (!isShellName(name)) throw new ShellQuoteError(`\`${name}\` is not a shell variable name.`);
  return `"\${${name}}"`;
}

/**
 * Shell source that expands, at run time, to part of one word: e.g.
 * `{ shell: '"${NIX2DREAM_STATE_DIR}"/db/volumes/data' }`. It must be quoted so that it expands
 * to a single field with no globbing or splitting.
 */
export interface ShellExpansion {
  shell: string;
}

/** What a reference resolves to: a literal string (quoted for you) or a {@link ShellExpansion}. */
export type ResolvedRef = string | ShellExpansion;

/** Resolves a reference for one target. */
export type RefResolver = (ref: Ref) => ResolvedRef;

/**
 * Turns a string that may hold reference tokens into one `sh` word: literal parts are quoted,
 * each reference becomes what `resolve` returns (quoted when it is a literal string). Adjacent
 * quoted parts concatenate into a single word, so the result is always exactly one field.
 */
export function shellWord(value: string, resolve: RefResolver): string {
  // No reference (the usual case): the value is one literal part.
  if (!hasRefs(value)) return value === "" ? "''" : shellQuote(value);
  const parts = parseRefs(value);
  if (parts.length === 0) return "''";
  // A loop, not `map` then `join`: no array in between (render-procfile alone, 2000 services:
  // fewer instructions than with `map`, measured).
  let out = "";
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string | Ref;
    if (typeof p === "string") out += shellQuote(p);
    else {
      const r = resolve(p);
      out += typeof r === "string" ? shellQuote(r) : r.shell;
    }
  }
  return out;
}

/**
 * Resolves references to a plain string when every part is literal, or returns `undefined` when
 * some reference only has a run-time (shell) value.
 */
export function literalValue(value: string, resolve: RefResolver): string | undefined {
  let out = "";
  for (const p of parseRefs(value)) {
    if (typeof p === "string") {
      out += p;
      continue;
    }
    const r = resolve(p);
    if (typeof r !== "string") return undefined;
    out += r;
  }
  return out;
}
