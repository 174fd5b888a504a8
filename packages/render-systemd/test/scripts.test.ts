/**
 * The shell the units run (ExecStartPre, the secrets wrapper in ExecStart, ExecStartPost probe
 * loops), run for real with /bin/sh outside systemd: each Exec line is split with core's
 * `parseExecLine` (checked against systemd's own parser in systemd-parse.test.ts), specifiers
 * `%t`/`%S` are expanded to temporary directories as systemd would, and the argv is spawned.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { join } from "node:path";
import { type DeploymentDefinition, evaluateDeployment, ref } from "@nix2dream/core";
import { environmentLine, parseExecLine } from "@nix2dream/core/systemd";
import { artifact, freePort, listen } from "@nix2dream/testkit";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import systemd from "../src/index.js";
import { expandSpecifiers, requireTool, tempDir, unitValues } from "./helpers.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function render(services: DeploymentDefinition["services"]) {
  const definition = { name: "t", use: [systemd()], services } as DeploymentDefinition;
  const d = evaluateDeployment(definition, { file: "/x/nix2dream.config.ts", root: "/x" });
  return systemd().render(d.deployment);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs one Exec line as systemd would start it: specifiers expanded, unit environment set. */
function runExecLine(
  line: string,
  opts: { dirs: { t: string; S: string }; env?: Record<string, string>; cwd: string },
): Promise<Run> {
  const argv = parseExecLine(expandSpecifiers(line, opts.dirs));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...opts.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => {
      stdout += b;
    });
    child.stderr.on("data", (b) => {
      stderr += b;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

/** The unit's Environment= assignments as a map (specifiers expanded, quotes removed). */
function unitEnv(unit: string, dirs: { t: string; S: string }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of unitValues(unit, "Service", "Environment")) {
    const [assignment] = parseExecLine(expandSpecifiers(v, dirs));
    const eq = (assignment as string).indexOf("=");
    env[(assignment as string).slice(0, eq)] = (assignment as string).slice(eq + 1);
  }
  return env;
}

function dirs() {
  const { dir, cleanup } = tempDir("run");
  cleanups.push(cleanup);
  const t = join(dir, "run");
  const S = join(dir, "state");
  mkdirSync(t);
  mkdirSync(S);
  return { dir, t, S };
}

const HOSTILE_TEXT = `{"q": "it's \\"x\\" $(id) \`id\` $HOME 100% %n\\\\"}\nline ✓\n\ttab\n`;

describe("ExecStartPre scripts", () => {
  it("writes a file with hostile content and its mode where ref.<svc>.files points", async () => {
    const svc = ref.app as NonNullable<typeof ref.app>;
    const { artifacts } = render({
      app: {
        command: ["/bin/cat", svc.file("/etc/app/config.json")],
        files: { "/etc/app/config.json": { text: HOSTILE_TEXT, mode: "0600" } },
      },
    });
    const unit = artifact(artifacts, "t-app.service");
    const d = dirs();
    for (const line of unitValues(unit, "Service", "ExecStartPre")) {
      const r = await runExecLine(line, { dirs: d, cwd: d.dir });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
    const [start] = unitValues(unit, "Service", "ExecStart");
    const cat = await runExecLine(start as string, { dirs: d, cwd: d.dir });
    expect(cat.stdout).toBe(HOSTILE_TEXT);
    expect(statSync(join(d.t, "t/app/files/etc/app/config.json")).mode & 0o777).toBe(0o600);
  });

  it("runs a volume's init once, when the volume is empty, and its check on every start", async () => {
    const { artifacts } = render({
      app: {
        command: ["/bin/true"],
        volumes: {
          data: {
            path: "/data",
            init: 'echo initialised >> marker; echo "init ran in $(pwd)" >&2',
            check: "test -f marker",
          },
        },
      },
    });
    const unit = artifact(artifacts, "t-app.service");
    expect(unitValues(unit, "Service", "StateDirectory")).toEqual(["t/app/data"]);
    const d = dirs();
    const [pre] = unitValues(unit, "Service", "ExecStartPre");
    const first = await runExecLine(pre as string, { dirs: d, cwd: d.dir });
    const second = await runExecLine(pre as string, { dirs: d, cwd: d.dir });
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(first.stderr).toContain(`init ran in ${join(d.S, "t/app/data")}`);
    expect(readFileSync(join(d.S, "t/app/data/marker"), "utf8")).toBe("initialised\n");
  });

  it("fails the start with a clear message when a volume check fails", async () => {
    const { artifacts } = render({
      app: {
        command: ["/bin/true"],
        volumes: { data: { path: "/data", check: "test -f missing" } },
      },
    });
    const d = dirs();
    const [pre] = unitValues(artifact(artifacts, "t-app.service"), "Service", "ExecStartPre");
    const r = await runExecLine(pre as string, { dirs: d, cwd: d.dir });
    expect(r.code).not.toBe(0);
  });

  it("runs preStart with the unit's environment, hostile values intact", async () => {
    const value = 'it\'s $(id) `id` 100% "q" \\ ✓';
    const { artifacts } = render({
      app: { command: ["/bin/true"], env: { MSG: value }, preStart: 'printf "%s" "$MSG" > out' },
    });
    const unit = artifact(artifacts, "t-app.service");
    const d = dirs();
    const [pre] = unitValues(unit, "Service", "ExecStartPre");
    const r = await runExecLine(pre as string, { dirs: d, cwd: d.dir, env: unitEnv(unit, d) });
    expect(r.code).toBe(0);
    expect(readFileSync(join(d.dir, "out"), "utf8")).toBe(value);
  });
});

describe("secrets", () => {
  const SECRET = "s3cr3t 'value' $(id) ✓";

  it("loads a required file secret as a credential and never writes its value", async () => {
    const { artifacts } = render({
      app: {
        command: ["/bin/sh", "-c", 'printf "%s" "$DB_PASSWORD"'],
        secrets: { DB_PASSWORD: { fromFile: "/run/keys/db-password" } },
      },
    });
    const unit = artifact(artifacts, "t-app.service");
    expect(unitValues(unit, "Service", "LoadCredential")).toEqual([
      "DB_PASSWORD:/run/keys/db-password",
    ]);
    const d = dirs();
    const creds = join(d.dir, "creds");
    mkdirSync(creds);
    writeFileSync(join(creds, "DB_PASSWORD"), SECRET);
    const [start] = unitValues(unit, "Service", "ExecStart");
    const r = await runExecLine(start as string, {
      dirs: d,
      cwd: d.dir,
      env: { CREDENTIALS_DIRECTORY: creds },
    });
    expect(r.stdout).toBe(SECRET);
    for (const a of artifacts) expect(String(a.content)).not.toContain("s3cr3t");
  });

  it("stops the start with a message naming the secret when it is missing", async () => {
    const { artifacts } = render({
      app: { command: ["/bin/true"], secrets: { TOKEN: { fromEnv: "APP_TOKEN" } } },
    });
    const unit = artifact(artifacts, "t-app.service");
    expect(unitValues(unit, "Service", "PassEnvironment")).toEqual(["APP_TOKEN"]);
    const d = dirs();
    const [start] = unitValues(unit, "Service", "ExecStart");
    const missing = await runExecLine(start as string, { dirs: d, cwd: d.dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("secret TOKEN is missing");
  });

  it("passes an environment secret under its own name", async () => {
    const { artifacts } = render({
      app: {
        command: ["/bin/sh", "-c", 'printf "%s" "$TOKEN"'],
        secrets: { TOKEN: { fromEnv: "APP_TOKEN" } },
      },
    });
    const d = dirs();
    const [start] = unitValues(artifact(artifacts, "t-app.service"), "Service", "ExecStart");
    const r = await runExecLine(start as string, {
      dirs: d,
      cwd: d.dir,
      env: { APP_TOKEN: SECRET },
    });
    expect(r.stdout).toBe(SECRET);
  });
});

describe("ExecStartPost health gate", () => {
  const timing = { interval: 0.2, timeout: 2, retries: 3, startPeriod: 0 };
  // The http and tcp probes use curl (wget / nc -z only where curl is missing).
  beforeAll(() => {
    requireTool("curl", "curl");
    requireTool("timeout", "coreutils");
  });

  it("waits until the HTTP endpoint answers 2xx, then succeeds", async () => {
    const port = await freePort();
    const { artifacts } = render({
      web: {
        command: ["/bin/true"],
        ports: { http: port },
        healthcheck: { port: "http", path: "/healthz", ...timing, retries: 100 },
      },
    });
    const [post] = unitValues(artifact(artifacts, "t-web.service"), "Service", "ExecStartPost");
    const d = dirs();
    let hits = 0;
    const server = createServer((req, res) => {
      hits++;
      res.statusCode = req.url === "/healthz" ? 200 : 404;
      res.end();
    });
    cleanups.push(() => server.close());
    const probe = runExecLine(post as string, { dirs: d, cwd: d.dir });
    // The loop is already probing a closed port; the server comes up later.
    setTimeout(() => void listen(server, port), 600);
    const r = await probe;
    expect(r.code).toBe(0);
    expect(hits).toBeGreaterThanOrEqual(1);
    expect(r.ms).toBeGreaterThanOrEqual(500);
  });

  it("gives up after `retries` failed probes with a message", async () => {
    const port = await freePort();
    const { artifacts } = render({
      web: {
        command: ["/bin/true"],
        ports: { http: port },
        healthcheck: { port: "http", ...timing },
      },
    });
    const [post] = unitValues(artifact(artifacts, "t-web.service"), "Service", "ExecStartPost");
    const d = dirs();
    const r = await runExecLine(post as string, { dirs: d, cwd: d.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("service web: unhealthy after 3 failed probes");
  });

  it("does not count failures during the start period", async () => {
    const { artifacts } = render({
      job: {
        command: ["/bin/true"],
        healthcheck: { command: ["/bin/false"], ...timing, retries: 1, startPeriod: 2 },
      },
    });
    const [post] = unitValues(artifact(artifacts, "t-job.service"), "Service", "ExecStartPost");
    const d = dirs();
    const r = await runExecLine(post as string, { dirs: d, cwd: d.dir });
    expect(r.code).toBe(1);
    expect(r.ms).toBeGreaterThanOrEqual(1000);
  });

  it("passes a TCP check once the port accepts connections", async () => {
    const port = await freePort();
    const { artifacts } = render({
      db: {
        command: ["/bin/true"],
        ports: { pg: port },
        healthcheck: { port: "pg", ...timing, timeout: 1, retries: 100 },
      },
    });
    const [post] = unitValues(artifact(artifacts, "t-db.service"), "Service", "ExecStartPost");
    const d = dirs();
    const server = createTcpServer((s) => s.destroy());
    cleanups.push(() => server.close());
    const probe = runExecLine(post as string, { dirs: d, cwd: d.dir });
    setTimeout(() => void listen(server, port), 400);
    const r = await probe;
    expect(r.code).toBe(0);
  });

  it("runs an exec check with the unit's environment", async () => {
    const { artifacts } = render({
      job: {
        command: ["/bin/true"],
        env: { READY_FILE: "/nonexistent/ready ✓" },
        healthcheck: {
          command: ["/bin/sh", "-c", 'test "$READY_FILE" = "/nonexistent/ready ✓"'],
          ...timing,
        },
      },
    });
    const unit = artifact(artifacts, "t-job.service");
    const [post] = unitValues(unit, "Service", "ExecStartPost");
    const d = dirs();
    const r = await runExecLine(post as string, { dirs: d, cwd: d.dir, env: unitEnv(unit, d) });
    expect(r.code).toBe(0);
  });
});

it("quotes environment assignments the way the unit file holds them", () => {
  const { artifacts } = render({ app: { command: ["/bin/true"], env: { A: 'x "y" \\ 100%' } } });
  expect(unitValues(artifact(artifacts, "t-app.service"), "Service", "Environment")).toEqual([
    environmentLine("A", 'x "y" \\ 100%%'),
  ]);
});
