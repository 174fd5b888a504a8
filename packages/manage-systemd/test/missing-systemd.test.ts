/**
 * The real systemctl of this machine, where systemd is installed but does not run (no systemd
 * as PID 1, no user manager): the message must say what is missing, and nothing is linked.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Fixture, realSystemctl } from "./helpers.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("without a running systemd", () => {
  it("explains that the user manager cannot be reached, and links nothing", async () => {
    const systemctl = realSystemctl();
    const f = new Fixture();
    cleanups.push(() => f.cleanup());
    const home = mkdtempSync(join(tmpdir(), "n2d-manage-systemd-home-"));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
    };
    delete env.XDG_RUNTIME_DIR;
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const { error: r } = await f.fail("up", { options: { systemctl, env } });
    expect(r.message).toMatch(
      /^systemctl could not reach the systemd user manager: .+\. @nix2dream\/manage-systemd needs a user manager: .*loginctl enable-linger.*use @nix2dream\/manage-local/,
    );
    expect(existsSync(join(home, ".config/systemd"))).toBe(false);
  });

  it("explains the system manager is missing with --system", async () => {
    const systemctl = realSystemctl();
    const f = new Fixture();
    cleanups.push(() => f.cleanup());
    const { error: r } = await f.fail("ps", { flags: { system: true }, options: { systemctl } });
    expect(r.message).toMatch(/^systemctl could not reach the systemd system manager: .+PID 1/);
  });

  it("names the package to install when systemctl is not installed at all", async () => {
    const f = new Fixture();
    cleanups.push(() => f.cleanup());
    const { error: r } = await f.fail("up", { options: { env: { ...process.env, PATH: f.dir } } });
    expect(r.message).toBe(
      "`systemctl` was not found on PATH. @nix2dream/manage-systemd drives systemd's service manager, so it runs only where systemd is installed and is the init system (Debian's `systemd` package). Elsewhere — a container without systemd, macOS — use @nix2dream/manage-local (`nix2dream up --manager local`).",
    );
  });
});
