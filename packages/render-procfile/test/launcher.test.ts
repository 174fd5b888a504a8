/** The rendered launchers run with real `sh` (dash), the way manage-local runs processes.json. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  deploymentFixture,
  fileTempDir,
  portFixture,
  serviceFixture,
  volumeFixture,
  writeArtifacts,
} from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import procfile, { PLAN_FILE, type PlannedProcess, type ProcessPlan } from "../src/index.js";
import { HOSTILE, refs } from "./fixtures/values.js";

const PRINTER = fileURLToPath(new URL("./fixtures/print-process.mjs", import.meta.url));
const NODE = process.execPath;
const tmp = fileTempDir("n2d-launcher-");
const timing = { interval: 1, timeout: 1, retries: 1, startPeriod: 0 };

/** Renders `services` into `<tmp>/<case>/.nix2dream/d/procfile` and returns the plan. */
function renderTo(name: string, services: Parameters<typeof deploymentFixture>[1]) {
  const project = join(tmp, name);
  mkdirSync(project, { recursive: true });
  const dir = join(project, ".nix2dream", "d", "procfile");
  const { artifacts, diagnostics } = procfile().render(
    deploymentFixture("d", services, { root: project }),
  );
  writeArtifacts(dir, artifacts);
  const plan: ProcessPlan = JSON.parse(readFileSync(join(dir, PLAN_FILE), "utf8"));
  const byName = (n: string) => plan.processes.find((p) => p.name === n) as PlannedProcess;
  return {
    project,
    dir,
    state: join(project, ".nix2dream", "d", "state"),
    plan,
    byName,
    diagnostics,
  };
}

/** Runs an argv of the plan from the render directory, as manage-local does. */
function runArgv(dir: string, argv: string[], env: Record<string, string> = {}) {
  const [file, ...args] = argv;
  return spawnSync(file as string, args, {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
  });
}

