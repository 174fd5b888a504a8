/**
 * The supervisor dies (SIGKILL, as the OOM killer does it) while its services run: nothing it
 * started may be lost. A real background supervisor (`dist/daemon.js`, what `up -d` runs) with
 * real children and grandchildren; the test kills it with SIGKILL.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { ProcessPlan } from "@nix2dream/render-procfile";
import { afterEach, describe, expect, it } from "vitest";
import { groupHasLiveMembers, killGroup, processAlive } from "../src/probe.js";
import { readRecord, Watchdog } from "../src/record.js";
import { nodeScript, planOf, tempDir } from "./helpers.js";
import {
  act,
  childrenOf,
  contextOf,
  DAEMON,
  logOf,
  membersOf,
  renderDirOf,
  started,
  until,
} from "./real.js";

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

const groupsOfTest = new Set<number>();
afterEach(() => {
  // Whatever a failed test left: no process outlives the test.
  for (const pgid of groupsOfTest) killGroup(pgid, "SIGKILL");
  groupsOfTest.clear();
});

/** Starts `dist/daemon.js` on a render dir holding `plan`; resolves once both services run. */
async function daemon(plan: ProcessPlan) {
  const dir = renderDirOf(plan);
  const stateDir = path.join(dir, "state");
  const { child } = started(
    [process.execPath, DAEMON, JSON.stringify({ renderDir: dir, stateDir, timestamps: false })],
    { stdout: "ignore" },
  );
  if (child.pid) groupsOfTest.add(child.pid);
  const groups = await until("the record to list both services", () => {
    const record = readRecord(stateDir);
    return record?.processes.length === 2 ? record.processes.map((p) => p.pid) : null;
  });
  for (const g of groups) groupsOfTest.add(g);
  // The grandchild is there too, and `slow` listens for SIGTERM, before anything is killed.
  await until("web's grandchild", () => membersOf(groups[0] ?? 0).length >= 2 || null);
  await until("slow to be up", () => logOf(stateDir, "slow").includes("slow up") || null);
  return { dir, stateDir, child, groups };
}

/** The watchdog: the supervisor's `sh` child that is not one of the services. */
function watchdogOf(supervisor: number, services: number[]): number {
  const found = childrenOf(supervisor, "sh").filter((pid) => !services.includes(pid));
  if (found.length !== 1) throw new Error(`no single watchdog among the children of ${supervisor}`);
  return found[0] ?? 0;
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.on("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

describe("when the supervisor is killed with SIGKILL", () => {
  it("its watchdog stops every service and grandchild, with the stop signal first", async () => {
    const { dir, child, groups } = await daemon(planFor());
    await killed(child);
    await until("every group to be gone", () => groups.every((g) => !groupHasLiveMembers(g)));
    // `slow` got SIGTERM (it wrote its stop), not just SIGKILL.
    expect(readFileSync(path.join(dir, "stops"), "utf8")).toBe("slow\n");
  });

  it("its watchdog SIGKILLs a service that ignores its stop signal, after its grace period", async () => {
    const stubborn = ["sh", "-c", "trap '' TERM; echo slow up; while :; do sleep 0.1; done"];
    const { child, groups } = await daemon(
      planOf([
        { name: "web", command: withGrandchild("web") },
        { name: "slow", command: stubborn, stop: { signal: "SIGTERM", gracePeriod: 1 } },
      ]),
    );
    await killed(child);
    await until(
      "every group to be gone",
      () => groups.every((g) => !groupHasLiveMembers(g)),
      10_000,
    );
  });

  it("`ps` reports what is left when the watchdog died too, and `down` stops it", async () => {
    const { dir, child, groups } = await daemon(planFor());
    const watchdog = watchdogOf(child.pid ?? 0, groups);
    process.kill(watchdog, "SIGKILL");
    await until("the watchdog to die", () => !processAlive(watchdog));
    await killed(child);
    expect(groups.every((g) => groupHasLiveMembers(g))).toBe(true);

    const ps = contextOf(dir);
    await expect(act("ps", ps.ctx)).rejects.toMatchObject({
      code: "MANAGE_LOCAL_NOT_RUNNING",
      message: expect.stringMatching(
        /supervisor died and left 2 process\(es\) running: web \(pid \d+\), slow/,
      ),
    });

    const down = contextOf(dir);
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
    const run = contextOf(dir, {}, ac.signal);
    const result = act("up", run.ctx);
    await run.out.waitFor(/slow +\| slow up/);
    await run.out.waitFor(/web +\| web up/);
    expect(run.out.text()).toMatch(/stopping what a supervisor that died left running: web \(pid/);
    expect(groups.filter((g) => groupHasLiveMembers(g))).toEqual([]);
    const now = readRecord(path.join(dir, "state"))?.processes.map((p) => p.pid) ?? [];
    for (const g of now) groupsOfTest.add(g);
    expect(now).toHaveLength(2);
    expect(now.filter((g) => groups.includes(g))).toEqual([]);
    ac.abort();
    expect((await result).exitCode).toBe(0);
    expect(now.filter((g) => groupHasLiveMembers(g))).toEqual([]);
    // A clean end leaves no record behind.
    expect(readRecord(path.join(dir, "state"))).toBeNull();
  });
});

describe("the watchdog's grace period", () => {
  it("ends with SIGKILL for a group that ignores its stop signal", async () => {
    const ignores = spawn("sh", ["-c", "trap '' TERM; while :; do sleep 0.1; done"], {
      detached: true,
      stdio: "ignore",
    });
    const pgid = ignores.pid ?? 0;
    groupsOfTest.add(pgid);
    const watchdog = new Watchdog(1);
    groupsOfTest.add(watchdog.pid ?? 0);
    watchdog.watch(pgid, "SIGTERM", 1);
    const severed = Date.now();
    watchdog.sever();
    await until("the group to be gone", () => !groupHasLiveMembers(pgid), 10_000);
    // Not at once (it ignored SIGTERM), and not much later than its grace period.
    expect(Date.now() - severed).toBeGreaterThanOrEqual(900);
    expect(Date.now() - severed).toBeLessThan(5000);
  }, 15_000);

  it("is the longest of the groups it was told about, not the one it started with", async () => {
    const dir = tempDir();
    const marker = path.join(dir, "stopped");
    // A group that takes 2 s to stop on SIGTERM, as a database flushing its data would.
    const slow = spawn(
      "sh",
      [
        "-c",
        `trap 'sleep 2; echo graceful > "$0"; exit 0' TERM; while :; do sleep 0.1; done`,
        marker,
      ],
      { detached: true, stdio: "ignore" },
    );
    const pgid = slow.pid ?? 0;
    groupsOfTest.add(pgid);
    // Started by a plan whose longest grace was 1 s; a later plan (`up --watch`) brought this
    // group with 5 s.
    const watchdog = new Watchdog(1);
    groupsOfTest.add(watchdog.pid ?? 0);
    watchdog.watch(pgid, "SIGTERM", 5);
    watchdog.sever();
    await until("the group to be gone", () => !groupHasLiveMembers(pgid), 10_000);
    // SIGKILLed after 1 s, it would not have written the marker.
    expect(readFileSync(marker, "utf8")).toBe("graceful\n");
  }, 15_000);
});
