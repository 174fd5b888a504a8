// @module-tag foreman
/**
 * Checked against the real consumer: Debian's ruby-foreman 0.87 (`apt-get install ruby-foreman`).
 * These tests fail, not skip, when foreman is missing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
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
import procfile from "../src/index.js";
import { shop } from "./fixtures/shop.js";
import { HOSTILE, refs } from "./fixtures/values.js";

const PRINTER = fileURLToPath(new URL("./fixtures/print-process.mjs", import.meta.url));
const WAITER = fileURLToPath(new URL("./fixtures/wait-for-files.mjs", import.meta.url));
const NODE = process.execPath;
const tmp = fileTempDir("n2d-foreman-");

function foreman(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync("timeout", ["-k", "5", "40", "foreman", ...args], {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmp, ...env },
  });
  if (r.error) throw r.error;
  return r;
}

describe("ruby foreman", () => {
  it("is installed (Debian package ruby-foreman)", () => {
    const r = spawnSync("foreman", ["version"], { encoding: "utf8" });
    expect(
      r.error === undefined && r.status === 0,
      "ruby foreman is required by these tests: apt-get install -y ruby-foreman",
    ).toBe(true);
  });

  it("accepts the rendered Procfile with `foreman check`", () => {
    const dir = join(tmp, "check");
    writeArtifacts(dir, procfile().render(shop).artifacts);
    const r = foreman(["check", "-f", "Procfile"], dir);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("valid procfile detected (api, db, migrate, worker)\n");
    expect(r.status).toBe(0);
  });

  it("runs a rendered deployment with `foreman start`: replicas, PORT, env, secrets, files, volumes", () => {
    const project = join(tmp, "project");
    const ready = join(project, "ready");
    mkdirSync(ready, { recursive: true });
    const renderDir = join(project, ".nix2dream", "demo", "procfile");
    const secret = "p4ss 'w' $(rm -rf /) `x`\n✓";
    const fileText = `${HOSTILE.join("\n")}\nhello at ${refs.address("hello", "http")}\n`;
    const common = { HOLD: "1", READY_DIR: ready };
    const d = deploymentFixture(
      "demo",
      [
        serviceFixture("hello", {
          command: [NODE, PRINTER],
          args: HOSTILE,
          env: {
            ...common,
            ...Object.fromEntries(HOSTILE.map((v, i) => [`HOSTILE_${i}`, v])),
            DATA: refs.volume("hello", "data"),
            PRINT_ENV: [
              "PORT",
              "PS",
              "SECRET",
              "DATA",
              ...HOSTILE.map((_, i) => `HOSTILE_${i}`),
            ].join(","),
          },
          secrets: { SECRET: { fromEnv: "DEMO_SECRET", fromFile: null, required: true } },
          files: { "conf/it's.txt": { text: fileText, source: null, mode: "0600" } },
          volumes: { data: volumeFixture("/data", { init: "echo seeded > seed" }) },
          ports: { http: portFixture(7301) },
          replicas: 2,
        }),
        serviceFixture("worker-1", {
          command: [NODE, PRINTER],
          env: {
            ...common,
            API: `http://${refs.address("hello", "http")}/`,
            PRINT_ENV: "PORT,PS,API",
          },
        }),
        serviceFixture("zstop", {
          command: [NODE, WAITER, ready, "3"],
          restart: { policy: "no", maxRetries: null, backoff: { initial: 1, factor: 2, max: 1 } },
        }),
      ],
      { root: project },
    );
    const { artifacts } = procfile().render(d);
    writeArtifacts(renderDir, artifacts);

    const r = foreman(["start"], renderDir, { DEMO_SECRET: secret });
    expect(r.status, r.stdout + r.stderr).not.toBe(124);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips colour codes
    const lines = r.stdout.replace(/\x1b\[[0-9;]*m/g, "").split("\n");
    const printed = new Map<string, { argv: string[]; env: Record<string, string>; cwd: string }>();
    for (const line of lines) {
      const m = /^\S+ (\S+)\s+\| (\{.*)$/.exec(line);
      if (m?.[1] && m[2]) printed.set(m[1], JSON.parse(m[2]));
    }
    expect([...printed.keys()].sort(), r.stdout).toEqual(["hello.1", "hello.2", "worker-1.1"]);
    expect(lines.some((l) => /zstop\.1\s+\| all ready$/.test(l))).toBe(true);
    // The launcher execs: foreman's SIGTERM reaches the program, which exits 0 on it (a shell
    // left in between would be "terminated by SIGTERM").
    for (const ps of ["hello.1", "hello.2", "worker-1.1"]) {
      expect(
        lines.some((l) => new RegExp(`${ps}\\s+\\| exited with code 0$`).test(l)),
        ps,
      ).toBe(true);
    }

    const state = join(project, ".nix2dream", "demo", "state");
    const hostileEnv = Object.fromEntries(HOSTILE.map((v, i) => [`HOSTILE_${i}`, v]));
    for (const [ps, p] of [
      ["hello.1", "7301"],
      ["hello.2", "7302"],
    ] as const) {
      expect(printed.get(ps)).toEqual({
        argv: HOSTILE,
        env: {
          PORT: p,
          PS: ps,
          SECRET: secret,
          DATA: join(state, "hello", "volumes", "data"),
          ...hostileEnv,
        },
        cwd: project,
      });
    }
    // worker-1 is the second Procfile entry: foreman's PORT is 5000 + 1 * 100.
    expect(printed.get("worker-1.1")?.env).toEqual({
      PORT: "5100",
      PS: "worker-1.1",
      API: "http://127.0.0.1:7301/",
    });

    const file = join(state, "hello", "files", "conf", "it's.txt");
    expect(readFileSync(file, "utf8")).toBe(`${HOSTILE.join("\n")}\nhello at 127.0.0.1:7301\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(state, "hello", "volumes", "data", "seed"), "utf8")).toBe("seeded\n");

    for (const name of readdirSync(renderDir, { recursive: true, encoding: "utf8" })) {
      const path = join(renderDir, name);
      if (statSync(path).isFile()) expect(readFileSync(path, "utf8")).not.toContain("p4ss");
    }
    expect(existsSync(join(renderDir, ".foreman"))).toBe(true);
  });

  it("stops a process that ignores SIGTERM after its grace period (.foreman timeout), not foreman's 5 s", () => {
    const project = join(tmp, "stubborn");
    const ready = join(project, "ready");
    const late = join(project, "late");
    mkdirSync(ready, { recursive: true });
    const renderDir = join(project, "procfile");
    const d = deploymentFixture(
      "stubborn",
      [
        serviceFixture("stubborn", {
          // On SIGTERM it waits 4 s, then leaves a mark: killed after its 1 s grace period, it
          // never gets there; under foreman's default 5 s timeout it would.
          command: [
            "sh",
            "-c",
            'trap "sleep 4; touch \\"\\$2\\"" TERM; touch "$1/stubborn"; while :; do sleep 0.1; done',
            "sh",
            ready,
            late,
          ],
          stop: { signal: "SIGTERM", gracePeriod: 1 },
        }),
        serviceFixture("zstop", {
          command: [NODE, WAITER, ready, "1"],
          stop: { signal: "SIGTERM", gracePeriod: 1 },
        }),
      ],
      { root: project },
    );
    writeArtifacts(renderDir, procfile().render(d).artifacts);
    const r = foreman(["start"], renderDir);
    expect(r.stdout, r.stdout).toMatch(/system\s+\| sending SIGKILL to all processes/);
    expect(existsSync(late), "the process outlived its grace period").toBe(false);
  });
});
