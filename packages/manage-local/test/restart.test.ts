import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { nodeScript, planOf, supervise, waitForStatus } from "./helpers.js";

const exit = (code: number) => nodeScript(`process.exit(${code})`);
const backoff = (initial: number, factor: number, max: number) => ({ initial, factor, max });

describe("restart policies", () => {
  it("restarts a failing process under `on-failure` until max retries, then marks it failed", async () => {
    const plan = planOf([
      {
        name: "crash",
        command: exit(2),
        restart: { policy: "on-failure", maxRetries: 3, backoff: backoff(0.02, 2, 1) },
      },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    const result = await sup.wait();
    const s = result.processes[0];
    expect(s?.state).toBe("failed");
    expect(s?.restarts).toBe(3);
    expect(s?.reason).toBe("exited with code 2; gave up after 3 restart(s) in a row");
    expect(out.text().match(/crash started/g)).toHaveLength(4);
    expect(result.exitCode).toBe(1);
  });

  it("waits exponentially longer between restarts", async () => {
    const plan = planOf([
      {
        name: "crash",
        command: exit(1),
        restart: { policy: "on-failure", maxRetries: 3, backoff: backoff(0.1, 2, 10) },
      },
    ]);
    const { sup } = supervise(plan);
    const starts: number[] = [];
    sup.on("state", (s) => {
      if (s.state === "running") starts.push(Date.now());
    });
    await sup.start();
    await sup.wait();
    expect(starts).toHaveLength(4);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(95);
    expect(gaps[1]).toBeGreaterThanOrEqual(195);
    expect(gaps[2]).toBeGreaterThanOrEqual(395);
  });

  it("never waits longer than the backoff cap", async () => {
    const plan = planOf([
      {
        name: "crash",
        command: exit(1),
        restart: { policy: "on-failure", maxRetries: 4, backoff: backoff(0.01, 10, 0.15) },
      },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    await sup.wait();
    const delays = [...out.text().matchAll(/restarting in ([\d.]+)s/g)].map((m) => Number(m[1]));
    expect(delays).toEqual([0.01, 0.1, 0.15, 0.15]);
  });

  it("does not restart a process that exited 0 under `on-failure`", async () => {
    const plan = planOf([
      {
        name: "once",
        command: exit(0),
        restart: { policy: "on-failure", maxRetries: null, backoff: backoff(0.01, 2, 1) },
      },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    const result = await sup.wait();
    expect(result.processes[0]).toMatchObject({ state: "exited", restarts: 0, exitCode: 0 });
    expect(result.exitCode).toBe(0);
  });

  it("restarts a process that exited 0 under `always`", async () => {
    const plan = planOf([
      {
        name: "loop",
        command: exit(0),
        restart: { policy: "always", maxRetries: 2, backoff: backoff(0.01, 2, 1) },
      },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    const result = await sup.wait();
    expect(result.processes[0]).toMatchObject({ state: "exited", restarts: 2 });
  });

  it("never restarts a failing process under `no`", async () => {
    const plan = planOf([{ name: "crash", command: exit(4) }]);
    const { sup, out } = supervise(plan);
    await sup.start();
    const result = await sup.wait();
    expect(result.processes[0]).toMatchObject({ state: "failed", restarts: 0, exitCode: 4 });
    expect(out.text()).toMatch(/crash failed: exited with code 4/);
    expect(result.exitCode).toBe(1);
  });

  it("keeps the other processes running while one crash-loops", async () => {
    const plan = planOf([
      {
        name: "crash",
        command: exit(1),
        restart: { policy: "always", maxRetries: null, backoff: backoff(0.01, 1, 0.01) },
      },
      { name: "steady" },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    const before = await waitForStatus(sup, "steady", (s) => s.state === "running");
    await waitForStatus(sup, "crash", (s) => s.restarts >= 8);
    const after = sup.status().find((s) => s.name === "steady");
    expect(after).toMatchObject({ state: "running", pid: before.pid, restarts: 0 });
    await sup.shutdown();
    const result = await sup.wait();
    expect(result.processes.find((p) => p.name === "steady")?.state).toBe("stopped");
    expect(result.failed).toEqual(["crash"]);
  });

  it("reports a command that cannot be found as a failure", async () => {
    const plan = planOf([{ name: "ghost", command: ["/nonexistent/program", "--flag"] }]);
    const { sup, out } = supervise(plan);
    await sup.start();
    const result = await sup.wait();
    expect(result.processes[0]?.state).toBe("failed");
    expect(out.text()).toMatch(/ghost failed: .*ENOENT/);
    expect(result.exitCode).toBe(1);
  });

  it("does not count operator restarts against maxRetries, and they reset the count", async () => {
    // Runs until the file `crash` exists, then exits 1 (at once from then on).
    const plan = planOf([
      {
        name: "web",
        command: ["sh", "-c", "echo up; while [ ! -e crash ]; do sleep 0.05; done; exit 1"],
        restart: { policy: "on-failure", maxRetries: 1, backoff: backoff(0.02, 2, 1) },
      },
    ]);
    const { sup, out, dir } = supervise(plan);
    await sup.start();
    await out.waitFor(/web +\| up/);
    await sup.restart("web");
    await sup.restart("web");
    writeFileSync(path.join(dir, "crash"), "");
    const s = await waitForStatus(sup, "web", (x) => x.state === "failed");
    // 2 by the operator, then 1 automatic restart after the crash before giving up.
    expect(s.restarts).toBe(3);
    expect(s.reason).toBe("exited with code 1; gave up after 1 restart(s) in a row");
  });

  it("resets the failures in a row after a stable run", async () => {
    // Each run lasts 0.6 s, longer than the stable period (0.3 s): it is never given up on.
    const plan = planOf([
      {
        name: "flaky",
        command: ["sh", "-c", "sleep 0.6; exit 1"],
        restart: { policy: "on-failure", maxRetries: 1, backoff: backoff(0.02, 2, 1) },
      },
      {
        name: "crash",
        command: ["sh", "-c", "exit 1"],
        restart: { policy: "on-failure", maxRetries: 1, backoff: backoff(0.02, 2, 1) },
      },
    ]);
    const { sup } = supervise(plan, { stableRun: 0.3 });
    await sup.start();
    await waitForStatus(sup, "crash", (x) => x.state === "failed");
    const s = await waitForStatus(sup, "flaky", (x) => x.restarts >= 3);
    expect(s.state).not.toBe("failed");
    expect(sup.status().find((x) => x.name === "crash")?.restarts).toBe(1);
  });
});
