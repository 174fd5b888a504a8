/**
 * The actions against a FAKE systemctl/journalctl (test/fixtures/fake-systemd.mjs) that records
 * argv and replays answers: no systemd runs as PID 1 here, so nothing real can start a unit.
 * The real tools are used in missing-systemd.test.ts.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseShow, psTable } from "../src/index.js";
import { Fixture } from "./helpers.js";

const fixtures: Fixture[] = [];
function fixture(...args: ConstructorParameters<typeof Fixture>): Fixture {
  const f = new Fixture(...args);
  fixtures.push(f);
  return f;
}
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

const argvs = (f: Fixture) => f.calls().map((c) => [c.tool, ...c.argv].join(" "));

describe("up", () => {
  it("links every rendered unit, reloads, then starts the target, with --user by default", async () => {
    const f = fixture();
    const r = await f.run("up");
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const d = f.artifactsDir;
    expect(argvs(f)).toEqual([
      "systemctl --user show --property=Version --value",
      `systemctl --user link ${d}/shop.target ${d}/shop-api.service ${d}/shop-db.service`,
      "systemctl --user daemon-reload",
      "systemctl --user start shop.target",
      "systemctl --user show --property=Id,LoadState,ActiveState,SubState,MainPID,NRestarts shop.target shop-api.service shop-db.service",
    ]);
    expect(r.stdout).toContain("shop-api.service  loaded  active  running");
  });

  it("talks to the system manager with --system or managers.systemd.scope", async () => {
    const f = fixture();
    await f.run("up", { flags: { system: true } });
    expect(f.calls().every((c) => c.argv[0] === "--system")).toBe(true);
    const g = fixture(undefined, { managers: { systemd: { scope: "system" } } });
    await g.run("ps");
    expect(g.calls().every((c) => c.argv[0] === "--system")).toBe(true);
  });

  it("enables the target with --enable", async () => {
    const f = fixture();
    await f.run("up", { flags: { enable: true } });
    expect(argvs(f)).toContain("systemctl --user enable shop.target");
  });

  it("stops and unlinks the units of services the deployment no longer has", async () => {
    const f = fixture();
    await f.run("up");
    expect(JSON.parse(readFileSync(join(f.stateDir, "linked-units.json"), "utf8"))).toContain(
      "shop-db.service",
    );
    f.render({ api: { command: ["/bin/true"] } });
    await f.run("up");
    const calls = argvs(f);
    expect(calls).toContain("systemctl --user stop shop-db.service");
    expect(calls).toContain("systemctl --user disable shop-db.service");
  });

  it("hands environment secrets to the manager by name only, and notes the missing ones", async () => {
    const f = fixture({
      api: { command: ["/bin/true"], secrets: { TOKEN: { fromEnv: "SHOP_TOKEN" } } },
      db: { command: ["/bin/true"], secrets: { PW: { fromEnv: "SHOP_DB_PW" } } },
    });
    const r = await f.run("up", {
      options: { env: { ...f.env, SHOP_TOKEN: "s3cr3t-value", SHOP_DB_PW: undefined } },
    });
    expect(argvs(f)).toContain("systemctl --user import-environment SHOP_TOKEN");
    expect(readFileSync(f.log, "utf8")).not.toContain("s3cr3t-value");
    expect(r.stderr).toContain("Note: SHOP_DB_PW is not set here");
    expect(r.exitCode).toBe(0);
  });

  it("fails with systemctl's own message when the target does not start", async () => {
    const f = fixture();
    f.answers([
      {
        tool: "systemctl",
        match: "^--user start shop.target$",
        stderr: "A dependency job for shop.target failed. See 'journalctl -xe' for details.\n",
        code: 1,
      },
    ]);
    const r = await f.run("up");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("A dependency job for shop.target failed");
    expect(r.stderr).toContain("nix2dream logs");
  });

  it("says to render first when there is no render, without calling systemctl", async () => {
    const f = fixture();
    rmSync(join(f.artifactsDir, "shop.target"));
    const r = await f.run("up");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/There is no shop\.target in .*nix2dream render systemd/);
    expect(f.calls()).toEqual([]);
  });
});

describe("down", () => {
  it("stops the target and every service", async () => {
    const f = fixture();
    const r = await f.run("down");
    expect(r.exitCode).toBe(0);
    expect(argvs(f)).toContain(
      "systemctl --user stop shop.target shop-api.service shop-db.service",
    );
    expect(argvs(f).some((c) => c.includes(" clean "))).toBe(false);
  });

  it("treats units that were never loaded as stopped, and reports other failures", async () => {
    const f = fixture();
    f.answers([
      {
        tool: "systemctl",
        match: "^--user stop",
        stderr: "Failed to stop shop.target: Unit shop.target not loaded.\n",
        code: 5,
      },
    ]);
    expect((await f.run("down")).exitCode).toBe(0);
    f.answers([{ tool: "systemctl", match: "^--user stop", stderr: "Access denied\n", code: 4 }]);
    const denied = await f.run("down");
    expect(denied.exitCode).toBe(1);
    expect(denied.stderr).toContain("Access denied");
  });

  it("removes state and runtime directories with --volumes and the links with --unlink", async () => {
    const f = fixture();
    await f.run("down", { flags: { volumes: true, unlink: true } });
    expect(argvs(f)).toEqual(
      expect.arrayContaining([
        "systemctl --user clean --what=state --what=runtime shop-api.service shop-db.service",
        "systemctl --user disable shop.target shop-api.service shop-db.service",
      ]),
    );
  });
});

describe("ps, status, restart", () => {
  it("shows each unit's state, and data with --json", async () => {
    const f = fixture();
    f.answers([
      {
        tool: "systemctl",
        match: "--property=Id",
        stdout:
          "Id=shop.target\nLoadState=loaded\nActiveState=active\nSubState=active\nMainPID=0\nNRestarts=0\n\nId=shop-api.service\nLoadState=loaded\nActiveState=activating\nSubState=start-post\nMainPID=4242\nNRestarts=2\n",
      },
    ]);
    const r = await f.run("ps", { flags: { json: true } });
    expect(JSON.parse(r.stdout)).toEqual([
      {
        unit: "shop.target",
        load: "loaded",
        active: "active",
        sub: "active",
        pid: null,
        restarts: 0,
      },
      {
        unit: "shop-api.service",
        load: "loaded",
        active: "activating",
        sub: "start-post",
        pid: 4242,
        restarts: 2,
      },
    ]);
  });

  it("prints a table whose columns line up", () => {
    const table = psTable(
      parseShow(
        "Id=a.service\nLoadState=loaded\nActiveState=failed\nSubState=failed\nMainPID=0\nNRestarts=5\n",
      ),
    );
    expect(table).toBe(
      "UNIT       LOAD    ACTIVE  SUB     PID  RESTARTS\na.service  loaded  failed  failed  -    5\n",
    );
  });

  it("passes systemctl status through, exit code 3 for an inactive unit included", async () => {
    const f = fixture();
    f.answers([
      { tool: "systemctl", match: "^--user status", stdout: "○ shop-db.service\n", code: 3 },
    ]);
    const r = await f.run("status", { args: ["db"] });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe("○ shop-db.service\n");
    expect(argvs(f)).toContain("systemctl --user status --no-pager --full shop-db.service");
  });

  it("restarts the named services", async () => {
    const f = fixture();
    const r = await f.run("restart", { args: ["api"] });
    expect(r.exitCode).toBe(0);
    expect(argvs(f)).toContain("systemctl --user restart shop-api.service");
  });

  it("names the known services when asked for an unknown one", async () => {
    const f = fixture();
    const r = await f.run("restart", { args: ["web"] });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe("The deployment `shop` has no service `web` (services: api, db).\n");
  });

  it("refuses --user and --system together", async () => {
    const f = fixture();
    const r = await f.run("ps", { flags: { user: true, system: true } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("exclude each other");
  });
});

describe("logs", () => {
  it("reads the journal of every service, or of the named ones, with --tail", async () => {
    const f = fixture();
    const all = await f.run("logs");
    expect(all.stdout).toContain("hello from the fake journal");
    await f.run("logs", { args: ["db"], flags: { tail: "20" } });
    expect(argvs(f)).toEqual([
      "journalctl --user --no-pager --output=short-iso -u shop-api.service -u shop-db.service",
      "journalctl --user --no-pager --output=short-iso -u shop-db.service --lines=20",
    ]);
  });

  it("follows until the caller aborts", async () => {
    const f = fixture();
    const abort = new AbortController();
    const pending = f.run("logs", { flags: { follow: true }, signal: abort.signal });
    // Abort once the fake journal has been called (event-based: poll the call log).
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        if (f.calls().length > 0) {
          clearInterval(tick);
          resolve();
        }
      }, 20);
    });
    abort.abort();
    const r = await pending;
    expect(r.exitCode).toBe(0);
    expect(argvs(f)[0]).toContain("--follow");
  });

  it("rejects a --tail that is not a number", async () => {
    const f = fixture();
    const r = await f.run("logs", { flags: { tail: "lots" } });
    expect(r.exitCode).toBe(1);
    expect(existsSync(f.log) && f.calls()).toEqual([]);
  });
});
