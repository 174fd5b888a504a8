import { spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fileTempDir, HOSTILE, serviceFixture, volumeFixture } from "../../testkit/src/index.js";
import type { EvaluatedService } from "../src/deployment.js";
import { type EntrypointOptions, entrypointScript } from "../src/entrypoint.js";
import { serviceRef } from "../src/refs.js";
import { shellQuote } from "../src/shell.js";

const PRINTER = fileURLToPath(new URL("./fixtures/entrypoint/print-process.mjs", import.meta.url));
const NODE = process.execPath;
const root = fileTempDir("n2d-entrypoint-");
let n = 0;

const literalRefs: EntrypointOptions["resolve"] = (r) =>
  r.kind === "volume"
    ? { shell: `"\${NIX2DREAM_STATE_DIR}"/${r.service}/${r.volume}` }
    : "127.0.0.1";

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  script: string;
  dir: string;
  json: () => { argv: string[]; env: Record<string, string>; cwd: string; dir?: string[] };
}

/** Writes the launcher of `svc` to a fresh directory and runs it with real `sh`. */
function run(
  svc: EvaluatedService,
  opts: Partial<EntrypointOptions> = {},
  args: string[] = [],
  env: Record<string, string> = {},
  dir = mkdtempSync(join(root, `${n++}-`)),
): Run {
  const { script, diagnostics } = entrypointScript(svc, { resolve: literalRefs, ...opts });
  expect(diagnostics).toEqual([]);
  const path = join(dir, "launcher.sh");
  writeFileSync(path, script, { mode: 0o755 });
  const r = spawnSync("sh", [path, ...args], {
    encoding: "utf8",
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
  });
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    script,
    dir,
    json: () => JSON.parse(r.stdout),
  };
}

const printer = (over: Partial<EvaluatedService> = {}) =>
  serviceFixture("pr", { command: [NODE, PRINTER], ...over });

