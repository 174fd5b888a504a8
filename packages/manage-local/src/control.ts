/**
 * The control socket: a unix socket under the state dir that lets another process (another
 * terminal's `nix2dream ps|logs|restart|stop|down`) talk to a running supervisor.
 *
 * Protocol (JSON lines): the client connects and sends one request line; the server answers with
 * zero or more `{"log":{...}}` lines (for `logs`) and then one final line
 * `{"ok":true,"data":...}` or `{"ok":false,"error":"..."}`, and closes the connection.
 */

import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  unlinkSync,
} from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { LocalManagerError } from "./errors.js";
import type { ProcessStatus, Supervisor } from "./supervisor.js";

/** A request on the control socket. `name` is a process name or a service name (all its replicas). */
export type ControlRequest =
  | { cmd: "ps" }
  | { cmd: "logs"; names?: string[]; tail?: number | null; follow?: boolean }
  | { cmd: "restart"; name: string }
  | { cmd: "stop"; name: string }
  | { cmd: "down" };

/**
 * One log line as sent over the socket: `line` when the bytes are valid UTF-8, otherwise
 * `base64` (so non-UTF-8 output survives the JSON protocol).
 */
export interface ControlLogLine {
  process: string;
  line?: string;
  base64?: string;
}

/** The final line of every answer. */
export type ControlResponse = { ok: true; data?: unknown } | { ok: false; error: string };

const MAX_REQUEST_BYTES = 64 * 1024;

/**
 * Where the control socket of a state dir lives: `<stateDir>/control.sock`, or, when that path
 * is too long for a unix socket (about 100 bytes), a name derived from it in the temp dir.
 */
export function socketPathFor(stateDir: string): string {
  const preferred = path.join(path.resolve(stateDir), "control.sock");
  if (Buffer.byteLength(preferred) <= 100) return preferred;
  const hash = createHash("sha256").update(path.resolve(stateDir)).digest("hex").slice(0, 16);
  return path.join(tmpdir(), `nix2dream-${hash}.sock`);
}

/** Nothing listens on the control socket: no `up` is running for this state dir. */
export class NotRunningError extends LocalManagerError {
  declare readonly code: "MANAGE_LOCAL_NOT_RUNNING";
  constructor(message: string, hint?: string) {
    super("MANAGE_LOCAL_NOT_RUNNING", message, hint);
    this.name = "NotRunningError";
  }
}

/**
 * The supervisor accepted the request but the connection ended without its answer: it was
 * stopping (every process had finished, or a `down` ran) or it died.
 */
export class ConnectionLostError extends LocalManagerError {
  declare readonly code: "MANAGE_LOCAL_CONNECTION_LOST";
  constructor(message: string, hint?: string) {
    super("MANAGE_LOCAL_CONNECTION_LOST", message, hint);
    this.name = "ConnectionLostError";
  }
}

/** Another supervisor already serves this state dir. */
export class AlreadyRunningError extends LocalManagerError {
  declare readonly code: "MANAGE_LOCAL_ALREADY_RUNNING";
  constructor(message: string, hint?: string) {
    super("MANAGE_LOCAL_ALREADY_RUNNING", message, hint);
    this.name = "AlreadyRunningError";
  }
}

/** Encodes a line for the socket, keeping non-UTF-8 bytes intact. */
export function encodeLogLine(process: string, line: Buffer): ControlLogLine {
  return isUtf8(line)
    ? { process, line: line.toString("utf8") }
    : { process, base64: line.toString("base64") };
}

/** The bytes of a line received from the socket. */
export function decodeLogLine(entry: ControlLogLine): Buffer {
  return entry.base64 !== undefined
    ? Buffer.from(entry.base64, "base64")
    : Buffer.from(entry.line ?? "", "utf8");
}

/**
 * Sends one request to the supervisor serving `stateDir` and resolves with its final answer;
 * `onLog` receives streamed log lines. Rejects with {@link NotRunningError} when no supervisor
 * listens, with {@link ConnectionLostError} when it went away before answering. `signal` closes the connection (ending a `follow`), resolving with `{ ok: true }`.
 */
