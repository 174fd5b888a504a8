/**
 * A foreground `up` as a process of its own (the built manager, run as the CLI runs it), under
 * what a terminal does to it: SIGHUP when it closes.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { groupHasLiveMembers, killGroup } from "../src/probe.js";
import { readRecord } from "../src/record.js";
import { nodeScript, planOf } from "./helpers.js";
import { RUN_ACTION, renderDirOf, started, until } from "./real.js";

const groupsOfTest = new Set<number>();
afterEach(() => {
  for (const pgid of groupsOfTest) killGroup(pgid, "SIGKILL");
  groupsOfTest.clear();
});

/** `slow` writes `stops` when it gets SIGTERM; `web` has a grandchild in its group. */
function twoServices() {
  return planOf([
    { name: "web", command: ["sh", "-c", "echo web up; sleep 120 & wait"] },
    {
      name: "slow",
      command: nodeScript(`
        process.on("SIGTERM", () => setTimeout(() => { require("fs").appendFileSync("stops", "slow\\n"); process.exit(0); }, 100));
        console.log("slow up"); setInterval(() => {}, 1000);
      `),
    },
  ]);
}

/** Starts a foreground `up`; resolves once both services printed their first line. */
async function foregroundUp(dir: string) {
  const up = started([process.execPath, RUN_ACTION, "up", dir]);
  await until(
    "both services to be up",
    () => /web +\| web up/.test(up.stdout()) && /slow +\| slow up/.test(up.stdout()),
  );
  const groups = readRecord(path.join(dir, "state"))?.processes.map((p) => p.pid) ?? [];
  for (const g of groups) groupsOfTest.add(g);
  expect(groups.length).toBeGreaterThanOrEqual(2);
  return { up, groups };
}

describe("a foreground `up`", () => {
  it("stops everything gracefully on SIGHUP (the terminal was closed), as on Ctrl-C", async () => {
    const dir = renderDirOf(twoServices());
    const { up, groups } = await foregroundUp(dir);
    up.child.kill("SIGHUP");
    expect(await up.exited).toBe(0);
    expect(up.stdout()).toContain("stopping all processes");
    expect(up.stdout()).toMatch(/slow stopped/);
    expect(readFileSync(path.join(dir, "stops"), "utf8")).toBe("slow\n");
    expect(groups.filter((g) => groupHasLiveMembers(g))).toEqual([]);
  });

  it("stops everything gracefully, without a stack trace, when its output's reader goes away (`up | head`)", async () => {
    const plan = twoServices();
    plan.processes.push(
      ...planOf([
        { name: "chatty", command: ["sh", "-c", "while :; do echo tick; sleep 0.02; done"] },
      ]).processes,
    );
    const dir = renderDirOf(plan);
    const { up, groups } = await foregroundUp(dir);
    up.child.stdout?.destroy(); // as `head` does once it has its lines
    expect(await up.exited).toBe(0);
    expect(up.stderr()).not.toMatch(/EPIPE|Error|at /);
    expect(readFileSync(path.join(dir, "stops"), "utf8")).toBe("slow\n");
    expect(groups.filter((g) => groupHasLiveMembers(g))).toEqual([]);
  });
});
