import { readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { expectInOrder } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { InvalidPlanError, Supervisor } from "../src/programmatic.js";
import { nodeScript, planOf, recordStates, supervise, waitForStatus } from "./helpers.js";

const exitAfter = (ms: number, code: number) =>
  nodeScript(`setTimeout(() => process.exit(${code}), ${ms})`);

describe("dependency order", () => {
  it("starts a process with a `started` dependency only after the dependency was spawned", async () => {
    const plan = planOf([{ name: "api", dependsOn: { db: "started" } }, { name: "db" }]);
    const { sup } = supervise(plan);
    const states = recordStates(sup);
    await sup.start();
    await waitForStatus(sup, "api", (s) => s.state === "running");
    expectInOrder(states, ["db:running", "api:running"]);
  });

  it("starts a process with a `healthy` dependency only after the dependency's probe passed", async () => {
    const plan = planOf([
      { name: "api", dependsOn: { db: "healthy" } },
      {
        name: "db",
        command: ["sh", "-c", "sleep 0.3; touch ready; exec sleep 60"],
        probe: {
          type: "exec",
          command: ["test", "-f", "ready"],
          interval: 0.05,
          timeout: 2,
          retries: 100,
          startPeriod: 0,
        },
      },
    ]);
    const { sup } = supervise(plan);
    const states = recordStates(sup);
    await sup.start();
    const api = await waitForStatus(sup, "api", (s) => s.state === "running");
    const db = sup.status().find((s) => s.name === "db");
    expect(db?.health).toBe("healthy");
    expectInOrder(states, ["db:starting", "db:running", "api:running"]);
    expect(api.pid).toBeGreaterThan(0);
  });

  it("starts a process with a `completed` dependency only after the dependency exited 0", async () => {
    const plan = planOf([
      { name: "api", dependsOn: { migrate: "completed" } },
      { name: "migrate", command: exitAfter(200, 0) },
    ]);
    const { sup } = supervise(plan);
    const states = recordStates(sup);
    await sup.start();
    await waitForStatus(sup, "api", (s) => s.state === "running");
    expectInOrder(states, ["migrate:exited", "api:running"]);
  });

  it("waits for every replica of a dependency", async () => {
    const plan = planOf([
      { name: "api", dependsOn: { migrate: "completed" } },
      { name: "migrate", command: exitAfter(50, 0) },
      { name: "migrate.2", service: "migrate", replica: 2, command: exitAfter(400, 0) },
    ]);
    const { sup } = supervise(plan);
    const states = recordStates(sup);
    await sup.start();
    await waitForStatus(sup, "api", (s) => s.state === "running");
    expectInOrder(states, ["migrate:exited", "api:running"]);
    expectInOrder(states, ["migrate.2:exited", "api:running"]);
  });

  it("does not start a process whose `completed` dependency failed, and says why", async () => {
    const plan = planOf([
      { name: "api", dependsOn: { migrate: "completed" } },
      { name: "migrate", command: exitAfter(50, 3) },
      { name: "web", dependsOn: { api: "started" } },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    const result = await sup.wait();
    const api = result.processes.find((p) => p.name === "api");
    expect(api?.state).toBe("blocked");
    expect(api?.pid).toBeNull();
    expect(api?.reason).toMatch(/dependency `migrate` failed \(exited with code 3\)/);
    expect(result.processes.find((p) => p.name === "web")?.state).toBe("blocked");
    expect(out.text()).toMatch(/api will not start: dependency `migrate` failed/);
    expect(result.exitCode).toBe(1);
    expect(result.failed.sort()).toEqual(["api", "migrate", "web"]);
  });

  it("ends the run with exit code 0 when every process exited cleanly", async () => {
    const plan = planOf([
      { name: "a", command: exitAfter(10, 0) },
      { name: "b", command: exitAfter(10, 0), dependsOn: { a: "completed" } },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    const result = await sup.wait();
    expect(result.exitCode).toBe(0);
    expect(result.processes.map((p) => p.state)).toEqual(["exited", "exited"]);
  });

  it("refuses a plan whose services depend on each other in a cycle, naming the cycle", () => {
    const plan = planOf([
      { name: "a", dependsOn: { b: "started" } },
      { name: "b", dependsOn: { a: "started" } },
    ]);
    expect(() => new Supervisor({ plan, renderDir: "/tmp", stateDir: "/tmp/x" })).toThrow(
      InvalidPlanError,
    );
    expect(() => new Supervisor({ plan, renderDir: "/tmp", stateDir: "/tmp/x" })).toThrow(
      /a -> b -> a/,
    );
  });

  it("runs commands from the render directory with the plan's env on top of the base env", async () => {
    const plan = planOf([
      {
        name: "a",
        command: nodeScript(
          "require('fs').writeFileSync('seen', process.cwd() + ' ' + process.env.PORT + ' ' + process.env.BASE)",
        ),
        env: { PORT: "5123" },
      },
    ]);
    const { sup, dir } = supervise(plan, { env: { BASE: "base", PATH: process.env.PATH } });
    await sup.start();
    await sup.wait();
    expect(readFileSync(path.join(dir, "seen"), "utf8")).toBe(`${realpathSync(dir)} 5123 base`);
  });
});
