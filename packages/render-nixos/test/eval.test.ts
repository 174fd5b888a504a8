// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Nix and shell source and hostile values hold literal ${...}
// @module-tag nix
/**
 * The generated module evaluated by the real `nix-instantiate` against a STUB `lib`/`pkgs`
 * (no nixpkgs can be fetched here): what NixOS would write into the units is compared with the
 * input for hostile values, and the Exec lines are split as systemd splits them (core's
 * `parseExecLine`, a re-implementation: no systemd PID 1 runs here) and run with a real `sh`.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type DeploymentDefinition, evaluateDeployment, serviceRef } from "@nix2dream/core";
import { nixExpr } from "@nix2dream/core/nix";
import { shellQuote } from "@nix2dream/core/shell";
import { parseExecLine } from "@nix2dream/core/systemd";
import { evalModuleConfig, materializeScripts, tempDir } from "@nix2dream/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import nixos, { nixosModuleFor } from "../src/index.js";
import { HOSTILE } from "./fixtures/shop.js";

interface Unit {
  environment?: Record<string, string>;
  serviceConfig: Record<string, unknown>;
  path?: string[];
  after?: string[];
  requires?: string[];
  wants?: string[];
  description?: string;
}
interface Config {
  systemd: { services: Record<string, Unit> };
  environment?: { etc: Record<string, { text?: string; mode?: string }> };
  networking?: unknown;
  users?: unknown;
  services?: unknown;
}

function render(def: Omit<DeploymentDefinition, "name" | "use">, name = "hostile") {
  const { deployment } = evaluateDeployment(
    { name, use: [nixos()], ...def } as DeploymentDefinition,
    { file: "/srv/conf/nix2dream.config.ts", root: "/srv/conf" },
  );
  const m = nixosModuleFor(deployment);
  const dir = tempDir();
  const file = path.join(dir, m.fileName);
  writeFileSync(file, m.source);
  return { file, module: m, dir };
}

/** A fake program that prints its argv and some variables, NUL-separated. */
function fakeProgram(store: string, pkg: string, bin: string): void {
  mkdirSync(path.join(store, pkg, "bin"), { recursive: true });
  const file = path.join(store, pkg, "bin", bin);
  writeFileSync(
    file,
    `#!/bin/sh\nfor a in "$@"; do printf 'arg:%s\\0' "$a"; done\nprintf 'TOKEN:%s\\0' "\${TOKEN-unset}"\nprintf 'RENAMED:%s\\0' "\${RENAMED-unset}"\n`,
  );
  chmodSync(file, 0o755);
}

// With names that are Object.prototype members: variable names like any other, carried as such.
const hostileEnv: Record<string, string> = Object.fromEntries([
  ...HOSTILE.map((v, i) => [`V${i}`, v]),
  ["__proto__", '$(id) "q" 100%'],
  ["constructor", "c\nline"],
  ["toString", "t"],
]);

describe("the module evaluated with nix-instantiate (stub lib and pkgs)", () => {
  // In beforeAll, not the describe body: a body runs even when the file's tag is filtered out.
  let file: string;
  let config: Config;
  let unit: Unit;
  beforeAll(() => {
    ({ file } = render({
      services: {
        app: {
          package: { nix: "pkgs.hello" },
          args: HOSTILE,
          env: hostileEnv,
          files: { "/etc/app/hostile.txt": `${HOSTILE.join("\n")}\n`, "/etc/app/one": "x" },
          renderers: {
            nixos: {
              override: {
                serviceConfig: { LimitNOFILE: 4096, Environment: nixExpr('"FROM_NIX=${"1"}"') },
              },
            },
          },
        },
      },
      renderers: { nixos: { override: { services: { journald: { rateLimitBurst: 0 } } } } },
    }));
    config = evalModuleConfig(file, "hostile") as unknown as Config;
    unit = config.systemd.services["hostile-app"] as Unit;
  });

  it("gives every environment value back, with % doubled for systemd's specifiers", () => {
    const env = unit.environment ?? {};
    for (const [k, v] of Object.entries(hostileEnv)) {
      expect(Object.getOwnPropertyDescriptor(env, k)?.value).toBe(v.replaceAll("%", "%%"));
    }
  });

  it("gives ExecStart back as the package's program and the hostile arguments, split as systemd does", () => {
    expect(parseExecLine(unit.serviceConfig.ExecStart as string)).toEqual([
      "/nix/store/stub/hello/bin/hello",
      ...HOSTILE,
    ]);
  });

  it("gives the text of /etc files back exactly", () => {
    expect(config.environment?.etc["app/hostile.txt"]?.text).toBe(`${HOSTILE.join("\n")}\n`);
    expect(config.environment?.etc["app/one"]).toEqual({ text: "x" });
  });

  it("merges the per-service and the deployment-wide override, Nix expressions evaluated", () => {
    expect(unit.serviceConfig.LimitNOFILE).toBe(4096);
    expect(unit.serviceConfig.Environment).toBe("FROM_NIX=1");
    expect(unit.serviceConfig.Type).toBe("exec");
    expect(config.services).toEqual({ journald: { rateLimitBurst: 0 } });
  });

  it("defines nothing when services.nix2dream.<deployment>.enable is false", () => {
    expect(evalModuleConfig(file, "hostile", { enable: false })).toEqual({});
  });
});