describe("rendered launchers", () => {
  it("run each replica with the plan's env: PORT, PS, the state dir and hostile values intact", () => {
    const r = renderTo("replicas", [
      serviceFixture("api", {
        command: [NODE, PRINTER],
        args: HOSTILE,
        env: {
          MOTD: HOSTILE.join(" | "),
          DATA: refs.volume("api", "data"),
          PRINT_ENV: "PORT,PS,MOTD,DATA,NIX2DREAM_STATE_DIR",
        },
        volumes: { data: volumeFixture("/data") },
        ports: { http: portFixture(8080) },
        replicas: 2,
      }),
    ]);
    for (const [name, p] of [
      ["api", "8080"],
      ["api.2", "8081"],
    ]) {
      const proc = r.byName(name as string);
      const out = runArgv(r.dir, proc.command, proc.env);
      expect(out.stderr).toBe("");
      expect(JSON.parse(out.stdout)).toEqual({
        argv: HOSTILE,
        env: {
          PORT: p,
          PS: proc.env.PS,
          MOTD: HOSTILE.join(" | "),
          DATA: join(r.state, "api", "volumes", "data"),
          NIX2DREAM_STATE_DIR: r.state,
        },
        cwd: r.project,
      });
    }
  });

  it("honour NIX2DREAM_STATE_DIR from the environment (manage-local's state dir)", () => {
    const r = renderTo("statedir", [
      serviceFixture("a", {
        command: [NODE, PRINTER],
        env: { DATA: refs.volume("a", "v"), PRINT_ENV: "DATA" },
        volumes: { v: volumeFixture("/v", { init: "touch made" }) },
      }),
    ]);
    const custom = join(tmp, "custom state 'dir'");
    const out = runArgv(r.dir, r.byName("a").command, { NIX2DREAM_STATE_DIR: custom });
    expect(JSON.parse(out.stdout).env).toEqual({ DATA: join(custom, "a", "volumes", "v") });
    expect(existsSync(join(custom, "a", "volumes", "v", "made"))).toBe(true);
    expect(existsSync(r.state)).toBe(false);
  });

  it("resolve a file reference to where the launcher wrote the file, with hostile paths", () => {
    const path = '/etc/it\'s $(here)/conf: "x".json';
    const r = renderTo("fileref", [
      serviceFixture("c", {
        command: [
          NODE,
          "-e",
          "process.stdout.write(require('fs').readFileSync(process.env.CONF, 'utf8'))",
        ],
        env: { CONF: refs.file("c", path) },
        files: { [path]: { text: HOSTILE.join("\n"), source: null, mode: "0600" } },
      }),
    ]);
    const out = runArgv(r.dir, r.byName("c").command);
    expect(out.stderr).toBe("");
    expect(out.stdout).toBe(HOSTILE.join("\n"));
    // The program is told where the file is, so the relocation loses nothing: no warning.
    expect(r.diagnostics.filter((x) => x.option.includes("files"))).toEqual([]);
  });

  it("run exec probes through the exec prefix, inside the service's environment", () => {
    const r = renderTo("probe", [
      serviceFixture("w", {
        command: ["true"],
        secrets: { TOKEN: { fromEnv: "W_TOKEN", fromFile: null, required: true } },
        volumes: { scratch: volumeFixture("/scratch", { persistent: false }) },
        healthcheck: {
          type: "exec",
          command: [
            "sh",
            "-c",
            'test -d "$1" && test "$TOKEN" = "t k"',
            "probe",
            refs.volume("w", "scratch"),
          ],
          ...timing,
        },
      }),
    ]);
    const proc = r.byName("w");
    if (proc.probe?.type !== "exec") throw new Error("expected an exec probe");
    const probe = [...proc.execPrefix, ...proc.probe.command];
    expect(runArgv(r.dir, probe, { W_TOKEN: "t k" }).status).not.toBe(0);
    expect(runArgv(r.dir, proc.command, { W_TOKEN: "t k" }).status).toBe(0);
    expect(runArgv(r.dir, probe, { W_TOKEN: "t k" }).status).toBe(0);
    const missing = runArgv(r.dir, probe);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(
      "nix2dream: service w: secret TOKEN is missing: set the variable W_TOKEN\n",
    );
  });

  it("pass hostile arguments through --exec untouched", () => {
    const r = renderTo("exec", [serviceFixture("a", { command: ["false"] })]);
    const out = runArgv(r.dir, [...r.byName("a").execPrefix, NODE, PRINTER, ...HOSTILE]);
    expect(JSON.parse(out.stdout).argv).toEqual(HOSTILE);
  });

  it("materialise files per service under the state dir, resolving references", () => {
    const r = renderTo("files", [
      serviceFixture("a", {
        command: ["true"],
        ports: { p: portFixture(4000) },
        files: {
          "/etc/a/conf": {
            text: `listen ${refs.address("a", "p")}\n${HOSTILE.join("\n")}`,
            source: null,
            mode: "0644",
          },
        },
      }),
    ]);
    expect(runArgv(r.dir, r.byName("a").command).status).toBe(0);
    expect(readFileSync(join(r.state, "a", "files", "etc", "a", "conf"), "utf8")).toBe(
      `listen 127.0.0.1:4000\n${HOSTILE.join("\n")}`,
    );
  });

  it("clear volumes only with --clear", () => {
    const r = renderTo("clear", [
      serviceFixture("a", {
        command: ["true"],
        volumes: { v: volumeFixture("/v", { init: "echo x > f", clear: "test -f f" }) },
      }),
    ]);
    const launcher = r.byName("a").command;
    expect(runArgv(r.dir, launcher).status).toBe(0);
    expect(runArgv(r.dir, launcher).status).toBe(0);
    expect(readdirSync(join(r.state, "a", "volumes", "v"))).toEqual(["f"]);
    expect(runArgv(r.dir, [...launcher, "--clear"]).status).toBe(0);
    expect(readdirSync(join(r.state, "a", "volumes", "v"))).toEqual([]);
  });

  it("resolve relative secret files, file sources and working dirs against the config directory", () => {
    const r = renderTo("relative", [
      serviceFixture("a", {
        command: [NODE, PRINTER],
        workingDir: "sub dir",
        env: { PRINT_ENV: "TOKEN" },
        secrets: { TOKEN: { fromEnv: null, fromFile: "secrets/it's token", required: true } },
        files: { "copy.txt": { text: null, source: "assets/in.txt", mode: "0644" } },
      }),
    ]);
    mkdirSync(join(r.project, "sub dir"));
    mkdirSync(join(r.project, "secrets"));
    mkdirSync(join(r.project, "assets"));
    writeFileSync(join(r.project, "secrets", "it's token"), "tok\n");
    writeFileSync(join(r.project, "assets", "in.txt"), "copied");
    const out = runArgv(r.dir, r.byName("a").command);
    expect(out.stderr).toBe("");
    expect(JSON.parse(out.stdout)).toMatchObject({
      env: { TOKEN: "tok" },
      cwd: join(r.project, "sub dir"),
    });
    expect(readFileSync(join(r.state, "a", "files", "copy.txt"), "utf8")).toBe("copied");
  });
});
