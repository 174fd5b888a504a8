import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import type { PlannedProcess, ProcessPlan } from "@nix2dream/render-procfile";
import { afterEach } from "vitest";
import { type ProcessStatus, Supervisor, type SupervisorOptions } from "../src/programmatic.js";

/** The node binary running the tests: children are small `node -e` scripts. */
export const NODE = process.execPath;

/** argv for a node one-liner. */
export function nodeScript(code: string): string[] {
  return [NODE, "-e", code];
}

type ProcessInput = Partial<PlannedProcess> & { name: string };

/** A plan with test-friendly defaults: no restart, 2 s grace, short backoff. */
export function planOf(processes: ProcessInput[]): ProcessPlan {
  return {
    version: 1,
    deployment: "test",
    processes: processes.map((p) => ({
      service: p.name,
      replica: 1,
      command: ["sleep", "60"],
      execPrefix: [],
      env: {},
      dependsOn: {},
      probe: null,
      restart: { policy: "no", maxRetries: null, backoff: { initial: 0.05, factor: 2, max: 1 } },
      stop: { signal: "SIGTERM", gracePeriod: 2 },
      ports: {},
      ...p,
    })),
  };
}

/** A writable that keeps everything written to it and wakes waiters on each write. */
export class Sink extends Writable {
  chunks: Buffer[] = [];
  #waiters = new Set<() => void>();

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.chunks.push(Buffer.from(chunk));
    for (const w of this.#waiters) w();
    cb();
  }

  buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  text(): string {
    return this.buffer().toString("utf8");
  }

  /** Output lines (without the newline). */
  lines(): string[] {
    const t = this.text();
    return (t.endsWith("\n") ? t.slice(0, -1) : t).split("\n");
  }

  /** Resolves once the output matches. */
  waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pattern.test(this.text())) {
          this.#waiters.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new Error(`output never matched ${pattern}; output was:\n${this.text().slice(-2000)}`),
        );
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A fresh temp dir, removed after the test (short, so the control socket fits). */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "ml-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A supervisor over a temp render/state dir, shut down after the test whatever happens. */
export function supervise(
  plan: ProcessPlan,
  opts: Partial<SupervisorOptions> = {},
): { sup: Supervisor; out: Sink; dir: string } {
  const dir = tempDir();
  const out = new Sink();
  const sup = new Supervisor({
    plan,
    renderDir: dir,
    stateDir: path.join(dir, "state"),
    output: out,
    ...opts,
  });
  cleanups.push(async () => {
    await sup.shutdown();
    await sup.wait();
  });
  return { sup, out, dir };
}

/** Resolves with a process's status once it satisfies `predicate` (checked now and on every change). */
export function waitForStatus(
  sup: Supervisor,
  name: string,
  predicate: (s: ProcessStatus) => boolean,
  timeoutMs = 20_000,
): Promise<ProcessStatus> {
  return new Promise((resolve, reject) => {
    const current = sup.status().find((s) => s.name === name);
    if (current && predicate(current)) return resolve(current);
    const onState = (s: ProcessStatus) => {
      if (s.name === name && predicate(s)) {
        sup.off("state", onState);
        clearTimeout(timer);
        resolve(s);
      }
    };
    const timer = setTimeout(() => {
      sup.off("state", onState);
      const now = sup.status().find((s) => s.name === name);
      reject(new Error(`${name} never reached the expected status; it is ${JSON.stringify(now)}`));
    }, timeoutMs);
    sup.on("state", onState);
  });
}

/** Every state change, in order, as `name:state`. */
export function recordStates(sup: Supervisor): string[] {
  const seen: string[] = [];
  sup.on("state", (s) => seen.push(`${s.name}:${s.state}`));
  return seen;
}
