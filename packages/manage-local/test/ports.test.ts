import { type ChildProcess, spawn } from "node:child_process";
import { freePort } from "@nix2dream/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { nodeScript, planOf, supervise, waitForStatus } from "./helpers.js";

const holders: ChildProcess[] = [];
afterEach(() => {
  for (const h of holders.splice(0)) h.kill("SIGKILL");
});

/** Another program (not under the supervisor) listening on `port`; resolves once it listens. */
function holdPort(port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      "-e",
      `require("net").createServer(() => {}).listen(${port}, "127.0.0.1", () => console.log("listening"))`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  holders.push(child);
  return new Promise((resolve) => child.stdout?.once("data", () => resolve(child)));
}

describe("ports held by another program", () => {
  it("a process whose port is taken does not start, and the reason names the port and the holder", async () => {
    const port = await freePort();
    const holder = await holdPort(port);
    const plan = planOf([
      {
        name: "web",
        command: nodeScript(`require("net").createServer().listen(${port}, "127.0.0.1")`),
        ports: { http: port },
      },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    const s = await waitForStatus(sup, "web", (x) => x.state === "failed");
    expect(s.reason).toBe(
      `cannot start: port ${port} (http) is already in use by pid ${holder.pid} (node)`,
    );
    expect(out.text()).toContain(`web failed: cannot start: port ${port} (http)`);
  });

  it("a tcp probe that reaches another program's socket does not make the process healthy", async () => {
    const port = await freePort();
    const holder = await holdPort(port);
    const plan = planOf([
      {
        name: "web",
        probe: {
          type: "tcp",
          host: "127.0.0.1",
          port,
          interval: 0.05,
          timeout: 1,
          retries: 2,
          startPeriod: 0,
        },
      },
      { name: "worker", dependsOn: { web: "healthy" } },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    const s = await waitForStatus(sup, "web", (x) => x.health === "unhealthy");
    expect(s.reason).toBe(
      `tcp probe failed 2 time(s): port ${port} answers, but pid ${holder.pid} (node) holds it, not web`,
    );
    expect(sup.status().find((x) => x.name === "worker")?.state).toBe("waiting");
  });

  it("a tcp probe passes when the process's own child holds the port", async () => {
    const port = await freePort();
    const server = `require("child_process").spawn(process.execPath, ["-e", 'require("net").createServer().listen(${port}, "127.0.0.1")'], { stdio: "inherit" }); setInterval(() => {}, 1000)`;
    const plan = planOf([
      {
        name: "web",
        command: nodeScript(server),
        probe: {
          type: "tcp",
          host: "127.0.0.1",
          port,
          interval: 0.05,
          timeout: 1,
          retries: 100,
          startPeriod: 0,
        },
      },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    const s = await waitForStatus(sup, "web", (x) => x.health === "healthy");
    expect(s.state).toBe("running");
  });
});
