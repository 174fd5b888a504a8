/**
 * The supervisor dies (SIGKILL, as the OOM killer does it) while its services run: nothing it
 * started may be lost. A real background supervisor (`dist/daemon.js`, what `up -d` runs) with
 * real children and grandchildren; the test kills it with SIGKILL.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ActionResult, EvaluatedDeployment, ManagerContext } from "@nix2dream/core";
import type { ProcessPlan } from "@nix2dream/render-procfile";
import { afterEach, describe, expect, it } from "vitest";
import local from "../src/index.js";
import { groupHasLiveMembers, killGroup, processAlive } from "../src/probe.js";
import { readRecord } from "../src/record.js";
import { nodeScript, planOf, Sink, tempDir } from "./helpers.js";

const DAEMON = path.join(path.dirname(fileURLToPath(import.meta.url)), "../dist/daemon.js");

/** A service with a grandchild in its group; both keep running until signalled. */
const withGrandchild = (name: string) => ["sh", "-c", `echo ${name} up; sleep 120 & wait`];
/** A service that takes its time to stop on SIGTERM (it says so in `stops`). */
const slowStop = nodeScript(`
  process.on("SIGTERM", () => setTimeout(() => { require("fs").appendFileSync("stops", "slow\\n"); process.exit(0); }, 100));
  console.log("slow up"); setInterval(() => {}, 1000);
`);

function planFor(): ProcessPlan {
  return planOf([
    { name: "web", command: withGrandchild("web") },
    { name: "slow", command: slowStop },
  ]);
}

const started = new Set<number>();
afterEach(() => {
  // Whatever a failed test left: no process outlives the test.
  for (const pgid of started) killGroup(pgid, "SIGKILL");
  started.clear();
});

/** Starts `dist/daemon.js` on a render dir holding `plan`; resolves once both services run. */
async function daemon(plan: ProcessPlan) {
  const dir = tempDir();
  writeFileSync(path.join(dir, "processes.json"), JSON.stringify(plan));
  const stateDir = path.join(dir, "state");
  const child = spawn(
    process.execPath,
    [DAEMON, JSON.stringify({ renderDir: dir, stateDir, timestamps: false })],
    { stdio: ["ignore", "ignore", "ignore"] },
  );
  if (child.pid) started.add(child.pid);
  const groups = await until("the record to list both services", () => {
    const record = readRecord(stateDir);
    return record?.processes.length === 2 ? record.processes.map((p) => p.pid) : null;
  });
  for (const g of groups) started.add(g);
  // The grandchild is there too, and `slow` listens for SIGTERM, before anything is killed.
  await until("web's grandchild", () => membersOf(groups[0] ?? 0).length >= 2 || null);
  await until("slow to be up", () => logOf(stateDir, "slow").includes("slow up") || null);
  return { dir, stateDir, child, groups };
}

async function until<T>(what: string, get: () => T | null, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function logOf(stateDir: string, name: string): string {
  try {
    return readFileSync(path.join(stateDir, "logs", `${name}.log`), "utf8");
  } catch {
    return "";
  }
}

/** Live pids of a process group, from /proc. */
function membersOf(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[2]) === pgid && f[0] !== "Z") out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** The watchdog: the supervisor's `sh` child that is not one of the services. */
function watchdogOf(supervisor: number, services: number[]): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || services.includes(Number(entry))) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[1]) === supervisor && stat.includes("(sh)")) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  throw new Error(`no watchdog among the children of ${supervisor}`);
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.on("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

function context(dir: string, signal = new AbortController().signal) {
  const out = new Sink();
  const err = new Sink();
  const ctx: ManagerContext = {
    deployment: { name: "shop" } as EvaluatedDeployment,
    artifactsDir: dir,
    stateDir: path.join(dir, "state"),
    args: [],
    flags: {},
    stdout: out,
    stderr: err,
    color: false,
    signal,
  };
  return { ctx, out, err };
}

function act(name: string, ctx: ManagerContext): Promise<ActionResult> {
  const action = local().actions[name];
  if (!action) throw new Error(`no action ${name}`);
  return action(ctx);
}

describe("when the supervisor is killed with SIGKILL", () => {
  it("its watchdog stops every service and grandchild, with the stop signal first", async () => {
    const { dir, child, groups } = await daemon(planFor());
    await killed(child);
    await until("every group to be gone", () => groups.every((g) => !groupHasLiveMembers(g)));
    // `slow` got SIGTERM (it wrote its stop), not just SIGKILL.
    expect(readFileSync(path.join(dir, "stops"), "utf8")).toBe("slow\n");
  });

  it("`ps` reports what is left when the watchdog died too, and `down` stops it", async () => {
    const { dir, child, groups } = await daemon(planFor());
    const watchdog = watchdogOf(child.pid ?? 0, groups);
    process.kill(watchdog, "SIGKILL");
    await until("the watchdog to die", () => !processAlive(watchdog));
    await killed(child);
    expect(groups.every((g) => groupHasLiveMembers(g))).toBe(true);

    const ps = context(dir);
    expect((await act("ps", ps.ctx)).exitCode).toBe(1);
    expect(ps.err.text()).toMatch(
      /supervisor died and left 2 process\(es\) running: web \(pid \d+\), slow/,
    );

    const down = context(dir);
    expect((await act("down", down.ctx)).exitCode).toBe(0);
    expect(down.out.text()).toContain("Stopped what a supervisor that died left running");
    expect(groups.filter((g) => groupHasLiveMembers(g))).toEqual([]);
    expect(readFileSync(path.join(dir, "stops"), "utf8")).toBe("slow\n");
  });

  it("the next `up` stops the leftovers before it starts the services: never two copies", async () => {
    const { dir, child, groups } = await daemon(planFor());
    process.kill(watchdogOf(child.pid ?? 0, groups), "SIGKILL");
    await killed(child);

    const ac = new AbortController();
    const run = context(dir, ac.signal);
    const result = act("up", run.ctx);
    await run.out.waitFor(/slow +\| slow up/);
    await run.out.waitFor(/web +\| web up/);
    expect(run.out.text()).toMatch(/stopping what a supervisor that died left running: web \(pid/);
    expect(groups.filter((g) => groupHasLiveMembers(g))).toEqual([]);
    const now = readRecord(path.join(dir, "state"))?.processes.map((p) => p.pid) ?? [];
    for (const g of now) started.add(g);
    expect(now).toHaveLength(2);
    expect(now.filter((g) => groups.includes(g))).toEqual([]);
    ac.abort();
    expect((await result).exitCode).toBe(0);
    expect(now.filter((g) => groupHasLiveMembers(g))).toEqual([]);
    // A clean end leaves no record behind.
    expect(readRecord(path.join(dir, "state"))).toBeNull();
  });
});
