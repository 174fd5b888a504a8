/**
 * Byte-level line handling for log multiplexing. Everything works on Buffers so that
 * non-UTF-8 output survives untouched; a line is only ever emitted whole.
 */

const NEWLINE = 0x0a;

/**
 * Splits a byte stream into whole lines. `push` returns the complete lines found so far;
 * the bytes after the last newline wait for the next chunk (or `flush`).
 * A line longer than `maxLineBytes` is emitted in pieces of that size, so one runaway
 * writer cannot exhaust memory.
 */
export class LineSplitter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #maxLineBytes: number;

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** Lines (without their newline) completed by `chunk`. */
  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      let line = chunk.subarray(start, nl);
      if (this.#pendingBytes > 0) {
        this.#pending.push(line);
        line = Buffer.concat(this.#pending, this.#pendingBytes + line.length);
        this.#pending = [];
        this.#pendingBytes = 0;
      }
      lines.push(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      // Copy: the rest is kept across chunks, and a subarray would pin the whole chunk.
      this.#pending.push(Buffer.from(rest));
      this.#pendingBytes += rest.length;
      while (this.#pendingBytes >= this.#maxLineBytes) {
        const all = Buffer.concat(this.#pending, this.#pendingBytes);
        lines.push(all.subarray(0, this.#maxLineBytes));
        const left = all.subarray(this.#maxLineBytes);
        this.#pending = left.length > 0 ? [left] : [];
        this.#pendingBytes = left.length;
      }
    }
    return lines;
  }

  /** The partial last line, if any (the stream ended without a newline). */
  flush(): Buffer | null {
    if (this.#pendingBytes === 0) return null;
    const line = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    return line;
  }
}

const COLORS = [36, 33, 32, 35, 34, 91, 96, 93, 92, 95, 94] as const;

/** A stable ANSI colour code for a name: the same name gets the same colour on every run. */
export function colorFor(name: string): number {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return COLORS[(hash >>> 0) % COLORS.length] as number;
}

/** Wall-clock time as `HH:MM:SS.mmm` (local time), the timestamp prefix of log lines. */
export function timestamp(date = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(date.getMilliseconds(), 3)}`;
}

/** Builds the `name | ` prefix of a process's lines, padded to `width`, coloured when asked. */
export function prefixFor(name: string, width: number, color: boolean): Buffer {
  const label = `${name.padEnd(width)} | `;
  return Buffer.from(color ? `\x1b[${colorFor(name)}m${label}\x1b[0m` : label);
}

const NL = Buffer.from("\n");

/**
 * One buffer holding every line, each as `[time ]prefix line\n`, so a batch is written in
 * one call and lines from different processes can never interleave inside a line.
 */
export function formatLines(lines: Buffer[], prefix: Buffer, time: string | null): Buffer {
  const stamp = time === null ? null : Buffer.from(`${time} `);
  const parts: Buffer[] = [];
  let size = 0;
  for (const line of lines) {
    if (stamp) parts.push(stamp);
    parts.push(prefix, line, NL);
    size += (stamp?.length ?? 0) + prefix.length + line.length + 1;
  }
  return Buffer.concat(parts, size);
}

/** Lines joined with a newline after each, for the raw per-process log file. */
export function rawLines(lines: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  for (const line of lines) {
    parts.push(line, NL);
    size += line.length + 1;
  }
  return Buffer.concat(parts, size);
}