export function controlRequest(
  stateDir: string,
  request: ControlRequest,
  onLog?: (entry: ControlLogLine) => void,
  signal?: AbortSignal,
): Promise<ControlResponse> {
  const socketPath = socketPathFor(stateDir);
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let buffered = "";
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () => {
      socket.destroy();
      settle(() => resolve({ ok: true }));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) return onAbort();
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on("data", (data: string) => {
      buffered += data;
      let nl = buffered.indexOf("\n");
      while (nl !== -1) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf("\n");
        if (text === "") continue;
        const message = JSON.parse(text) as { log?: ControlLogLine } & Partial<ControlResponse>;
        if (message.log) onLog?.(message.log);
        else if (message.ok !== undefined) {
          socket.end();
          settle(() => resolve(message as ControlResponse));
        }
      }
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      settle(() => {
        if (err.code === "ENOENT" || err.code === "ECONNREFUSED") {
          reject(
            new NotRunningError(
              `No \`up\` is running for this deployment (no control socket at ${socketPath}).`,
            ),
          );
        } else if (err.code === "ECONNRESET" || err.code === "EPIPE") {
          reject(lostConnection(`(${err.code})`));
        } else reject(err);
      });
    });
    socket.on("close", () => settle(() => reject(lostConnection("(closed)"))));
  });
}

function lostConnection(how: string): ConnectionLostError {
  return new ConnectionLostError(
    `The supervisor ended the control connection without an answer ${how}: it was stopping or it died.`,
    "See `nix2dream ps` and the supervisor's output (supervisor.log in the state directory).",
  );
}

/**
 * The last `count` lines of a file (all when `count` is null), as Buffers, looking only at its
 * first `end` bytes when given. Reads backwards in blocks, so a tail of a huge log file stays
 * cheap. A missing file has no lines.
 */
export function tailFile(file: string, count: number | null, end?: number): Buffer[] {
  if (!existsSync(file)) return [];
  const fd = openSync(file, "r");
  try {
    const size = Math.min(fstatSync(fd).size, end ?? Number.POSITIVE_INFINITY);
    const blocks: Buffer[] = [];
    let pos = size;
    let newlines = 0;
    const want = count === null ? Number.POSITIVE_INFINITY : count + 1;
    while (pos > 0 && newlines < want) {
      const len = Math.min(256 * 1024, pos);
      pos -= len;
      const block = Buffer.alloc(len);
      readSync(fd, block, 0, len, pos);
      for (let i = 0; i < len; i++) if (block[i] === 0x0a) newlines++;
      blocks.unshift(block);
    }
    const all = Buffer.concat(blocks);
    const lines: Buffer[] = [];
    let start = 0;
    for (;;) {
      const nl = all.indexOf(0x0a, start);
      if (nl === -1) break;
      lines.push(all.subarray(start, nl));
      start = nl + 1;
    }
    if (start < all.length) lines.push(all.subarray(start));
    // The first line may be cut by the block boundary when we did not read from the start.
    if (pos > 0) lines.shift();
    return count === null ? lines : lines.slice(Math.max(0, lines.length - count));
  } finally {
    closeSync(fd);
  }
}

/** Serves the control socket of one supervisor. */
export class ControlServer {
  readonly #supervisor: Supervisor;
  readonly #path: string;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #followers = new Set<() => void>();

  constructor(supervisor: Supervisor, socketPath: string) {
    this.#supervisor = supervisor;
    this.#path = socketPath;
    this.#server = net.createServer((socket) => this.#accept(socket));
  }

