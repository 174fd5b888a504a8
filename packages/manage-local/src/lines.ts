/**
 * Byte-level line handling for log multiplexing. Everything works on Buffers so that
 * non-UTF-8 output survives untouched; a line is only ever emitted whole.
 */

const NEWLINE = 0x0a;
const NL = Buffer.from("\n");

/**
 * Cuts a byte stream into blocks of whole lines. `push` returns the bytes of every line
 * completed by the chunk (each with its newline) as one block, or null; the bytes after the
 * last newline wait for the next chunk (or `flush`). Working on blocks rather than one object
 * per line keeps the cost per chunk, not per line. A line that grows beyond `maxLineBytes`
 * without a newline is emitted as it is, with a newline added, so one runaway writer cannot
 * exhaust memory.
 */
export class LineSplitter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #maxLineBytes: number;

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** The block of lines (newlines included) completed by `chunk`, or null. */
  push(chunk: Buffer): Buffer | null {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      // Copy: the rest is kept across chunks, and a subarray would pin the whole chunk.
      this.#pending.push(Buffer.from(chunk));
      this.#pendingBytes += chunk.length;
      return this.#pendingBytes >= this.#maxLineBytes ? this.flush() : null;
    }
    let block = chunk.subarray(0, last + 1);
    if (this.#pendingBytes > 0) {
      this.#pending.push(block);
      block = Buffer.concat(this.#pending, this.#pendingBytes + block.length);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    if (last + 1 < chunk.length) {
      const rest = chunk.subarray(last + 1);
      this.#pending.push(Buffer.from(rest));
      this.#pendingBytes = rest.length;
    }
    return block;
  }

  /** The partial last line with a newline added, if any (the stream ended without one). */
  flush(): Buffer | null {
    if (this.#pendingBytes === 0) return null;
    this.#pending.push(NL);
    const block = Buffer.concat(this.#pending, this.#pendingBytes + 1);
    this.#pending = [];
    this.#pendingBytes = 0;
    return block;
  }
}

/** The lines of a block (each without its newline); the block must end with a newline. */
export function splitBlock(block: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = block.indexOf(NEWLINE, start);
    if (nl === -1) break;
    lines.push(block.subarray(start, nl));
    start = nl + 1;
  }
  return lines;
}

/**
 * A block of lines with `[time ]prefix` before each line, built in one buffer so it is written
 * in one call: lines from different processes can never interleave inside a line.
 */
export function prefixBlock(block: Buffer, prefix: Buffer, time: string | null): Buffer {
  const head = time === null ? prefix : Buffer.concat([Buffer.from(`${time} `), prefix]);
  let count = 0;
  for (let nl = block.indexOf(NEWLINE); nl !== -1; nl = block.indexOf(NEWLINE, nl + 1)) count++;
  const out = Buffer.allocUnsafe(block.length + count * head.length);
  let at = 0;
  let start = 0;
  for (let nl = block.indexOf(NEWLINE); nl !== -1; nl = block.indexOf(NEWLINE, start)) {
    at += head.copy(out, at);
    at += block.copy(out, at, start, nl + 1);
    start = nl + 1;
  }
  return out;
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