describe("Exec lines run for real", () => {
  it("starts the program with every hostile argument and the secrets read at start", () => {
    const store = tempDir("n2d-store-");
    fakeProgram(store, "hello", "hello");
    const { file } = render({
      services: {
        app: {
          package: { nix: "pkgs.hello" },
          args: HOSTILE,
          secrets: {
            TOKEN: { fromFile: "/run/keys/token" },
            RENAMED: { fromEnv: "SOURCE_VAR" },
          },
        },
      },
    });
    const config = evalModuleConfig(file, "hostile", { store }) as unknown as Config;
    const svc = config.systemd.services["hostile-app"] as Unit;
    expect(svc.serviceConfig.LoadCredential).toBe("TOKEN:/run/keys/token");
    const argv = parseExecLine(
      materializeScripts(svc.serviceConfig.ExecStart as string, tempDir("n2d-scripts-")),
    );
    expect(argv[0]).toMatch(/\/hostile-app-start$/);
    const creds = tempDir("n2d-creds-");
    writeFileSync(path.join(creds, "TOKEN"), "s3cr3t $(id) 'q'\n");
    const out = execFileSync(argv[0] as string, argv.slice(1), {
      encoding: "utf8",
      env: { PATH: process.env.PATH, CREDENTIALS_DIRECTORY: creds, SOURCE_VAR: "from env %" },
    });
    expect(out.split("\0").slice(0, -1)).toEqual([
      ...HOSTILE.map((a) => `arg:${a}`),
      "TOKEN:s3cr3t $(id) 'q'",
      "RENAMED:from env %",
    ]);
  });

  it("refuses to start when a required secret is missing, naming it", () => {
    const store = tempDir("n2d-store-");
    fakeProgram(store, "hello", "hello");
    const { file } = render({
      services: { app: { package: { nix: "pkgs.hello" }, secrets: { TOKEN: "TOKEN_SRC" } } },
    });
    const config = evalModuleConfig(file, "hostile", { store }) as unknown as Config;
    const argv = parseExecLine(
      materializeScripts(
        config.systemd.services["hostile-app"]?.serviceConfig.ExecStart as string,
        tempDir("n2d-scripts-"),
      ),
    );
    let stderr = "";
    try {
      execFileSync(argv[0] as string, argv.slice(1), { encoding: "utf8", stdio: "pipe", env: {} });
    } catch (err) {
      stderr = String((err as { stderr: string }).stderr);
    }
    expect(stderr).toContain("secret TOKEN is missing");
  });

  it("keeps secret values out of the module", () => {
    const { module } = render({
      services: { app: { command: "/bin/true", secrets: { TOKEN: { fromFile: "/run/keys/t" } } } },
    });
    expect(module.source).toContain("LoadCredential");
    expect(module.source).not.toContain("s3cr3t");
  });

  it("resolves references to this host in env, args and files", () => {
    const db = serviceRef("db");
    const { file } = render({
      services: {
        db: { command: "/bin/db", ports: { pg: 5432 }, volumes: { data: {} } },
        app: {
          command: ["/bin/app", `--db=${db.addressOf("pg")}`],
          env: { DATA: db.volume("data"), HOST: db.host, PORT: db.port("pg") },
          files: { "/etc/app.conf": `db=${db.addressOf("pg")}\n` },
        },
      },
    });
    const config = evalModuleConfig(file, "hostile") as unknown as Config;
    const app = config.systemd.services["hostile-app"] as Unit;
    expect(app.environment).toEqual({
      DATA: "/var/lib/hostile/db/data",
      HOST: "127.0.0.1",
      PORT: "5432",
    });
    expect(parseExecLine(app.serviceConfig.ExecStart as string)).toEqual([
      "/bin/app",
      "--db=127.0.0.1:5432",
    ]);
    expect(config.environment?.etc["app.conf"]?.text).toBe("db=127.0.0.1:5432\n");
    expect(config.systemd.services["hostile-db"]?.serviceConfig.StateDirectory).toBe(
      "hostile/db/data",
    );
  });
});

describe("scripts of Exec lines", () => {
  it("runs preStart as written, specifier-like text and hostile values included", () => {
    const value = `${HOSTILE.join("|")} 100%S %t %%`;
    const { file } = render({
      services: {
        app: {
          command: "/bin/true",
          preStart: `printf '%s' ${shellQuote(value)}`,
          secrets: { TOKEN: { fromFile: "/run/keys/token" } },
        },
      },
    });
    const config = evalModuleConfig(file, "hostile") as unknown as Config;
    const line = config.systemd.services["hostile-app"]?.serviceConfig.ExecStartPre as string;
    const argv = parseExecLine(materializeScripts(line, tempDir("n2d-scripts-")));
    const creds = tempDir("n2d-creds-");
    writeFileSync(path.join(creds, "TOKEN"), "t");
    const out = execFileSync(argv[0] as string, argv.slice(1), {
      encoding: "utf8",
      env: { PATH: process.env.PATH, CREDENTIALS_DIRECTORY: creds },
    });
    expect(out).toBe(value);
  });
});
