// @module-tag systemd
/**
 * The reference deployment (packages/testkit/src/reference-deployment.ts) under a REAL systemd
 * user manager (testkit's startUserManager: Debian's systemd 252 in a private mount namespace
 * and cgroup): rendered by render-systemd, driven by this manager's actions — up (link,
 * daemon-reload, import-environment, start), ps, status, restart, down, down --unlink —
 * and checked over HTTP. Not checked here: `logs` (no journald runs for this manager: the units'
 * output goes nowhere a test can read) and `down --volumes` (`systemctl clean` needs a D-Bus
 * session bus); manager.test.ts covers both with the fake.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { evaluateDeployment } from "@nix2dream/core";
import systemd from "@nix2dream/render-systemd";
import {
  freePort,
  managerContext,
  runAction,
  startUserManager,
  tempDir,
  type UserManager,
  writeArtifacts,
} from "@nix2dream/testkit";
import {
  expectReferenceBehaviour,
  REFERENCE_SECRET,
  REFERENCE_SECRET_VAR,
  referenceDeployment,
  referenceFetch,
} from "@nix2dream/testkit/reference";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import systemdManager, { type UnitState } from "../src/index.js";

const NOBODY = 65534;
let manager: UserManager;
let dir = "";

beforeAll(async () => {
  dir = tempDir("n2d-ref-systemd-");
  // db runs as nobody: it must reach the project (WorkingDirectory=) and its StateDirectory=.
  chmodSync(dir, 0o755);
  manager = await startUserManager(join(dir, "manager"));
});

afterAll(async () => {
  if (!manager) return;
  await manager.stop();
  expect(manager.processes()).toEqual([]);
});

describe("the reference deployment under a real systemd user manager", () => {
  it("starts in dependency and health order, passes every behaviour check, restarts, and keeps its data across a down and up", {
    timeout: 600_000,
  }, async () => {
    const ports = { db: await freePort(), api: await freePort(), web: await freePort() };
    const renderer = systemd();
    const actions = systemdManager({
      env: { ...manager.env, [REFERENCE_SECRET_VAR]: REFERENCE_SECRET },
    });
    const root = join(dir, "project");
    mkdirSync(root);
    const { deployment } = evaluateDeployment(
      { ...referenceDeployment("refsd", ports), use: [renderer, actions] },
      { file: join(root, "nix2dream.config.ts"), root },
    );
    const renderDir = join(root, "systemd");
    mkdirSync(renderDir);
    writeArtifacts(renderDir, renderer.render(deployment).artifacts);
    const act = (name: string, opts: { args?: string[]; flags?: Record<string, boolean> } = {}) =>
      runAction(
        actions.actions[name],
        managerContext({ deployment, artifactsDir: renderDir, ...opts }),
      );
    const active = (data: unknown) => (data as UnitState[]).map((u) => [u.unit, u.active, u.sub]);

    for (const run of [1, 2]) {
      // `systemctl start` returns once every unit's start job is done: db's and api's include
      // their health probes (ExecStartPost), seed's its whole run.
      const up = await act("up");
      expect(up.exitCode, up.stdout + up.stderr).toBe(0);
      expect(active(up.data)).toEqual([
        ["refsd.target", "active", "active"],
        ["refsd-api.service", "active", "running"],
        ["refsd-db.service", "active", "running"],
        ["refsd-seed.service", "active", "exited"],
        ["refsd-web.service", "active", "running"],
      ]);
      await expectReferenceBehaviour(referenceFetch(ports), { run, dbUid: NOBODY });
      if (run === 1) {
        const status = await act("status", { args: ["db"] });
        expect(status.exitCode).toBe(0);
        expect(status.stdout).toMatch(/refsd-db\.service[\s\S]*Active: active \(running\)/);
        const before = (await act("ps", { args: ["api"] })).data as UnitState[];
        const restarted = await act("restart", { args: ["api"] });
        expect(restarted.exitCode, restarted.stderr).toBe(0);
        const after = (await act("ps", { args: ["api"] })).data as UnitState[];
        expect(after[0]?.active).toBe("active");
        expect(after[0]?.pid).not.toBe(before[0]?.pid);
        // api came back healthy, and found db already serving when it started again.
        expect((await referenceFetch(ports)("api", "/cgi-bin/start")).toString()).toBe(
          "db=1 seed=1\n",
        );
      }
      const down = await act("down");
      expect(down.exitCode, down.stderr).toBe(0);
      const stopped = await act("ps");
      expect(active(stopped.data).every(([, a]) => a === "inactive")).toBe(true);
      // Nothing of the deployment runs any more in the manager's cgroup tree.
      expect(manager.unitProcesses()).toEqual([]);
    }
    const state = join(manager.configHome, "refsd", "db", "data");
    expect(statSync(join(state, "starts")).uid).toBe(NOBODY);
    // `down --volumes` (systemctl clean) needs a D-Bus session bus, which this manager lacks:
    // manager.test.ts checks its argv against the fake.
    const unlinked = await act("down", { flags: { unlink: true } });
    expect(unlinked.exitCode, unlinked.stderr).toBe(0);
    expect(existsSync(join(manager.configHome, "systemd", "user", "refsd.target"))).toBe(false);
    expect(manager.systemctl("cat", "refsd-db.service").status).not.toBe(0);
  });
});