describe("entrypointScript run mode", () => {
  it("passes every hostile argument to the program byte for byte", () => {
    const r = run(printer({ args: HOSTILE }));
    expect(r.stderr).toBe("");
    expect(r.json().argv).toEqual(HOSTILE);
  });

  it("exports every hostile env value exactly", () => {
    const env = Object.fromEntries(HOSTILE.map((v, i) => [`V${i}`, v]));
    const r = run(printer({ env: { ...env, PRINT_ENV: Object.keys(env).join(",") } }));
    expect(r.json().env).toEqual(env);
  });

  it("executes nothing hidden in values (no $(), backticks or globbing)", () => {
    const marker = join(root, "pwned");
    const r = run(printer({ args: [`$(touch ${marker})`, `\`touch ${marker}\``, "*"] }));
    expect(r.json().argv).toEqual([`$(touch ${marker})`, `\`touch ${marker}\``, "*"]);
    expect(() => statSync(marker)).toThrow();
  });

  it("resolves references to shell expansions inside env values", () => {
    const db = serviceRef("db");
    const r = run(
      printer({
        env: { DATA: `${db.volumes.data}/x y`, HOST: `${db.host}:1`, PRINT_ENV: "DATA,HOST" },
      }),
      { stateDir: shellQuote("/tmp/it's state") },
    );
    expect(r.json().env).toEqual({ DATA: "/tmp/it's state/db/data/x y", HOST: "127.0.0.1:1" });
  });

  it("uses NIX2DREAM_STATE_DIR from the environment over the default", () => {
    const r = run(
      printer({ env: { PRINT_ENV: "NIX2DREAM_STATE_DIR" } }),
      { stateDir: "/default" },
      [],
      {
        NIX2DREAM_STATE_DIR: "/given $x",
      },
    );
    expect(r.json().env).toEqual({ NIX2DREAM_STATE_DIR: "/given $x" });
  });

  it("starts the program in the working directory", () => {
    const dir = mkdtempSync(join(root, "wd '$x' "));
    const r = run(printer({ workingDir: dir }));
    expect(r.json().cwd).toBe(dir);
  });

  it("fails with a clear message when the working directory is missing", () => {
    const r = run(printer({ workingDir: "/nonexistent dir" }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "nix2dream: service pr: cannot enter the working directory /nonexistent dir",
    );
  });

  it("runs preStart in the working directory, and its exports reach the program", () => {
    const dir = mkdtempSync(join(root, "pre-"));
    const r = run(
      printer({
        workingDir: dir,
        preStart: "echo \"it's $UNSET_OK\" > pre.txt\nexport FROM_PRE='a b'",
        env: { PRINT_ENV: "FROM_PRE" },
      }),
    );
    expect(r.json().env).toEqual({ FROM_PRE: "a b" });
    expect(readFileSync(join(dir, "pre.txt"), "utf8")).toBe("it's \n");
  });

  it("stops before the program when preStart fails", () => {
    const r = run(printer({ preStart: "false\necho should-not-run" }));
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe("");
  });

  it("is deterministic", () => {
    const s = printer({ args: HOSTILE, env: { A: "1", B: "2" } });
    expect(entrypointScript(s, { resolve: literalRefs }).script).toBe(
      entrypointScript(s, { resolve: literalRefs }).script,
    );
  });
});

describe("entrypointScript secrets", () => {
  const secretValue = "s3cr3t 'quoted' $(x) `y`\nline2 ✓";

  it("reads a secret from the environment, and its value is nowhere in the script", () => {
    const svc = printer({
      secrets: { DB_PASSWORD: { fromEnv: "VAULT_DB", fromFile: null, required: true } },
      env: { PRINT_ENV: "DB_PASSWORD" },
    });
    const r = run(svc, {}, [], { VAULT_DB: secretValue });
    expect(r.json().env).toEqual({ DB_PASSWORD: secretValue });
    expect(r.script).not.toContain("s3cr3t");
  });

  it("reads a secret from a file, dropping trailing newlines", () => {
    const file = join(mkdtempSync(join(root, "sec-")), "pw file");
    writeFileSync(file, `${secretValue}\n\n`);
    const svc = printer({
      secrets: { PW: { fromEnv: null, fromFile: file, required: true } },
      env: { PRINT_ENV: "PW" },
    });
    const r = run(svc);
    expect(r.json().env).toEqual({ PW: secretValue });
    expect(r.script).not.toContain("s3cr3t");
  });

  it("prefers the environment over the file when both are given", () => {
    const svc = printer({
      secrets: { PW: { fromEnv: "PW_ENV", fromFile: "/nonexistent", required: true } },
      env: { PRINT_ENV: "PW" },
    });
    expect(run(svc, {}, [], { PW_ENV: "" }).json().env).toEqual({ PW: "" });
  });

  it("reads a secret from the variable of its own name when no source is given", () => {
    const svc = printer({
      secrets: { TOKEN: { fromEnv: null, fromFile: null, required: true } },
      env: { PRINT_ENV: "TOKEN" },
    });
    expect(run(svc, {}, [], { TOKEN: "t" }).json().env).toEqual({ TOKEN: "t" });
  });

  it("fails with a clear message when a required secret is missing", () => {
    const svc = printer({
      secrets: { PW: { fromEnv: "PW_ENV", fromFile: "/run/secrets/pw", required: true } },
    });
    const r = run(svc);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "nix2dream: service pr: secret PW is missing: set the variable PW_ENV or create the readable file /run/secrets/pw\n",
    );
  });

  it("leaves an optional missing secret unset, even when inherited", () => {
    const svc = printer({
      secrets: { PW: { fromEnv: null, fromFile: "/nonexistent", required: false } },
      env: { PRINT_ENV: "PW" },
    });
    expect(run(svc, {}, [], { PW: "inherited" }).json().env).toEqual({});
  });
});

