import { writeFileSync } from "node:fs";
import path from "node:path";
import { freePort } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { nodeScript, planOf, recordStates, supervise, waitForStatus } from "./helpers.js";

const timing = { interval: 0.05, timeout: 2, retries: 3, startPeriod: 0 };

describe("probes", () => {
  it("marks a process healthy when its http probe gets a 2xx answer", async () => {
    const port = await freePort();
    const server = `setTimeout(() => require("http").createServer((q, s) => s.end(q.url === "/health" ? "ok" : "no")).listen(${port}, "127.0.0.1"), 200)`;
    const plan = planOf([
      {
        name: "web",
        command: nodeScript(server),
        ports: { http: port },
        probe: {
          type: "http",
          host: "127.0.0.1",
          port,
          path: "/health",
          scheme: "http",
          ...timing,
          retries: 100,
        },
      },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    const s = await waitForStatus(sup, "web", (x) => x.health === "healthy");
    expect(s.state).toBe("running");
  });

  it("treats an http 500 answer as a probe failure", async () => {
    // `web` is probed only once `server` (which answers 500 to everything) is listening, so every
    // failure `web` sees is the 500 and never a refused connection, however slow the machine.
    const port = await freePort();
    const server = `require("http").createServer((q, s) => { s.statusCode = 500; s.end(); }).listen(${port}, "127.0.0.1", () => require("fs").writeFileSync("listening", ""))`;
    const plan = planOf([
      {
        name: "server",
        command: nodeScript(server),
        probe: { type: "exec", command: ["test", "-f", "listening"], ...timing, retries: 100 },
      },
      {
        name: "web",
        dependsOn: { server: "healthy" },
        probe: {
          type: "http",
          host: "127.0.0.1",
          port,
          path: "/",
          scheme: "http",
          ...timing,
          retries: 2,
        },
      },
    ]);
    const { sup } = supervise(plan);
    const states = recordStates(sup);
    await sup.start();
    const s = await waitForStatus(sup, "web", (x) => x.health === "unhealthy");
    expect(s.reason).toMatch(/HTTP 500/);
    expect(states).not.toContain("web:running");
  });

  it("marks a process healthy when its tcp probe connects", async () => {
    const port = await freePort();
    const plan = planOf([
      {
        name: "db",
        command: nodeScript(
          `setTimeout(() => require("net").createServer().listen(${port}, "127.0.0.1"), 200)`,
        ),
        probe: { type: "tcp", host: "127.0.0.1", port, ...timing, retries: 100 },
      },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    await waitForStatus(sup, "db", (x) => x.health === "healthy");
  });

  it("runs an exec probe through the process's exec prefix", async () => {
    const plan = planOf([
      {
        name: "a",
        execPrefix: ["env", "PROBE_MARK=inside"],
        probe: { type: "exec", command: ["sh", "-c", 'test "$PROBE_MARK" = inside'], ...timing },
      },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    await waitForStatus(sup, "a", (x) => x.health === "healthy");
  });

  it("counts a probe that outlives its timeout as a failure", async () => {
    const plan = planOf([
      {
        name: "a",
        probe: {
          type: "exec",
          command: ["sleep", "30"],
          interval: 0.05,
          timeout: 0.2,
          retries: 1,
          startPeriod: 0,
        },
      },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    const s = await waitForStatus(sup, "a", (x) => x.health === "unhealthy");
    expect(s.reason).toMatch(/timed out after 200 ms/);
    expect(s.state).toBe("starting");
  });

  it("does not count failures during the start period", async () => {
    const plan = planOf([
      {
        name: "slow",
        command: ["sh", "-c", "sleep 0.5; touch ready; exec sleep 60"],
        restart: {
          policy: "on-failure",
          maxRetries: null,
          backoff: { initial: 0.05, factor: 2, max: 1 },
        },
        probe: {
          type: "exec",
          command: ["test", "-f", "ready"],
          interval: 0.05,
          timeout: 1,
          retries: 1,
          startPeriod: 30,
        },
      },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    const s = await waitForStatus(sup, "slow", (x) => x.health === "healthy");
    expect(s.restarts).toBe(0);
  });

  it("restarts a process whose probe fails after it was ready (liveness)", async () => {
    const plan = planOf([
      {
        name: "a",
        command: ["sh", "-c", "rm -f sick; exec sleep 60"],
        restart: {
          policy: "on-failure",
          maxRetries: null,
          backoff: { initial: 0.05, factor: 2, max: 1 },
        },
        probe: { type: "exec", command: ["sh", "-c", "test ! -f sick"], ...timing, retries: 2 },
      },
    ]);
    const { sup, out, dir } = supervise(plan);
    await sup.start();
    const first = await waitForStatus(sup, "a", (x) => x.health === "healthy");
    writeFileSync(path.join(dir, "sick"), "");
    // At least one restart: on a loaded machine the new process may be judged sick again before
    // its `rm -f sick` runs, and restarted once more.
    const again = await waitForStatus(sup, "a", (x) => x.restarts >= 1 && x.health === "healthy");
    expect(again.pid).not.toBe(first.pid);
    expect(out.text()).toMatch(
      /a is unhealthy \(exec probe failed 2 time\(s\): exit code 1\); restarting it/,
    );
  });

  it("keeps an unhealthy process running when its restart policy is `no`", async () => {
    const plan = planOf([
      {
        name: "a",
        probe: { type: "exec", command: ["false"], ...timing, retries: 2 },
      },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    const s = await waitForStatus(sup, "a", (x) => x.health === "unhealthy");
    expect(s.pid).not.toBeNull();
    expect(s.restarts).toBe(0);
  });
});
