/**
 * `Supervisor.applyPlan`: a new plan of the same deployment, as `up --watch` gives it after a
 * config change, restarts only what changed, in dependency order, and adds/removes processes.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { expectLinesInOrder } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { InvalidPlanError } from "../src/programmatic.js";
import { planOf, supervise, waitForStatus } from "./helpers.js";

const say = (word: string) => ["sh", "-c", `echo ${word}; exec sleep 60`];

/** db ← api ← worker (each waits for the previous one to have started). */
function chain(words: { db?: string; api?: string; worker?: string } = {}) {
  return planOf([
    { name: "db", command: say(words.db ?? "db-1") },
    { name: "api", command: say(words.api ?? "api-1"), dependsOn: { db: "started" } },
    { name: "worker", command: say(words.worker ?? "worker-1"), dependsOn: { api: "started" } },
  ]);
}

async function running(sup: ReturnType<typeof supervise>["sup"], names: string[]) {
  const pids: Record<string, number | null> = {};
  for (const n of names) pids[n] = (await waitForStatus(sup, n, (s) => s.state === "running")).pid;
  return pids;
}

describe("applying a new plan", () => {
  it("restarts only the processes whose definition changed; the others keep their pid", async () => {
    const { sup, out } = supervise(chain());
    await sup.start();
    const before = await running(sup, ["db", "api", "worker"]);
    await out.waitFor(/worker +\| worker-1/);
    const change = await sup.applyPlan(chain({ api: "api-2" }));
    expect(change).toEqual({ added: [], removed: [], changed: ["api"] });
    await out.waitFor(/api +\| api-2/);
    const after = await running(sup, ["db", "api", "worker"]);
    expect(after.db).toBe(before.db);
    expect(after.worker).toBe(before.worker);
    expect(after.api).not.toBe(before.api);
    expect(sup.status().find((s) => s.name === "api")?.restarts).toBe(1);
  });

  it("stops changed processes dependents first and starts them in dependency order", async () => {
    const { sup, out } = supervise(chain());
    await sup.start();
    await running(sup, ["db", "api", "worker"]);
    await sup.applyPlan(chain({ db: "db-2", api: "api-2", worker: "worker-2" }));
    await out.waitFor(/worker +\| worker-2/);
    expectLinesInOrder(out.text(), [
      /worker stopped/,
      /api stopped/,
      /db stopped/,
      /new plan: restarted db, api, worker/,
      /db started/,
      /api started/,
      /worker started/,
    ]);
  });

  it("starts added processes and stops removed ones", async () => {
    const { sup, out } = supervise(chain());
    await sup.start();
    const before = await running(sup, ["db", "api", "worker"]);
    const next = planOf([
      { name: "db", command: say("db-1") },
      { name: "api", command: say("api-1"), dependsOn: { db: "started" } },
      { name: "cache", command: say("cache-1"), dependsOn: { db: "started" } },
    ]);
    const change = await sup.applyPlan(next);
    expect(change).toEqual({ added: ["cache"], removed: ["worker"], changed: [] });
    await out.waitFor(/cache +\| cache-1/);
    expect(out.text()).toMatch(/worker stopped/);
    expect(sup.status().map((s) => s.name)).toEqual(["db", "api", "cache"]);
    const after = await running(sup, ["db", "api"]);
    expect(after).toEqual({ db: before.db, api: before.api });
    expect(() => sup.restart("worker")).rejects.toThrow(/no process or service `worker`/);
  });

  it("counts a changed launcher script in the render dir as a changed definition", async () => {
    const plan = planOf([{ name: "web", command: ["sh", "web.sh"] }]);
    const { sup, out, dir } = supervise(plan);
    writeFileSync(path.join(dir, "web.sh"), "echo web-1; exec sleep 60\n");
    await sup.start();
    await out.waitFor(/web +\| web-1/);
    expect(await sup.applyPlan(plan)).toEqual({ added: [], removed: [], changed: [] });
    writeFileSync(path.join(dir, "web.sh"), "echo web-2; exec sleep 60\n");
    expect(await sup.applyPlan(plan)).toEqual({ added: [], removed: [], changed: ["web"] });
    await out.waitFor(/web +\| web-2/);
  });

  it("gives a process blocked by a failed dependency another chance when that dependency changes", async () => {
    const broken = planOf([
      { name: "migrate", command: ["sh", "-c", "exit 3"] },
      { name: "api", command: say("api-1"), dependsOn: { migrate: "completed" } },
    ]);
    // `watch`: the run does not end when every process has finished, waiting for a new plan.
    const { sup, out } = supervise(broken, { watch: true });
    await sup.start();
    await waitForStatus(sup, "api", (s) => s.state === "blocked");
    await out.waitFor(/every process has finished; waiting for changes/);
    const fixed = planOf([
      { name: "migrate", command: ["sh", "-c", "exit 0"] },
      { name: "api", command: say("api-1"), dependsOn: { migrate: "completed" } },
    ]);
    await sup.applyPlan(fixed);
    await out.waitFor(/api +\| api-1/);
    expect(sup.status().find((s) => s.name === "migrate")?.state).toBe("exited");
  });

  it("refuses a plan with a dependency cycle and keeps running the old one", async () => {
    const { sup } = supervise(chain());
    await sup.start();
    const before = await running(sup, ["db", "api", "worker"]);
    const cyclic = chain();
    (cyclic.processes[0] as { dependsOn: Record<string, string> }).dependsOn = {
      worker: "started",
    };
    await expect(sup.applyPlan(cyclic)).rejects.toThrow(InvalidPlanError);
    expect(await running(sup, ["db", "api", "worker"])).toEqual(before);
  });
});