  /** Listens, replacing a stale socket file; rejects when another supervisor answers on it. */
  async listen(): Promise<void> {
    mkdirSync(path.dirname(this.#path), { recursive: true });
    if (existsSync(this.#path)) {
      const alive = await new Promise<boolean>((resolve) => {
        const probe = net.connect(this.#path);
        probe.on("connect", () => {
          probe.destroy();
          resolve(true);
        });
        probe.on("error", () => resolve(false));
      });
      if (alive) {
        throw new AlreadyRunningError(
          `Another \`up\` is already running for this deployment (control socket ${this.#path}); stop it with \`nix2dream down\` first.`,
        );
      }
      unlinkSync(this.#path);
    }
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#path, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    chmodSync(this.#path, 0o600);
  }

  /** Ends every follower, waits briefly for answers in flight, and removes the socket. */
  async close(): Promise<void> {
    for (const end of this.#followers) end();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const timer = setTimeout(() => {
      for (const s of this.#sockets) s.destroy();
    }, 2000);
    await closed;
    clearTimeout(timer);
  }

  #accept(socket: net.Socket) {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffered = "";
    socket.setEncoding("utf8");
    const onData = (data: string) => {
      buffered += data;
      const nl = buffered.indexOf("\n");
      if (nl === -1) {
        if (buffered.length > MAX_REQUEST_BYTES)
          this.#answer(socket, { ok: false, error: "request too long" });
        return;
      }
      socket.off("data", onData);
      let request: ControlRequest;
      try {
        request = JSON.parse(buffered.slice(0, nl)) as ControlRequest;
      } catch {
        return this.#answer(socket, { ok: false, error: "the request is not valid JSON" });
      }
      this.#handle(socket, request).catch((err: Error) =>
        this.#answer(socket, { ok: false, error: err.message }),
      );
    };
    socket.on("data", onData);
  }

  #answer(socket: net.Socket, response: ControlResponse) {
    if (!socket.destroyed) socket.end(`${JSON.stringify(response)}\n`);
  }

  async #handle(socket: net.Socket, request: ControlRequest) {
    const sup = this.#supervisor;
    switch (request.cmd) {
      case "ps":
        return this.#answer(socket, { ok: true, data: sup.status() });
      case "restart":
        return this.#answer(socket, { ok: true, data: await sup.restart(String(request.name)) });
      case "stop":
        return this.#answer(socket, { ok: true, data: await sup.stop(String(request.name)) });
      case "down":
        await sup.shutdown();
        return this.#answer(socket, { ok: true, data: sup.status() });
      case "logs":
        return this.#logs(socket, request);
      default:
        return this.#answer(socket, {
          ok: false,
          error: `unknown command ${JSON.stringify((request as { cmd?: unknown }).cmd)}`,
        });
    }
  }

  async #logs(socket: net.Socket, request: Extract<ControlRequest, { cmd: "logs" }>) {
    const sup = this.#supervisor;
    const names = request.names ?? [];
    const statuses: ProcessStatus[] = sup.status();
    const wanted =
      names.length === 0
        ? statuses.map((s) => s.name)
        : statuses
            .filter((s) => names.includes(s.name) || names.includes(s.service))
            .map((s) => s.name);
    const unknown = names.filter((n) => !statuses.some((s) => s.name === n || s.service === n));
    if (unknown.length > 0) {
      return this.#answer(socket, {
        ok: false,
        error: `There is no process or service \`${unknown[0]}\`.`,
      });
    }
    const send = (process: string, line: Buffer) => {
      if (!socket.destroyed)
        socket.write(`${JSON.stringify({ log: encodeLogLine(process, line) })}\n`);
    };
    // Subscribe, then read each file only up to what it held at that moment: every line is sent
    // exactly once, from the file or from the subscription.
    const queued: [string, Buffer[]][] = [];
    let live = false;
    const unsubscribe = request.follow
      ? sup.subscribe(wanted, (process, lines) => {
          if (live) for (const line of lines) send(process, line);
          else queued.push([process, lines]);
        })
      : null;
    const offsets = await Promise.all(wanted.map((name) => sup.logFileOffset(name)));
    const tail = request.tail === undefined ? null : request.tail;
    wanted.forEach((name, i) => {
      for (const line of tailFile(sup.logFile(name), tail, offsets[i])) send(name, line);
    });
    if (!unsubscribe) return this.#answer(socket, { ok: true });
    for (const [process, lines] of queued) for (const line of lines) send(process, line);
    live = true;
    const end = () => {
      unsubscribe();
      this.#followers.delete(end);
      this.#answer(socket, { ok: true });
    };
    this.#followers.add(end);
    socket.on("close", () => {
      unsubscribe();
      this.#followers.delete(end);
    });
  }
}
