/**
 * The README's main job, end to end: `nix2dream up` on the quickstart renders the Procfile and
 * runs it under the built-in supervisor; the API answers on 127.0.0.1, the worker reaches it
 * through its reference, data survives a restart, and Ctrl-C (SIGINT) leaves no process behind.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI, expectLinesInOrder, freePort } from "@nix2dream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const example = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = CLI;

let work = "";
let port = 0;
let API = "";
beforeAll(async () => {
  // A copy inside the example, so `nix2dream`, the plugins and the `npx nix2dream` bin resolve
  // from the example's node_modules as they do for a user; on a free port instead of 8787, so
  // that two runs (or a running `npm start`) never collide.
  port = await freePort();
  API = `http://127.0.0.1:${port}`;
  work = mkdtempSync(join(example, ".test-run-"));
  cpSync(join(example, "app"), join(work, "app"), { recursive: true });
  const config = readFileSync(join(example, "nix2dream.config.ts"), "utf8");
  expect(config).toContain("ports: { http: 8787 }");
  writeFileSync(
    join(work, "nix2dream.config.ts"),
    config.replace("ports: { http: 8787 }", `ports: { http: ${port} }`),
  );
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function up(): Run {
  let out = "";
  const child = spawn(process.execPath, [cli, "up"], {
    cwd: work,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, output: () => out, exited };
}

async function until(
  what: string,
  output: () => string,
  test: () => boolean | Promise<boolean>,
  ms = 30_000,
) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; output so far:\n${output()}`);
}

const pidsIn = (text: string) =>
  [...text.matchAll(/started \(pid (\d+)\)/g)].map((m) => Number(m[1]));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("examples/quickstart under nix2dream up", () => {
  it("serves the API, gates the worker on its health, keeps notes across runs and stops cleanly on Ctrl-C", async () => {
    const first = up();
    await until("the worker to reach the API", first.output, () =>
      /worker\s+\| worker: .* says "hello from nix2dream"/.test(first.output()),
    );
    const log = first.output();
    // Order: the migration completed before the API started; the API was healthy before the worker.
    expectLinesInOrder(log, [
      /migrate exited with code 0/,
      /api started/,
      /api is healthy/,
      /worker started/,
    ]);

    const posted = await fetch(`${API}/notes`, { method: "POST", body: "remember me" });
    expect(posted.status).toBe(201);
    const pids = pidsIn(first.output());
    expect(pids.length).toBe(3);

    first.child.kill("SIGINT");
    expect(await first.exited).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(await portFree(port)).toBe(true);

    // The data volume is persistent: the note is still there after a new `up`.
    const second = up();
    await until("the API to be healthy again", second.output, () =>
      second.output().includes("api is healthy"),
    );
    const body = (await (await fetch(`${API}/notes`)).json()) as { notes: { text: string }[] };
    expect(body.notes.map((n) => n.text)).toEqual(["remember me"]);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(pidsIn(second.output()).filter(alive)).toEqual([]);
  }, 90_000);

  it("runs in the background with `npx nix2dream up -d`; ps --json and logs from other invocations; down stops it all", async () => {
    // Exactly the README's `npx nix2dream …`: the bin linked into the example's node_modules.
    const cliRun = (...args: string[]) =>
      spawnSync("npx", ["--no", "nix2dream", ...args], {
        cwd: work,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1" },
        timeout: 60_000,
      });
    const started = cliRun("up", "-d");
    expect(started.status, started.stderr).toBe(0);
    const daemon = Number(/Started in the background \(pid (\d+)\)/.exec(started.stdout)?.[1]);
    expect(daemon).toBeGreaterThan(0);
    type Row = { name: string; state: string; health: string; pid: number | null };
    let rows: Row[] = [];
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      const ps = cliRun("ps", "--json");
      rows = ps.status === 0 ? (JSON.parse(ps.stdout) as Row[]) : [];
      if (rows.find((r) => r.name === "worker")?.state === "running") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(rows.find((r) => r.name === "api")).toMatchObject({
      state: "running",
      health: "healthy",
    });
    expect(rows.find((r) => r.name === "migrate")).toMatchObject({ state: "exited" });
    expect((await fetch(`${API}/healthz`)).status).toBe(200);
    expect(cliRun("logs", "migrate").stdout).toMatch(/migrate: /);
    const pids = rows.map((r) => r.pid).filter((p): p is number => p !== null);

    const down = cliRun("down");
    expect(down.status, down.stderr).toBe(0);
    await until(
      "the background supervisor to exit",
      () => down.stdout,
      () => !alive(daemon),
    );
    expect([...pids, daemon].filter(alive)).toEqual([]);
    expect(await portFree(port)).toBe(true);
    const after = cliRun("ps");
    expect(after.status).toBe(1);
    expect(after.stderr).toContain("No `up` is running for deployment `quickstart`");
  }, 90_000);

  it("stops every service when `npm start` is stopped by a SIGTERM to npm alone, which passes no signal on", async () => {
    let out = "";
    // Its own process group, as a process manager runs it: the signal reaches npm and nothing else.
    const npm = spawn("npm", ["start"], {
      cwd: join(example, "..", ".."),
      env: { ...process.env, NO_COLOR: "1", NIX2DREAM_START_DIR: work },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    npm.stdout?.on("data", (d) => (out += d));
    npm.stderr?.on("data", (d) => (out += d));
    let closed = false;
    npm.stdout?.on("close", () => (closed = true));
    let pids: number[] = [];
    try {
      await until(
        "the worker to reach the API",
        () => out,
        () => /worker\s+\| worker: /.test(out),
      );
      pids = pidsIn(out);
      expect(pids.length).toBe(3);
      npm.kill("SIGTERM");
      await until(
        "every service to stop",
        () => out,
        () => !pids.some(alive),
        20_000,
      );
      // Every writer of npm's output (the script, the CLI) has exited once it closes.
      await until(
        "the script and the CLI to exit",
        () => out,
        () => closed,
      );
      expect(out).toMatch(/stopping all processes[\s\S]*worker stopped \(exited with code 0\)/);
      expect(await portFree(port)).toBe(true);
    } finally {
      for (const pid of pids.filter(alive)) process.kill(-pid, "SIGKILL");
    }
  }, 90_000);
});
