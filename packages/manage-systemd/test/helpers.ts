import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  type DeploymentDefinition,
  evaluateDeployment,
  type Manager,
  type ManagerContext,
  UserError,
} from "@nix2dream/core";
import systemd from "@nix2dream/render-systemd";
import { writeArtifacts } from "@nix2dream/testkit";
import systemdManager, { type SystemdManagerOptions } from "../src/index.js";

const FAKE = fileURLToPath(new URL("./fixtures/fake-systemd.mjs", import.meta.url));

/** Collects what is written to it. */
export class Sink extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString("utf8");
    done();
  }
}

/** One recorded call of the fake systemctl/journalctl. */
export interface Call {
  tool: "systemctl" | "journalctl";
  argv: string[];
}

/** An answer the fake replays for calls whose argv matches `match`. */
export interface Answer {
  tool: "systemctl" | "journalctl";
  match: string;
  stdout?: string;
  stderr?: string;
  code?: number;
  hang?: boolean;
}

/**
 * A rendered deployment in a temporary directory, with the FAKE systemctl and journalctl first
 * on PATH (see fixtures/fake-systemd.mjs).
 */
export class Fixture {
  readonly dir = mkdtempSync(join(tmpdir(), "n2d-manage-systemd-"));
  readonly bin = join(this.dir, "bin");
  readonly artifactsDir = join(this.dir, "render");
  readonly stateDir = join(this.dir, "state");
  readonly log = join(this.dir, "calls.jsonl");
  readonly answersFile = join(this.dir, "answers.json");
  readonly env: NodeJS.ProcessEnv;
  deployment: ReturnType<typeof evaluateDeployment>["deployment"];

  constructor(
    services: DeploymentDefinition["services"] = {
      api: { command: ["/bin/true"] },
      db: { command: ["/bin/true"] },
    },
    extra: Partial<DeploymentDefinition> = {},
  ) {
    mkdirSync(this.bin);
    for (const tool of ["systemctl", "journalctl"]) {
      const shim = join(this.bin, tool);
      writeFileSync(
        shim,
        `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE)} ${tool} "$@"\n`,
      );
      chmodSync(shim, 0o755);
    }
    writeFileSync(this.log, "");
    writeFileSync(this.answersFile, "[]");
    this.env = {
      ...process.env,
      PATH: `${this.bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      FAKE_SYSTEMD_LOG: this.log,
      FAKE_SYSTEMD_ANSWERS: this.answersFile,
    };
    this.deployment = this.render(services, extra);
  }

  /** Evaluates and renders a deployment named `shop` into the render directory. */
  render(services: DeploymentDefinition["services"], extra: Partial<DeploymentDefinition> = {}) {
    const definition = {
      name: "shop",
      use: [systemd(), systemdManager()],
      services,
      ...extra,
    } as DeploymentDefinition;
    const { deployment } = evaluateDeployment(definition, {
      // A directory that exists: the units' WorkingDirectory= under a real manager.
      file: join(this.dir, "nix2dream.config.ts"),
      root: this.dir,
    });
    rmSync(this.artifactsDir, { recursive: true, force: true });
    mkdirSync(this.artifactsDir, { recursive: true });
    writeArtifacts(this.artifactsDir, systemd().render(deployment).artifacts);
    this.deployment = deployment;
    return deployment;
  }

  answers(list: Answer[]): void {
    writeFileSync(this.answersFile, JSON.stringify(list));
  }

  calls(): Call[] {
    return readFileSync(this.log, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Call);
  }

  /** Runs one action with the fake tools on PATH. */
  async run(
    name: string,
    opts: {
      args?: string[];
      flags?: ManagerContext["flags"];
      signal?: AbortSignal;
      manager?: Manager;
      options?: SystemdManagerOptions;
    } = {},
  ) {
    const manager = opts.manager ?? systemdManager({ env: this.env, ...opts.options });
    const stdout = new Sink();
    const stderr = new Sink();
    const action = manager.actions[name];
    if (!action) throw new Error(`no action ${name}`);
    const result = await action({
      deployment: this.deployment,
      artifactsDir: this.artifactsDir,
      stateDir: this.stateDir,
      args: opts.args ?? [],
      flags: opts.flags ?? {},
      stdout,
      stderr,
      color: false,
      signal: opts.signal ?? new AbortController().signal,
    });
    return { ...result, stdout: stdout.text, stderr: stderr.text };
  }

  /**
   * Runs one action that must fail with a user error (what the CLI prints as
   * `error: manager systemd: …`); returns that error and what the action printed.
   */
  async fail(name: string, opts: Parameters<Fixture["run"]>[1] = {}) {
    const thrown = await this.run(name, opts).then(
      (r) => new Error(`${name} did not fail: exit code ${r.exitCode}`),
      (e: unknown) => e,
    );
    if (!UserError.is(thrown)) throw thrown;
    return { error: thrown };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** True when a real systemctl is installed (Debian's `systemd` package). */
export function realSystemctl(): string {
  const r = spawnSync("sh", ["-c", "command -v systemctl"], { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(
      "systemctl is missing: install Debian's `systemd` package (apt-get install -y systemd); scripts/setup.sh does in CI.",
    );
  }
  return r.stdout.trim();
}
