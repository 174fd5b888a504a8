// @module-tag systemd
/**
 * The actions against a REAL systemd user manager (testkit's startUserManager: Debian's systemd
 * 252 in a private mount namespace and cgroup). What it cannot answer stays in manager.test.ts
 * with the recording fake: the system manager (`--system`: PID 1 here is not systemd), the
 * journal (`logs`: no journald runs), `down --volumes` (`systemctl clean` needs a D-Bus session
 * bus) and refusals a root manager never gives ("Access denied").
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startUserManager, tempDir, type UserManager } from "@nix2dream/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { UnitState } from "../src/index.js";
import { Fixture } from "./helpers.js";

let manager: UserManager;
let count = 0;
const fixtures: Fixture[] = [];

beforeAll(async () => {
  manager = await startUserManager(tempDir("n2d-manage-systemd-real-"));
});

afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

afterAll(async () => {
  if (!manager) return;
  await manager.stop();
  expect(manager.processes()).toEqual([]);
});

/** A rendered deployment of its own name (units of earlier tests stay linked under theirs). */
function fixture(services: ConstructorParameters<typeof Fixture>[0]) {
  const name = `real${++count}`;
  const f = new Fixture(services, { name });
  fixtures.push(f);
  const run = (action: string, opts: Parameters<Fixture["run"]>[1] = {}) =>
    f.run(action, { ...opts, options: { env: manager.env, ...opts.options } });
  const states = (data: unknown) =>
    (data as UnitState[]).map((u) => `${u.unit} ${u.active} ${u.sub}`);
  const linked = (unit: string) => existsSync(join(manager.configHome, "systemd", "user", unit));
  return { f, name, run, states, linked };
}

const sleeper = { command: ["sleep", "600"], stop: { gracePeriod: 2 } };

describe("up", () => {
  it("links every rendered unit, starts the target and reports every unit running", async () => {
    const { name, run, states, linked } = fixture({ api: sleeper, db: sleeper });
    const r = await run("up");
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(states(r.data)).toEqual([
      `${name}.target active active`,
      `${name}-api.service active running`,
      `${name}-db.service active running`,
    ]);
    expect(r.stdout).toMatch(new RegExp(`${name}-api\\.service +loaded +active +running`));
    expect(linked(`${name}.target`) && linked(`${name}-db.service`)).toBe(true);
    await run("down", { flags: { unlink: true } });
  });

  it("stops and unlinks the units of services the deployment no longer has", async () => {
    const { f, name, run, linked } = fixture({ api: sleeper, db: sleeper });
    expect((await run("up")).exitCode).toBe(0);
    f.render({ api: sleeper }, { name });
    expect((await run("up")).exitCode).toBe(0);
    expect(manager.systemctl("is-active", `${name}-db.service`).stdout.trim()).toBe("inactive");
    expect(linked(`${name}-db.service`)).toBe(false);
    expect(linked(`${name}-api.service`)).toBe(true);
    await run("down", { flags: { unlink: true } });
  });

  it("hands an environment secret to the manager, and the unit receives it", async () => {
    const dir = tempDir("n2d-manage-systemd-secret-");
    const out = join(dir, "token");
    const { run } = fixture({
      api: {
        ...sleeper,
        command: ["sh", "-c", 'printf %s "$TOKEN" > "$OUT"; exec sleep 600'],
        env: { OUT: out },
        secrets: { TOKEN: { fromEnv: "REAL_SHOP_TOKEN" } },
      },
    });
    const value = `s3cr3t 'v' "$HOME" ✓ ${process.pid}`;
    const r = await run("up", { options: { env: { ...manager.env, REAL_SHOP_TOKEN: value } } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(value);
    await run("down", { flags: { unlink: true } });
  });

  it("fails, showing the failed unit, when a service does not start", async () => {
    const { name, run } = fixture({
      api: sleeper,
      broken: { command: ["sh", "-c", "exit 3"], restart: "no" },
    });
    const r = await run("up");
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`${name}-broken\\.service +loaded +failed +failed`));
    await run("down", { flags: { unlink: true } });
  });
});

describe("down", () => {
  it("stops the target and every service, and unlinks them with --unlink", async () => {
    const { name, run, linked } = fixture({ api: sleeper, db: sleeper });
    expect((await run("up")).exitCode).toBe(0);
    const r = await run("down");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(manager.unitProcesses()).toEqual([]);
    const after = await run("ps", { flags: { json: true } });
    expect(JSON.parse(after.stdout).map((u: UnitState) => u.active)).toEqual([
      "inactive",
      "inactive",
      "inactive",
    ]);
    expect(linked(`${name}.target`)).toBe(true);
    expect((await run("down", { flags: { unlink: true } })).exitCode).toBe(0);
    expect(linked(`${name}.target`)).toBe(false);
  });

  it("treats units that were never linked as stopped", async () => {
    const { run } = fixture({ api: sleeper });
    const r = await run("down");
    expect(r.exitCode, r.stderr).toBe(0);
  });
});

describe("ps, status, restart", () => {
  it("shows each unit's state and pid with --json", async () => {
    const { name, run } = fixture({ api: sleeper });
    await run("up");
    const r = await run("ps", { flags: { json: true } });
    const [target, api] = JSON.parse(r.stdout) as UnitState[];
    expect(target).toMatchObject({ unit: `${name}.target`, active: "active", pid: null });
    expect(api).toMatchObject({ unit: `${name}-api.service`, active: "active", sub: "running" });
    const pid = api?.pid ?? 0;
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]).toMatch(/sleep$/);
    await run("down", { flags: { unlink: true } });
  });

  it("passes systemctl status through: exit 0 for a running unit, 3 for a stopped one", async () => {
    const { name, run } = fixture({ api: sleeper });
    await run("up");
    const running = await run("status", { args: ["api"] });
    expect(running.exitCode).toBe(0);
    expect(running.stdout).toMatch(
      new RegExp(`${name}-api\\.service[\\s\\S]*Active: active \\(running\\)`),
    );
    await run("down");
    const stopped = await run("status", { args: ["api"] });
    expect(stopped.exitCode).toBe(3);
    expect(stopped.stdout).toContain("Active: inactive (dead)");
    await run("down", { flags: { unlink: true } });
  });

  it("restarts the named services: a new process", async () => {
    const { run } = fixture({ api: sleeper, db: sleeper });
    const before = (await run("up")).data as UnitState[];
    const r = await run("restart", { args: ["api"] });
    expect(r.exitCode, r.stderr).toBe(0);
    const after = (await run("ps")).data as UnitState[];
    const pid = (d: UnitState[], u: string) => d.find((x) => x.unit.endsWith(u))?.pid;
    expect(pid(after, "-api.service")).not.toBe(pid(before, "-api.service"));
    expect(pid(after, "-db.service")).toBe(pid(before, "-db.service"));
    await run("down", { flags: { unlink: true } });
  });
});