describe("entrypointScript files", () => {
  it("writes text files exactly, with their mode, where the target puts them", () => {
    const text = HOSTILE.join("\n");
    const dir = mkdtempSync(join(root, "files-"));
    const svc = printer({
      files: {
        "/etc/app/config.json": { text, source: null, mode: "0600" },
        "empty.txt": { text: "", source: null, mode: "0644" },
      },
    });
    const r = run(svc, {
      filePath: (t) => ({
        shell: `${JSON.stringify(dir)}/${t.replace(/^\//, "").replaceAll("/", "_")}`,
      }),
    });
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, "etc_app_config.json"), "utf8")).toBe(text);
    expect(statSync(join(dir, "etc_app_config.json")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "empty.txt"), "utf8")).toBe("");
  });

  it("copies source files at start", () => {
    const dir = mkdtempSync(join(root, "src-"));
    writeFileSync(join(dir, "in put"), "copied\n");
    const svc = printer({
      files: {
        [join(dir, "out dir", "out")]: { text: null, source: join(dir, "in put"), mode: "0755" },
      },
    });
    run(svc);
    expect(readFileSync(join(dir, "out dir", "out"), "utf8")).toBe("copied\n");
    expect(statSync(join(dir, "out dir", "out")).mode & 0o777).toBe(0o755);
  });
});

