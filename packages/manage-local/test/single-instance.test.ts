/**
 * One supervisor per deployment: concurrent `up -d` and a second foreground `up`, each in a
 * process of its own (the built manager, run as the CLI runs it).
 */
import { appendFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killGroup } from "../src/probe.js";
import { readRecord } from "../src/record.js";
import { planOf } from "./helpers.js";
import { act, contextOf, RUN_ACTION, renderDirOf, started, until } from "./real.js";

const groupsOfTest = new Set<number>();
afterEach(() => {
  for (const pgid of groupsOfTest) killGroup(pgid, "SIGKILL");
  groupsOfTest.clear();
});

const plan = () => planOf([{ name: "web", command: ["sh", "-c", "echo web up; exec sleep 120"] }]);

function remember(dir: string) {
  for (const p of readRecord(path.join(dir, "state"))?.processes ?? []) groupsOfTest.add(p.pid);
}

describe("a second `up` of the same deployment", () => {
  it("two concurrent `up -d`: one starts, the other exits 1 with one line; the log is appended", async () => {
    const dir = renderDirOf(plan());
    const log = path.join(dir, "state", "supervisor.log");
    const runs = [0, 1].map(() => started([process.execPath, RUN_ACTION, "up", dir, "-d"]));
    const codes = await Promise.all(runs.map((r) => r.exited));
    await until("the record", () => readRecord(path.join(dir, "state"))?.processes.length === 1);
    remember(dir);
    expect([...codes].sort()).toEqual([0, 1]);
    const loser = runs[codes.indexOf(1)] ?? runs[0];
    const winner = runs.find((r) => r !== loser);
    expect(winner?.stdout()).toMatch(/Started in the background \(pid \d+\)/);
    expect(loser?.stdout()).toBe("");
    expect(loser?.stderr().trim().split("\n")).toHaveLength(1);
    expect(loser?.stderr()).toMatch(/already running for (this )?deployment/);
    // The loser did not truncate the winner's log.
    appendFileSync(log, "marker\n");
    const third = started([process.execPath, RUN_ACTION, "up", dir, "-d"]);
    expect(await third.exited).toBe(1);
    expect(readFileSync(log, "utf8")).toContain("marker\n");
    expect((await act("down", contextOf(dir).ctx)).exitCode).toBe(0);
  });

  it("a refused foreground `up` says only why, without announcing what it would run", async () => {
    const dir = renderDirOf(plan());
    const first = started([process.execPath, RUN_ACTION, "up", dir]);
    await until("web to be up", () => /web +\| web up/.test(first.stdout()));
    remember(dir);
    const second = started([process.execPath, RUN_ACTION, "up", dir]);
    expect(await second.exited).toBe(1);
    expect(second.stdout()).toBe("");
    expect(second.stderr()).toMatch(
      /^error: manager local: Another `up` \(pid \d+\) is already running for this deployment; stop it with `nix2dream down` first\.\n$/,
    );
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
  });
});
