/**
 * The actions against a FAKE systemctl/journalctl (test/fixtures/fake-systemd.mjs) that records
 * argv and replays answers, only for what the real user manager of real-manager.test.ts cannot
 * answer: the system manager (`--system`; PID 1 here is not systemd), the journal (`logs`; no
 * journald runs), `down --volumes` (`systemctl clean` needs a D-Bus session bus), answers a root
 * manager never gives ("Access denied", a failing start of the target, whose services it only
 * Wants=), and what must never be in argv (a secret's value). missing-systemd.test.ts uses the
 * real systemctl without a manager.
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
    const { error } = await f.fail("up");
    expect(error.source).toBe("manager systemd");
    expect(error.message).toBe(
      "A dependency job for shop.target failed. See 'journalctl -xe' for details.",
    );
    expect(error.hint).toContain("nix2dream logs");
  });

  // A user manager that does not run as root cannot be started here (testkit's runs as root), so
  // its uid is given; the 216/GROUP it would end in is systemd's documented exit status.
  it("warns, naming the option and its file, that `user` fails under a non-root user manager", async () => {
    const services = {
      db: { command: ["/bin/true"], user: "postgres" },
      api: { command: ["/bin/true"], group: "www-data" },
      web: { command: ["/bin/true"] },
    };
    const f = fixture(services);
    const r = await f.run("up", { options: { env: f.env, uid: 1000 } });
    expect(r.exitCode).toBe(0);
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("Warning:"));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain("`services.api.group` (defined in ");
    expect(warnings[1]).toMatch(
      /^Warning: `services\.db\.user` \(defined in [^)]*nix2dream\.config\.ts\) makes the unit switch to user `postgres`, but the systemd user manager runs as uid 1000, not root, .* status 216\/GROUP/,
    );
    for (const [uid, flags] of [
      [0, {}],
      [1000, { system: true }],
    ] as const) {
      const g = fixture(services);
      const quiet = await g.run("up", { flags, options: { env: g.env, uid } });
      expect(quiet.stderr).not.toContain("Warning:");
    }
  });

  it("says to render first when there is no render, without calling systemctl", async () => {
    const f = fixture();
    rmSync(join(f.artifactsDir, "shop.target"));
    const { error } = await f.fail("up");
    expect(error.message).toMatch(/There is no shop\.target in .*nix2dream render systemd/);
    expect(f.calls()).toEqual([]);
  });
});

describe("down", () => {
  it("reports a failure to stop other than units that were never loaded", async () => {
    const f = fixture();
    f.answers([{ tool: "systemctl", match: "^--user stop", stderr: "Access denied\n", code: 4 }]);
    const denied = await f.fail("down");
    expect(denied.error.message).toContain("Access denied");
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

  it("stops only the named services, leaving the target and the others running", async () => {
    const f = fixture();
    const r = await f.run("stop", { args: ["api"] });
    expect(r.exitCode).toBe(0);
    expect(argvs(f)).toContain("systemctl --user stop shop-api.service");
    expect(argvs(f).filter((a) => a.includes(" stop "))).toEqual([
      "systemctl --user stop shop-api.service",
    ]);
    expect(r.stdout).toBe("Stopped shop-api.service.\n");
  });

  it("names the known services when asked for an unknown one", async () => {
    const f = fixture();
    const { error } = await f.fail("restart", { args: ["web"] });
    expect(error.message).toBe("The deployment `shop` has no service `web` (services: api, db).");
  });

  it("refuses --user and --system together", async () => {
    const f = fixture();
    const { error } = await f.fail("ps", { flags: { user: true, system: true } });
    expect(error.message).toContain("exclude each other");
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
    const { error } = await f.fail("logs", { flags: { tail: "lots" } });
    expect(error.message).toBe("`--tail` takes a number of lines or `all`, not `lots`.");
    expect(existsSync(f.log) && f.calls()).toEqual([]);
  });
});
