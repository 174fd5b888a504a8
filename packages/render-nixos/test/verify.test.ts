// @module-tag nix
// @module-tag systemd
/**
 * The units NixOS would write from the generated module, checked by `systemd-analyze verify`
 * (systemd 252 here). No NixOS evaluation can run here, so the unit text is made from the
 * module's `config` (evaluated by the real nix-instantiate with the STUB lib/pkgs) the way
 * nixpkgs' `systemd-lib.nix` writes it: `Key=value` per attribute, lists as repeated keys,
 * `Environment=` as JSON strings. `systemd-analyze verify` exits 0 on most mistakes, so the test
 * fails on any line of output. `RestartSteps=` is left out (`restartSteps: false`): systemd 252
 * predates it.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type DeploymentDefinition, evaluateDeployment, serviceRef } from "@nix2dream/core";
import { evalModuleConfig, materializeScripts, tempDir } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import nixos, { nixosModuleFor } from "../src/index.js";
import { HOSTILE } from "./fixtures/shop.js";

interface EvaluatedUnit {
  description?: string;
  after?: string[];
  requires?: string[];
  wants?: string[];
  path?: string[];
  environment?: Record<string, string>;
  unitConfig?: Record<string, unknown>;
  serviceConfig: Record<string, unknown>;
}

function lines(key: string, value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => lines(key, v));
  if (typeof value === "boolean") return [`${key}=${value}`];
  return [`${key}=${String(value)}`];
}

/** The unit file NixOS writes for one `systemd.services.<name>` (nixpkgs' systemd-lib.nix). */
function unitText(u: EvaluatedUnit): string {
  const unit = [
    "[Unit]",
    ...(u.description ? [`Description=${u.description}`] : []),
    ...(u.after?.length ? [`After=${u.after.join(" ")}`] : []),
    ...(u.requires?.length ? [`Requires=${u.requires.join(" ")}`] : []),
    ...(u.wants?.length ? [`Wants=${u.wants.join(" ")}`] : []),
    ...Object.entries(u.unitConfig ?? {}).flatMap(([k, v]) => lines(k, v)),
  ];
  const env = { ...(u.environment ?? {}) };
  if (u.path?.length) env.PATH = u.path.map((p) => `${p}/bin:${p}/sbin`).join(":");
  const service = [
    "[Service]",
    ...Object.keys(env)
      .sort()
      .map((k) => `Environment=${JSON.stringify(`${k}=${env[k]}`)}`),
    ...Object.entries(u.serviceConfig).flatMap(([k, v]) => lines(k, v)),
  ];
  return `${[...unit, "", ...service].join("\n")}\n`;
}

const STUB_TARGETS = ["sysinit.target", "basic.target", "shutdown.target", "multi-user.target"];

function verify(def: Omit<DeploymentDefinition, "name" | "use">) {
  const { deployment } = evaluateDeployment(
    { name: "v", use: [nixos()], ...def } as DeploymentDefinition,
    { file: "nix2dream.config.ts" },
  );
  const m = nixosModuleFor(deployment, { restartSteps: false });
  const dir = tempDir();
  const file = path.join(dir, m.fileName);
  writeFileSync(file, m.source);
  const root = path.join(dir, "root");
  const store = "/nix/store/stub";
  const config = evalModuleConfig(file, "v", { store }) as {
    systemd: { services: Record<string, EvaluatedUnit> };
  };
  const units = path.join(root, "etc/systemd/system");
  mkdirSync(units, { recursive: true });
  const libUnits = path.join(root, "usr/lib/systemd/system");
  mkdirSync(libUnits, { recursive: true });
  for (const t of STUB_TARGETS) writeFileSync(path.join(libUnits, t), "[Unit]\nDescription=stub\n");
  const names: string[] = [];
  for (const [name, u] of Object.entries(config.systemd.services)) {
    for (const key of ["ExecStartPre", "ExecStart", "ExecStartPost"]) {
      const v = u.serviceConfig[key];
      const scripts = path.join(root, "scripts");
      if (typeof v === "string") u.serviceConfig[key] = materializeScripts(v, scripts, root);
      if (Array.isArray(v))
        u.serviceConfig[key] = v.map((l) => materializeScripts(l, scripts, root));
    }
    writeFileSync(path.join(units, `${name}.service`), unitText(u));
    names.push(`${name}.service`);
  }
  // Stub programs: systemd checks that Exec programs exist and are executable.
  for (const p of ["/bin/sh", `${store}/hello/bin/hello`, `${store}/redis/bin/redis-server`]) {
    mkdirSync(path.join(root, path.dirname(p)), { recursive: true });
    writeFileSync(path.join(root, p), "#!/bin/sh\n", { mode: 0o755 });
  }
  const r = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${root}`, ...names], {
    cwd: units,
    encoding: "utf8",
    env: { ...process.env, SYSTEMD_LOG_COLOR: "0" },
  });
  if (r.error) {
    throw new Error(
      `systemd-analyze is missing (${r.error.message}): install Debian's systemd (apt-get install -y systemd)`,
    );
  }
  return {
    output: `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.trim() !== ""),
    status: r.status,
  };
}

describe("systemd-analyze verify on the units NixOS would write", () => {
  it("accepts every setting of a deployment using every option family, with hostile values", () => {
    const db = serviceRef("db");
    const { output, status } = verify({
      services: {
        db: {
          package: { nix: "pkgs.redis" },
          command: "redis-server",
          args: ["--port", db.port("r"), "--motd", HOSTILE.join("|")],
          user: "redis",
          env: Object.fromEntries(HOSTILE.map((v, i) => [`V${i}`, v])),
          secrets: { PASS: { fromFile: "/run/keys/pass" }, OTHER: "OTHER_SRC" },
          volumes: { data: { path: "/srv/redis", init: "echo init", check: "test -d ." } },
          ports: { r: { port: 6379, expose: true } },
          healthcheck: { port: "r" },
          resources: { memory: "512Mi", cpu: 1.5 },
          stop: { signal: "SIGINT", gracePeriod: 30 },
          restart: { policy: "always", maxRetries: 4 },
          preStart: "echo 'starting' \"$HOME\" 100%",
          files: { "/opt/redis/extra.conf": "maxmemory 100mb\n" },
        },
        web: {
          package: { nix: "pkgs.hello" },
          workingDir: "/srv/web",
          env: { DB: db.addressOf("r") },
          files: { "/etc/web/web.json": "{}" },
          ports: { http: 8080 },
          healthcheck: { port: "http", path: "/healthz" },
          dependsOn: { db: "healthy", init: "completed" },
        },
        init: { command: ["/bin/sh", "-c", "echo done"], restart: "no" },
      },
    });
    expect(output).toEqual([]);
    expect(status).toBe(0);
  });
});

describe("the check itself", () => {
  it("reports a setting systemd does not know, so a clean run means something", () => {
    const { output } = verify({
      services: {
        a: {
          command: "/bin/sh",
          renderers: { nixos: { override: { serviceConfig: { NoSuchSetting: "x" } } } },
        },
      },
    });
    expect(output.join("\n")).toContain("Unknown key 'NoSuchSetting' in section [Service]");
  });
});
