import { writeFileSync } from "node:fs";
import path from "node:path";
import {
  type ActionResult,
  type EvaluatedDeployment,
  type ManagerContext,
  UserError,
} from "@nix2dream/core";
import type { ProcessPlan } from "@nix2dream/render-procfile";
import { describe, expect, it } from "vitest";
import local, { type ProcessStatus } from "../src/index.js";
import { colorFor } from "../src/lines.js";
import { controlRequest, NotRunningError } from "../src/programmatic.js";
import { nodeScript, planOf, Sink, tempDir } from "./helpers.js";

interface Run {
  ctx: ManagerContext;
  out: Sink;
  err: Sink;
}

/** A render dir holding `plan` and a state dir beside it. */
function renderDir(plan: ProcessPlan): { artifactsDir: string; stateDir: string } {
  const dir = tempDir();
  writeFileSync(path.join(dir, "processes.json"), JSON.stringify(plan));
  return { artifactsDir: dir, stateDir: path.join(dir, "state") };
}

function context(
  dirs: { artifactsDir: string; stateDir: string },
  args: string[] = [],
  flags: ManagerContext["flags"] = {},
  signal = new AbortController().signal,
): Run {
  const out = new Sink();
  const err = new Sink();
  const deployment = { name: "shop" } as EvaluatedDeployment;
  return {
    ctx: { deployment, ...dirs, args, flags, stdout: out, stderr: err, color: false, signal },
    out,
    err,
  };
}

const manager = local();

/** Runs one action of the manager. */
function act(name: string, ctx: ManagerContext): Promise<ActionResult> {
  const action = manager.actions[name];
  if (!action) throw new Error(`no action ${name}`);
  return action(ctx);
}

