/**
 * The single-instance lock when its owner died: the takeover of a stale lock is atomic with
 * respect to other `up`s (they serialise on `supervisor.lock.takeover`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { removeAbandonedFifos } from "../src/pipes.js";
import { AlreadyRunningError } from "../src/programmatic.js";
import { acquireLock } from "../src/record.js";
import { planOf, supervise, tempDir } from "./helpers.js";
import { act, contextOf } from "./real.js";

/** A lock file left by a supervisor that died (a pid that has exited). */
function staleLock(dir: string): string {
  const dead = spawnSync("true").pid;
  const file = path.join(dir, "supervisor.lock");
  writeFileSync(file, `${dead} -\n`);
  return file;
}

describe("a stale lock", () => {
  it("is taken over, and no takeover file is left behind", () => {
    const dir = tempDir();
    const file = staleLock(dir);
    const release = acquireLock(dir);
    expect(readFileSync(file, "utf8").split(" ")[0]).toBe(String(process.pid));
    expect(existsSync(`${file}.takeover`)).toBe(false);
    release();
    expect(existsSync(file)).toBe(false);
  });

  it("is left alone while another `up` is taking it over, so two can never both take it", () => {
    const dir = tempDir();
    const file = staleLock(dir);
    const stale = readFileSync(file, "utf8");
    // Another invocation holds the takeover: it has read the stale lock and is replacing it.
    writeFileSync(`${file}.takeover`, "");
    expect(() => acquireLock(dir)).toThrow(AlreadyRunningError);
    expect(() => acquireLock(dir)).toThrow(/taking over the lock of a supervisor that died/);
    expect(readFileSync(file, "utf8")).toBe(stale);
  });

  it("is taken over when a takeover file was abandoned (its maker died holding it)", () => {
    const dir = tempDir();
    const file = staleLock(dir);
    writeFileSync(`${file}.takeover`, "");
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.takeover`, old, old);
    const release = acquireLock(dir);
    expect(readFileSync(file, "utf8").split(" ")[0]).toBe(String(process.pid));
    release();
  });
});

/** A FIFO as a supervisor makes them, by a maker that is gone. */
function abandonedFifo(stateDir: string): string {
  mkdirSync(stateDir, { recursive: true });
  const fifo = path.join(stateDir, `.pipe-${spawnSync("true").pid}-7`);
  expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
  return fifo;
}

describe("FIFOs left by a supervisor that was killed", () => {
  it("are removed by the next `up` when it claims the state dir", async () => {
    const { sup, dir } = supervise(planOf([{ name: "web" }]));
    const fifo = abandonedFifo(path.join(dir, "state"));
    await sup.claim();
    expect(existsSync(fifo)).toBe(false);
  });

  it("are removed by `down` when no supervisor runs", async () => {
    const dir = tempDir();
    const { ctx, out } = contextOf(dir);
    const fifo = abandonedFifo(ctx.stateDir);
    expect((await act("down", ctx)).exitCode).toBe(0);
    expect(out.text()).toMatch(/Nothing to stop/);
    expect(existsSync(fifo)).toBe(false);
  });

  it("are removed when the next supervisor claims the state dir; a live maker's are kept", async () => {
    const dir = tempDir();
    const dead = spawnSync("true").pid;
    const abandoned = path.join(dir, `.pipe-${dead}-0`);
    const live = path.join(dir, `.pipe-${process.ppid}-0`);
    expect(spawnSync("mkfifo", [abandoned, live]).status).toBe(0);
    expect(removeAbandonedFifos(dir)).toBe(1);
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
