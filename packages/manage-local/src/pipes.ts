/**
 * Real pipes for children's stdout and stderr. Node's `stdio: "pipe"` is a socketpair, which a
 * program cannot `open("/dev/stdout")` on (ENXIO): nginx's `access_log /dev/stdout` and
 * `echo x > /dev/stderr` fail. Node cannot make an anonymous pipe, so each pipe is a FIFO made
 * in the state dir, opened at both ends and unlinked at once: the child gets the write end as
 * its stdout or stderr, the supervisor reads the other end as a stream.
 */
import { spawnSync } from "node:child_process";
import { closeSync, constants, openSync, readdirSync, unlinkSync } from "node:fs";
import net from "node:net";
import path from "node:path";

/** Both ends of a pipe: `write` for the child, `read` for the supervisor. */
export interface PipeEnds {
  read: number;
  write: number;
}

/**
 * Makes FIFOs in batches (one `mkfifo` call for many, so 50 services do not cost 50 forks)
 * and hands them out as open pipes. When FIFOs cannot be made (no `mkfifo`, a filesystem
 * without them), {@link FifoPool.pipe} returns null and the caller falls back to Node's pipes.
 */
export class FifoPool {
  readonly #dir: string;
  readonly #free: string[] = [];
  #made = 0;
  #works = true;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Makes `count` more FIFOs ahead of need. */
  fill(count: number) {
    if (!this.#works || count <= 0) return;
    const files = Array.from({ length: count }, () =>
      path.join(this.#dir, `.pipe-${process.pid}-${this.#made++}`),
    );
    const made = spawnSync("mkfifo", ["-m", "600", ...files], { stdio: "ignore" });
    if (made.status !== 0) {
      this.#works = false;
      for (const f of files) unlinkQuietly(f);
      return;
    }
    this.#free.push(...files);
  }

  /** An open pipe, or null when FIFOs do not work here. */
  pipe(): PipeEnds | null {
    if (this.#free.length === 0) this.fill(2);
    const file = this.#free.pop();
    if (file === undefined) return null;
    let read = -1;
    try {
      read = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
      // Does not block: the read end is open.
      return { read, write: openSync(file, constants.O_WRONLY) };
    } catch {
      if (read !== -1) closeSync(read);
      this.#works = false;
      return null;
    } finally {
      unlinkQuietly(file);
    }
  }

  /** Removes the FIFOs made but not used. */
  close() {
    for (const f of this.#free.splice(0)) unlinkQuietly(f);
  }
}

/**
 * Removes the FIFOs that a supervisor killed before it could clean up left in `dir` (those
 * whose maker is no longer running). Returns how many were removed.
 */
export function removeAbandonedFifos(dir: string): number {
  let removed = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const maker = /^\.pipe-(\d+)-\d+$/.exec(name)?.[1];
    if (maker === undefined || isAlive(Number(maker))) continue;
    unlinkQuietly(path.join(dir, name));
    removed++;
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The supervisor's end of a pipe as a readable stream (libuv reads it without blocking a thread). */
export function readEnd(fd: number): net.Socket {
  return new net.Socket({ fd, readable: true, writable: false });
}

function unlinkQuietly(file: string) {
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}