/** Starts `up` in the background; `stop()` aborts it and returns its result. */
async function upInBackground(dirs: { artifactsDir: string; stateDir: string }) {
  const ac = new AbortController();
  const run = context(dirs, [], {}, ac.signal);
  const result = act("up", run.ctx);
  await run.out.waitFor(/started \(pid/);
  return {
    run,
    stop: () => {
      ac.abort();
      return result;
    },
  };
}

describe("the local manager", () => {
  it("is named `local` and acts on the procfile render", () => {
    expect(manager.name).toBe("local");
    expect(manager.renderer).toBe("procfile");
    expect(Object.keys(manager.actions).sort()).toEqual([
      "down",
      "logs",
      "ps",
      "restart",
      "status",
      "stop",
      "up",
    ]);
  });

  it("runs `up` until its signal aborts, printing where logs go and each address", async () => {
    const dirs = renderDir(
      planOf([
        {
          name: "api",
          ports: { http: 8123 },
          command: nodeScript("console.log('hello'); setInterval(() => {}, 1000)"),
        },
      ]),
    );
    const { run, stop } = await upInBackground(dirs);
    await run.out.waitFor(/api +\| hello/);
    const result = await stop();
    expect(result.exitCode).toBe(0);
    expect(run.out.text()).toContain(`Logs: ${path.join(dirs.stateDir, "logs")}/<process>.log`);
    expect(run.out.text()).toContain("api (http) → 127.0.0.1:8123");
    expect((result.data as ProcessStatus[])[0]?.state).toBe("stopped");
  });

  it("returns exit code 1 from `up` and names the failed process", async () => {
    const dirs = renderDir(planOf([{ name: "bad", command: nodeScript("process.exit(2)") }]));
    const { err, ctx } = context(dirs);
    const result = await act("up", ctx);
    expect(result.exitCode).toBe(1);
    expect(err.text()).toContain("Failed: bad");
  });

  it("throws a UserError saying how to render when the render dir has no process plan", async () => {
    const dir = tempDir();
    const { err, ctx } = context({ artifactsDir: dir, stateDir: path.join(dir, "state") });
    const thrown = await act("up", ctx).catch((e: unknown) => e);
    expect(UserError.is(thrown)).toBe(true);
    expect(thrown).toMatchObject({
      code: "MANAGE_LOCAL_NO_RENDER",
      source: "manager local",
      message: expect.stringMatching(/^There is no process plan at .*processes\.json\.$/),
      hint: expect.stringMatching(/^Render the deployment first/),
    });
    expect(err.text()).toBe("");
  });

  it("prints a `ps` table of a running `up`, and data for --json", async () => {
    const dirs = renderDir(planOf([{ name: "api", ports: { http: 8124 } }, { name: "worker" }]));
    const { stop } = await upInBackground(dirs);
    try {
      const table = context(dirs);
      const result = await act("ps", table.ctx);
      expect(result.exitCode).toBe(0);
      const lines = table.out.lines();
      expect(lines[0]).toMatch(/^NAME +STATE +HEALTH +PID +RESTARTS +UPTIME +PORTS +REASON$/);
      expect(lines[1]).toMatch(/^api +running +- +\d+ +0 +\d+s +8124$/);
      expect(lines[2]).toMatch(/^worker +running/);
      const json = context(dirs, [], { json: true });
      const data = await act("ps", json.ctx);
      expect(json.out.text()).toBe("");
      expect((data.data as ProcessStatus[]).map((s) => s.name)).toEqual(["api", "worker"]);
      const status = context(dirs, [], { json: true });
      const same = await act("status", status.ctx);
      expect((same.data as ProcessStatus[]).map((s) => s.name)).toEqual(["api", "worker"]);
    } finally {
      await stop();
    }
  });

  it("restarts and stops a service of a running `up`", async () => {
    const dirs = renderDir(planOf([{ name: "api" }, { name: "worker" }]));
    const { stop } = await upInBackground(dirs);
    try {
      const restart = context(dirs, ["api"]);
      expect((await act("restart", restart.ctx))?.exitCode).toBe(0);
      expect(restart.out.text()).toMatch(/^Restarted api: running \(pid \d+\)\n$/);
      const stopOne = context(dirs, ["worker"]);
      expect((await act("stop", stopOne.ctx))?.exitCode).toBe(0);
      expect(stopOne.out.text()).toBe("Stopped worker: stopped\n");
      const answer = await controlRequest(dirs.stateDir, { cmd: "ps" });
      expect(
        answer.ok && (answer.data as ProcessStatus[]).map((s) => [s.state, s.restarts]),
      ).toEqual([
        ["running", 1],
        ["stopped", 0],
      ]);
    } finally {
      await stop();
    }
  });

  it("throws a NotRunningError (a UserError) from ps, restart and stop when no `up` runs; down has nothing to stop", async () => {
    const dirs = renderDir(planOf([{ name: "api" }]));
    for (const action of ["ps", "restart", "stop"] as const) {
      const { err, ctx } = context(dirs, ["api"]);
      const thrown = await act(action, ctx).catch((e: unknown) => e);
      expect(thrown, action).toBeInstanceOf(NotRunningError);
      expect(thrown, action).toMatchObject({
        code: "MANAGE_LOCAL_NOT_RUNNING",
        source: "manager local",
        message: expect.stringMatching(/^No `up` is running for deployment `shop` \(/),
        hint: "Start it with `nix2dream up`.",
      });
      expect(err.text(), action).toBe("");
    }
    const { out, ctx } = context(dirs);
    expect((await act("down", ctx))?.exitCode).toBe(0);
    expect(out.text()).toBe("Nothing to stop: no `up` is running for deployment `shop`.\n");
  });

  it("stops a running `up` with `down`", async () => {
    const dirs = renderDir(planOf([{ name: "api" }]));
    const { stop } = await upInBackground(dirs);
    const { out, ctx } = context(dirs);
    expect((await act("down", ctx))?.exitCode).toBe(0);
    expect(out.text()).toBe("Stopped every process of `shop`.\n");
    const result = await stop();
    expect((result.data as ProcessStatus[])[0]?.state).toBe("stopped");
    await expect(controlRequest(dirs.stateDir, { cmd: "ps" })).rejects.toBeInstanceOf(
      NotRunningError,
    );
  });

  it("follows the logs of a running `up` until its signal aborts", async () => {
    const dirs = renderDir(
      planOf([
        {
          name: "api",
          command: nodeScript("let i = 0; setInterval(() => console.log('tick ' + i++), 20)"),
        },
      ]),
    );
    const { stop } = await upInBackground(dirs);
    try {
      const ac = new AbortController();
      const logs = context(dirs, ["api"], { follow: true }, ac.signal);
      const done = act("logs", logs.ctx);
      await logs.out.waitFor(/api \| tick 5\n/);
      ac.abort();
      expect((await done)?.exitCode).toBe(0);
    } finally {
      await stop();
    }
  });

  it("shows the last run's log files when no `up` is running", async () => {
    const dirs = renderDir(
      planOf([{ name: "api", command: nodeScript("console.log('first'); console.log('second')") }]),
    );
    await act("up", context(dirs).ctx);
    const { out, ctx } = context(dirs, [], { tail: "1" });
    expect((await act("logs", ctx))?.exitCode).toBe(0);
    expect(out.text()).toBe("api | second\n");
  });

  it("adds timestamps with --timestamps and colours only when the context allows colour", async () => {
    const dirs = renderDir(planOf([{ name: "api", command: nodeScript("console.log('hi')") }]));
    const plain = context(dirs, [], { timestamps: true });
    await act("up", plain.ctx);
    expect(plain.out.lines()).toContainEqual(
      expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} api +\| hi$/),
    );
    expect(plain.out.text()).not.toContain("\x1b[");
    const coloured = context(dirs);
    coloured.ctx.color = true;
    await act("up", coloured.ctx);
    expect(coloured.out.text()).toContain(`\x1b[${colorFor("api")}mapi       | \x1b[0mhi\n`);
  });
});
