import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { processAlive } from "../src/probe.js";
import { nodeScript, planOf, supervise, waitForStatus } from "./helpers.js";

/** A process that records its stop in `stops` (after a short delay, to make the order visible) and exits. */
const recordsStop = (name: string) =>
  nodeScript(`
    process.on("SIGTERM", () => setTimeout(() => { require("fs").appendFileSync("stops", "${name}\\n"); process.exit(0); }, 50));
    console.log("up"); setInterval(() => {}, 1000);
  `);

/** Prints the pid of a grandchild (which ignores SIGTERM when `stubborn`) and keeps running. */
const withGrandchild = (stubborn: boolean) =>
  nodeScript(`
    const { spawn } = require("child_process");
    const code = ${JSON.stringify(`${stubborn ? "process.on('SIGTERM', () => {});" : ""} console.log('grandchild ' + process.pid); setInterval(() => {}, 1000)`)};
    spawn(process.execPath, ["-e", code], { stdio: ["ignore", "inherit", "inherit"] });
    process.on("SIGTERM", () => process.exit(0));
    setInterval(() => {}, 1000);
  `);

function grandchildPid(text: string): number {
  const m = /grandchild (\d+)/.exec(text);
  if (!m) throw new Error(`no grandchild pid in:\n${text}`);
  return Number(m[1]);
}

describe("shutdown", () => {
  it("stops processes in reverse dependency order", async () => {
    const plan = planOf([
      { name: "db", command: recordsStop("db") },
      { name: "api", command: recordsStop("api"), dependsOn: { db: "started" } },
      { name: "web", command: recordsStop("web"), dependsOn: { api: "started" } },
    ]);
    const { sup, out, dir } = supervise(plan);
    await sup.start();
    await out.waitFor(/web +\| up/);
    await out.waitFor(/db +\| up/);
    await out.waitFor(/api +\| up/);
    await sup.shutdown();
    const result = await sup.wait();
    expect(readFileSync(path.join(dir, "stops"), "utf8")).toBe("web\napi\ndb\n");
    expect(result.exitCode).toBe(0);
    expect(result.processes.map((p) => p.state)).toEqual(["stopped", "stopped", "stopped"]);
  });

  it("sends the process's own stop signal", async () => {
    const plan = planOf([
      {
        name: "a",
        command: nodeScript(
          `process.on("SIGINT", () => { console.log("got SIGINT"); process.exit(0); }); console.log("up"); setInterval(() => {}, 1000);`,
        ),
        stop: { signal: "SIGINT", gracePeriod: 5 },
      },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    await out.waitFor(/a +\| up/);
    await sup.shutdown();
    await sup.wait();
    expect(out.text()).toMatch(/a +\| got SIGINT/);
  });

  it("kills a process that ignores its stop signal with SIGKILL after the grace period", async () => {
    const plan = planOf([
      {
        name: "stubborn",
        command: nodeScript(
          `process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000);`,
        ),
        stop: { signal: "SIGTERM", gracePeriod: 0.3 },
      },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    await out.waitFor(/stubborn +\| up/);
    const began = Date.now();
    await sup.shutdown();
    const result = await sup.wait();
    expect(Date.now() - began).toBeGreaterThanOrEqual(280);
    expect(result.processes[0]).toMatchObject({ state: "stopped", signal: "SIGKILL" });
    expect(out.text()).toMatch(/stubborn did not stop within 0.3s; sending SIGKILL/);
  });

  it("leaves no grandchild alive after shutdown", async () => {
    const plan = planOf([{ name: "parent", command: withGrandchild(false) }]);
    const { sup, out } = supervise(plan);
    await sup.start();
    await out.waitFor(/grandchild \d+/);
    const pid = grandchildPid(out.text());
    expect(processAlive(pid)).toBe(true);
    await sup.shutdown();
    await sup.wait();
    // A killed orphan may linger as a zombie when PID 1 does not reap; processAlive treats that as dead.
    expect(processAlive(pid)).toBe(false);
  });

  it("kills a grandchild that ignores the stop signal once the grace period is over", async () => {
    const plan = planOf([
      {
        name: "parent",
        command: withGrandchild(true),
        stop: { signal: "SIGTERM", gracePeriod: 0.3 },
      },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    await out.waitFor(/grandchild \d+/);
    const pid = grandchildPid(out.text());
    await sup.shutdown();
    await sup.wait();
    expect(processAlive(pid)).toBe(false);
  });

  it("kills what a process left behind when it exits on its own", async () => {
    const plan = planOf([
      {
        name: "leaver",
        command: ["sh", "-c", "sleep 300 & echo grandchild $!; exit 0"],
        stop: { signal: "SIGTERM", gracePeriod: 1 },
      },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    const result = await sup.wait();
    expect(result.processes[0]?.state).toBe("exited");
    expect(processAlive(grandchildPid(out.text()))).toBe(false);
  });

  it("stops everything when the supervisor process gets SIGTERM (handleSignals)", async () => {
    const plan = planOf([{ name: "a", command: withGrandchild(false) }]);
    const { sup, out } = supervise(plan, { handleSignals: true });
    await sup.start();
    await out.waitFor(/grandchild \d+/);
    process.kill(process.pid, "SIGTERM");
    const result = await sup.wait();
    expect(result.processes[0]?.state).toBe("stopped");
    expect(processAlive(grandchildPid(out.text()))).toBe(false);
    expect(process.listenerCount("SIGTERM")).toBe(0);
  });

  it("takes a signal after a graceful shutdown its caller began as the first, not the second", async () => {
    // The CLI aborts its signal on Ctrl-C and the supervisor sees the same Ctrl-C: one signal,
    // so the process still gets its grace period instead of SIGKILL.
    const plan = planOf([
      {
        name: "slow",
        command: nodeScript(
          `process.on("SIGTERM", () => setTimeout(() => { console.log("graceful"); process.exit(0); }, 300)); console.log("up"); setInterval(() => {}, 1000);`,
        ),
        stop: { signal: "SIGTERM", gracePeriod: 10 },
      },
    ]);
    const { sup, out } = supervise(plan, { handleSignals: true });
    await sup.start();
    await out.waitFor(/slow +\| up/);
    void sup.shutdown();
    process.kill(process.pid, "SIGTERM");
    const result = await sup.wait();
    expect(out.text()).toMatch(/slow +\| graceful/);
    expect(result.processes[0]?.state).toBe("stopped");
  });

  it("kills everything at once on a second signal", async () => {
    const plan = planOf([
      {
        name: "stubborn",
        command: nodeScript(
          `process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000);`,
        ),
        stop: { signal: "SIGTERM", gracePeriod: 60 },
      },
    ]);
    const { sup, out } = supervise(plan, { handleSignals: true });
    await sup.start();
    await out.waitFor(/stubborn +\| up/);
    process.kill(process.pid, "SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    process.kill(process.pid, "SIGTERM");
    // The second signal does not wait out the 60 s grace period: the process is SIGKILLed (a
    // wait of the grace period would outlast the test's timeout).
    const result = await sup.wait();
    expect(result.processes[0]?.signal).toBe("SIGKILL");
  });

  it("exits non-zero when a service failed before shutdown", async () => {
    const plan = planOf([{ name: "ok" }, { name: "bad", command: nodeScript("process.exit(1)") }]);
    const { sup } = supervise(plan);
    await sup.start();
    await waitForStatus(sup, "bad", (s) => s.state === "failed");
    await sup.shutdown();
    const result = await sup.wait();
    expect(result.exitCode).toBe(1);
    expect(result.failed).toEqual(["bad"]);
  });
});
