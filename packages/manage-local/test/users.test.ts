/**
 * `user` under the built-in supervisor, with real users of this machine (the tests run as root):
 * a root supervisor runs the service as that user; a supervisor that is not root (run here as
 * `nobody`) runs it as itself and says so.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { userInfo } from "node:os";
import path from "node:path";
import { evaluateDeployment, type ServiceDefinition } from "@nix2dream/core";
import procfile from "@nix2dream/render-procfile";
import { writeArtifacts } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { readPlan } from "../src/programmatic.js";
import { supervise, tempDir } from "./helpers.js";
import { RUN_ACTION } from "./real.js";

const NOBODY = 65534;

/** Renders `services` into `<root>/procfile`; returns the render dir. */
function rendered(root: string, services: Record<string, ServiceDefinition>): string {
  const { deployment } = evaluateDeployment(
    { name: "users", services },
    { file: path.join(root, "nix2dream.config.ts"), root },
  );
  const dir = path.join(root, "procfile");
  mkdirSync(dir, { recursive: true });
  writeArtifacts(dir, procfile().render(deployment).artifacts);
  return dir;
}

/** A service that records who it runs as in its volume, writes to /dev/stdout, then sleeps. */
const whoami: ServiceDefinition = {
  command: [
    "sh",
    "-c",
    'printf "%s %s %s %s\\n" "$(id -u)" "$(id -g)" "$USER" "$HOME" > "$DATA/who"; echo via-dev-stdout > /dev/stdout; exec sleep 600',
  ],
  env: { DATA: "" },
  user: "nobody",
  volumes: { data: { init: "id -u > made-by" } },
  stop: { gracePeriod: 2 },
};

function withData(root: string): Record<string, ServiceDefinition> {
  return {
    who: { ...whoami, env: { DATA: path.join(root, "state", "who", "volumes", "data") } },
  };
}

describe("user under a root supervisor", () => {
  it("runs the service as that user, with its HOME and USER, its volume and stdout its own", async () => {
    expect(userInfo().uid).toBe(0);
    const root = tempDir();
    chmodSync(root, 0o755);
    const dir = rendered(root, withData(root));
    const { sup, out } = supervise(readPlan(dir), {
      renderDir: dir,
      stateDir: path.join(root, "sup"),
    });
    await sup.start();
    await out.waitFor(/who +\| via-dev-stdout/);
    const volume = path.join(root, "state", "who", "volumes", "data");
    expect(readFileSync(path.join(volume, "who"), "utf8")).toBe(
      `${NOBODY} ${NOBODY} nobody /nonexistent\n`,
    );
    expect(readFileSync(path.join(volume, "made-by"), "utf8")).toBe(`${NOBODY}\n`);
    expect(statSync(volume).uid).toBe(NOBODY);
    expect(out.text()).toContain("who runs as nobody (uid 65534, gid 65534)");
  });

  it("runs a service added by a new plan (`up --watch`) as its user too", async () => {
    const root = tempDir();
    chmodSync(root, 0o755);
    const idle: ServiceDefinition = { command: ["sleep", "600"], stop: { gracePeriod: 2 } };
    const dir = rendered(root, { idle });
    const { sup, out } = supervise(readPlan(dir), {
      renderDir: dir,
      stateDir: path.join(root, "sup"),
    });
    await sup.start();
    rendered(root, { idle, ...withData(root) });
    await sup.applyPlan(readPlan(dir));
    await out.waitFor(/who +\| via-dev-stdout/);
    const volume = path.join(root, "state", "who", "volumes", "data");
    expect(readFileSync(path.join(volume, "who"), "utf8")).toBe(
      `${NOBODY} ${NOBODY} nobody /nonexistent\n`,
    );
  });

  it("refuses a user the machine does not have, naming the option", async () => {
    const root = tempDir();
    chmodSync(root, 0o755);
    const dir = rendered(root, { who: { ...whoami, user: "n2d-no-such-user" } });
    const { sup } = supervise(readPlan(dir), { renderDir: dir, stateDir: path.join(root, "sup") });
    await expect(sup.start()).rejects.toThrow(
      "The service `who` sets `user` to `n2d-no-such-user`, which is not a user of this machine (not in /etc/passwd). Create the user (`useradd --system n2d-no-such-user`) or change `services.who.user`.",
    );
  });

  it("refuses to start when the user cannot reach its launcher, saying why", async () => {
    const root = tempDir(); // mkdtemp: 0700, closed to nobody
    const dir = rendered(root, withData(root));
    const { sup } = supervise(readPlan(dir), { renderDir: dir, stateDir: path.join(root, "sup") });
    await expect(sup.start()).rejects.toThrow(
      /The service `who` runs as `nobody` \(uid 65534\), who cannot enter .* Every directory above them must be searchable by that user/,
    );
  });
});

describe("user under a supervisor that is not root", () => {
  it("runs the service as the supervisor's user and says so", { timeout: 60_000 }, async () => {
    const root = tempDir();
    chmodSync(root, 0o755);
    const dir = rendered(root, {
      job: {
        command: ["sh", "-c", 'id -u > "$OUT"'],
        env: { OUT: path.join(root, "uid") },
        user: "daemon",
        restart: "no",
      },
    });
    // The supervisor's state and the render are nobody's, as they would be in its own project.
    expect(spawnSync("chown", ["-R", `${NOBODY}:${NOBODY}`, root]).status).toBe(0);
    const run = spawn(process.execPath, [RUN_ACTION, "up", dir], {
      uid: NOBODY,
      gid: NOBODY,
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    run.stdout.on("data", (d) => (output += d));
    run.stderr.on("data", (d) => (output += d));
    const code = await new Promise((resolve) => run.on("exit", resolve));
    expect(code, output).toBe(0);
    expect(output).toContain(
      "job sets user `daemon`, but only root can switch users and this supervisor runs as uid 65534: job runs as uid 65534.",
    );
    expect(readFileSync(path.join(root, "uid"), "utf8")).toBe(`${NOBODY}\n`);
  });
});