describe("entrypointScript volumes", () => {
  const vol = (over = {}) => volumeFixture("/data", over);

  it("runs init only while the volume is empty, inside the volume", () => {
    const dir = join(mkdtempSync(join(root, "vol-")), "it's data");
    const svc = printer({
      volumes: { data: vol({ path: dir, init: 'echo init >> log; echo "$PWD" > where' }) },
    });
    run(svc);
    run(svc);
    expect(readFileSync(join(dir, "log"), "utf8")).toBe("init\n");
    expect(readFileSync(join(dir, "where"), "utf8")).toBe(`${dir}\n`);
  });

  it("empties the volume and fails when init fails, so the next start retries", () => {
    const dir = join(mkdtempSync(join(root, "vol-")), "data");
    const svc = printer({
      volumes: { data: vol({ path: dir, init: "touch half\nfalse\ntouch never" }) },
    });
    const r = run(svc);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("volume data: init failed");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("runs init again when an earlier init was interrupted (a half-made volume is not ready)", () => {
    const base = mkdtempSync(join(root, "vol-"));
    const dir = join(base, "data");
    const [flag, log] = [join(base, "interrupted-once"), join(base, "runs")];
    // The first init is killed half way, launcher included, as Ctrl-C or a crash would.
    const init = `echo run >> '${log}'; touch half; if [ ! -e '${flag}' ]; then : > '${flag}'; kill -KILL $PPID $$; fi; touch done`;
    const svc = printer({ volumes: { data: vol({ path: dir, init }) } });
    expect(run(svc).signal).toBe("SIGKILL");
    expect(readdirSync(dir)).toEqual(["half"]);
    expect(run(svc).status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["done", "half"]);
    expect(readFileSync(log, "utf8")).toBe("run\nrun\n");
    expect(readdirSync(base).sort()).toEqual(["data", "interrupted-once", "runs"]);
  });

  it("stops the start when check fails", () => {
    const dir = join(mkdtempSync(join(root, "vol-")), "data");
    const r = run(printer({ volumes: { data: vol({ path: dir, check: "test -f ready" }) } }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("volume data: check failed");
    expect(r.stdout).toBe("");
  });

  it("empties non-persistent volumes on start when asked to", () => {
    const dir = join(mkdtempSync(join(root, "vol-")), "tmp");
    mkdirSync(dir);
    writeFileSync(join(dir, ".old"), "");
    writeFileSync(join(dir, "old"), "");
    const r = run(
      printer({ volumes: { tmp: vol({ path: dir, persistent: false }) }, env: { PRINT_DIR: dir } }),
      { emptyEphemeralVolumes: true },
    );
    expect(r.json().dir).toEqual([]);
  });

  it("runs clear only in --clear mode, then empties the volume without starting the program", () => {
    const dir = join(mkdtempSync(join(root, "vol-")), "data");
    const log = join(root, `clear-${n}.log`);
    const svc = printer({
      volumes: { data: vol({ path: dir, init: "touch a", clear: `echo cleared >> '${log}'` }) },
    });
    run(svc);
    expect(() => statSync(log)).toThrow();
    const r = run(svc, {}, ["--clear"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(readFileSync(log, "utf8")).toBe("cleared\n");
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("entrypointScript --exec mode", () => {
  it("runs a command with the service's env, secrets and working directory, skipping the program", () => {
    const wd = mkdtempSync(join(root, "exec-"));
    const svc = serviceFixture("pr", {
      command: ["false"],
      workingDir: wd,
      env: { A: "a'b", PRINT_ENV: "A,S" },
      secrets: { S: { fromEnv: "S_SRC", fromFile: null, required: true } },
      preStart: "exit 3",
    });
    const r = run(svc, {}, ["--exec", NODE, PRINTER, ...HOSTILE], { S_SRC: "sec" });
    expect(r.status).toBe(0);
    expect(r.json()).toEqual({ argv: HOSTILE, env: { A: "a'b", S: "sec" }, cwd: wd });
  });

  it("rejects unknown arguments", () => {
    const r = run(printer(), {}, ["--bogus"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("unknown argument: --bogus");
  });
});

describe("entrypointScript under bash", () => {
  it("behaves the same when /bin/sh is bash (macOS, Fedora)", () => {
    const dir = mkdtempSync(join(root, "bash-"));
    const env = Object.fromEntries(HOSTILE.map((v, i) => [`V${i}`, v]));
    const { script } = entrypointScript(
      printer({ args: HOSTILE, env: { ...env, PRINT_ENV: Object.keys(env).join(",") } }),
      { resolve: literalRefs },
    );
    writeFileSync(join(dir, "launcher.sh"), script);
    const r = spawnSync("bash", ["--posix", join(dir, "launcher.sh")], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toMatchObject({ argv: HOSTILE, env });
  });
});

describe("entrypointScript diagnostics", () => {
  it("reports what sh cannot express instead of dropping it silently", () => {
    const { diagnostics } = entrypointScript(
      serviceFixture("x", {
        env: { "NOT-A-NAME": "1", NUL: "a\0b" },
        files: { f: { text: "t", source: null, mode: "rw-r--r--" } },
      }),
      { resolve: literalRefs },
    );
    expect(diagnostics.map((d) => d.option)).toEqual([
      "services.x.env.NOT-A-NAME",
      "services.x.env.NUL",
      'services.x.files."f".mode',
      "services.x.command",
    ]);
    expect(diagnostics.every((d) => d.severity === "error" && d.service === "x")).toBe(true);
  });

  it("produces a script that dash parses", () => {
    const { script } = entrypointScript(
      printer({
        args: HOSTILE,
        env: { A: HOSTILE.join("") },
        preStart: "echo hi",
        files: { "/a": { text: HOSTILE.join(""), source: null, mode: "0644" } },
      }),
      { resolve: literalRefs, stateDir: '"$HOME"/state' },
    );
    const r = spawnSync("sh", ["-n"], { input: script, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("entrypoint diagnostics", () => {
  it("name the files that defined the option, when given the deployment's definitionFiles", () => {
    const service = serviceFixture("api", {
      command: ["api"],
      env: { TOKEN: "plain" },
      secrets: { TOKEN: { fromEnv: "TOKEN", fromFile: null, required: true } },
    });
    const definitionFiles = { "services.api.secrets": ["/project/nix2dream.config.ts"] };
    const { diagnostics } = entrypointScript(service, { resolve: literalRefs, definitionFiles });
    expect(diagnostics).toEqual([
      {
        severity: "warning",
        option: "services.api.secrets.TOKEN",
        service: "api",
        message: "`TOKEN` is both in `env` and in `secrets`; the secret wins.",
        files: ["/project/nix2dream.config.ts"],
      },
    ]);
  });
});
