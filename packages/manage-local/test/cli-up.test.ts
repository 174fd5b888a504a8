/**
 * `nix2dream up` through the real CLI (the built `nix2dream`, with a real config file): the
 * config is loaded in a short-lived child and the process the user started supervises (the
 * hand-off), under Ctrl-C, SIGHUP, a closed stdout, a failing service, a second `up`; and
 * `up --watch` following real edits of the config and of a module it imports.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { requireCli } from "@nix2dream/testkit";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { groupHasLiveMembers, killGroup } from "../src/probe.js";
import { readRecord } from "../src/record.js";
import { tempDir } from "./helpers.js";
import { childrenOf, started, until } from "./real.js";

const packages = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dist = (name: string) => JSON.stringify(path.join(packages, name, "dist/index.js"));

let cli = "";
beforeAll(() => {
  cli = requireCli();
});

const groupsOfTest = new Set<number>();
afterEach(() => {
  for (const pgid of groupsOfTest) killGroup(pgid, "SIGKILL");
  groupsOfTest.clear();
});

/** A project whose config runs `services` (TypeScript source of the `services` object). */
function project(services: string, extra: Record<string, string> = {}): string {
  const dir = tempDir();
  writeFileSync(path.join(dir, "nix2dream.config.ts"), configText(services));
  for (const [file, text] of Object.entries(extra)) writeFileSync(path.join(dir, file), text);
  return dir;
}

function configText(services: string, imports = ""): string {
  return `import local from ${dist("manage-local")};
import procfile from ${dist("render-procfile")};
import { defineDeployment } from ${dist("nix2dream")};
${imports}
export default defineDeployment({ name: "shop", use: [procfile(), local()], services: ${services} });
`;
}

const stateOf = (dir: string) => path.join(dir, ".nix2dream", "shop", "state", "local");

/** Process name → pid, from the supervisor's record. */
function pids(dir: string): Record<string, number> {
  const record = readRecord(stateOf(dir));
  const out: Record<string, number> = {};
  for (const p of record?.processes ?? []) {
    out[p.name] = p.pid;
    groupsOfTest.add(p.pid);
  }
  return out;
}

function up(dir: string, ...flags: string[]) {
  return started([process.execPath, cli, "up", ...flags], { cwd: dir });
}

const TWO = `{
  web: { command: ["sh", "-c", "echo web up; sleep 120 & wait"] },
  slow: { command: ["node", "-e", "process.on('SIGTERM', () => { require('fs').appendFileSync('stops', 'slow\\\\n'); process.exit(0) }); console.log('slow up'); setInterval(() => {}, 1000)"] },
}`;

async function bothUp(dir: string) {
  const run = up(dir);
  await until(
    "both services to be up",
    () => /web +\| web up/.test(run.stdout()) && /slow +\| slow up/.test(run.stdout()),
  );
  return run;
}

describe("`nix2dream up` in the foreground", () => {
  it("supervises in the process the user started; the process that loaded the config is gone", async () => {
    const dir = project(TWO);
    const run = await bothUp(dir);
    const pid = run.child.pid as number;
    const lock = readFileSync(path.join(stateOf(dir), "supervisor.lock"), "utf8");
    expect(lock.split(" ")[0]).toBe(String(pid));
    expect(readRecord(stateOf(dir))?.pid).toBe(pid);
    const services = Object.values(pids(dir));
    // The child that loaded the config exits on its own once it has handed over.
    await until("the CLI child to be gone", () =>
      childrenOf(pid, "node").every((p) => services.includes(p)),
    );
    expect(run.stdout()).toMatch(/^Running 2 process\(es\) of `shop`/);
    expect(run.stderr()).toMatch(/rendered procfile/);
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
  });

  it.each([
    ["SIGINT", "Ctrl-C"],
    ["SIGHUP", "the terminal closed"],
    ["SIGTERM", "kill"],
  ] as const)("stops everything gracefully on %s (%s) and exits 0", async (signal, _why) => {
    const dir = project(TWO);
    const run = await bothUp(dir);
    const groups = Object.values(pids(dir));
    run.child.kill(signal);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toMatch(/stopping all processes/);
    expect(readFileSync(path.join(dir, "stops"), "utf8")).toBe("slow\n");
    expect(groups.filter((g) => groupHasLiveMembers(g))).toEqual([]);
  });

  it("stops everything gracefully, without a stack trace, when its stdout's reader goes away", async () => {
    const chatty = `chatty: { command: ["sh", "-c", "while :; do echo tick; sleep 0.02; done"] },`;
    const dir = project(TWO.replace("{", `{ ${chatty}`));
    const run = await bothUp(dir);
    const groups = Object.values(pids(dir));
    run.child.stdout?.destroy();
    expect(await run.exited).toBe(0);
    expect(run.stderr()).not.toMatch(/EPIPE|Error|at /);
    expect(groups.filter((g) => groupHasLiveMembers(g))).toEqual([]);
  });

  it("exits 1 and names the failed service when one fails", async () => {
    const dir = project(`{ bad: { command: ["sh", "-c", "echo oops; exit 3"], restart: "no" } }`);
    const run = up(dir);
    expect(await run.exited).toBe(1);
    expect(run.stdout()).toMatch(/bad failed: exited with code 3/);
    expect(run.stderr()).toMatch(/Failed: bad \(see `nix2dream logs`\)\./);
  });

  it("exits 1 with one error paragraph, and runs nothing, when the config does not load", async () => {
    const dir = project(`{ web: { command: ["true"], replicas: "two" } }`);
    const run = up(dir);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/^error: .*replicas/);
    expect(run.stderr()).not.toMatch(/\n\s+at /);
    expect(run.stdout()).toBe("");
  });

  it("a second `up` of the same deployment exits 1 with one line", async () => {
    const dir = project(TWO);
    const first = await bothUp(dir);
    pids(dir);
    const second = up(dir);
    expect(await second.exited).toBe(1);
    expect(second.stdout()).toBe("");
    expect(second.stderr()).toMatch(
      /\nerror: manager local: Another `up` \(pid \d+\) is already running for this deployment; stop it with `nix2dream down` first\.\n$/,
    );
    first.child.kill("SIGINT");
    expect(await first.exited).toBe(0);
  });
});

describe("`nix2dream up --watch`", () => {
  it("restarts only what a config edit changed, keeps everything on a broken edit, adds and removes services", async () => {
    const services = (greeting: string, extra = "") => `{
      db: { command: ["sh", "-c", "echo db up; exec sleep 120"] },
      api: { command: ["sh", "-c", "echo api says $GREETING; exec sleep 120"], env: { GREETING: ${JSON.stringify(greeting)} }, dependsOn: { db: "started" } },
      ${extra}
    }`;
    const dir = project(services("hello"));
    const config = path.join(dir, "nix2dream.config.ts");
    const run = up(dir, "--watch");
    await until("api", () => /api +\| api says hello/.test(run.stdout()));
    const before = pids(dir);

    writeFileSync(config, configText(services("howdy")));
    await until("api again", () => /api +\| api says howdy/.test(run.stdout()));
    const after = pids(dir);
    expect(after.db).toBe(before.db);
    expect(after.api).not.toBe(before.api);
    expect(run.stdout()).toMatch(/new plan: restarted api\n/);

    writeFileSync(config, configText(services("howdy")).replace("services:", "services: {"));
    await until("the error", () => /the new config was not applied/.test(run.stderr()));
    expect(run.stderr()).toMatch(/error: Could not load the config file/);
    expect(pids(dir)).toEqual(after);

    writeFileSync(
      config,
      configText(`{ db: { command: ["sh", "-c", "echo db up; exec sleep 120"] },
        cache: { command: ["sh", "-c", "echo cache up; exec sleep 120"] } }`),
    );
    await until("cache", () => /cache +\| cache up/.test(run.stdout()));
    expect(run.stdout()).toMatch(/new plan: added cache; removed api\n/);
    expect(run.stdout()).toMatch(/api stopped/);
    const last = pids(dir);
    expect(last.db).toBe(before.db);
    expect(last.api).toBeUndefined();
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
  });

  it("follows a local module the config imports, and a service's own `watch` paths", async () => {
    const dir = project("{}", {
      "greeting.ts": `export const greeting = "hello";\n`,
      "app.sh": "echo app v1; exec sleep 120\n",
    });
    writeFileSync(
      path.join(dir, "nix2dream.config.ts"),
      configText(
        `{
          api: { command: ["sh", "-c", "echo api says $GREETING; exec sleep 120"], env: { GREETING: greeting } },
          app: { command: ["sh", ${JSON.stringify(path.join(dir, "app.sh"))}], watch: { paths: ["app.sh"] } },
        }`,
        `import { greeting } from "./greeting.js";`,
      ),
    );
    const run = up(dir, "--watch");
    await until("both", () => /api says hello/.test(run.stdout()) && /app v1/.test(run.stdout()));
    const before = pids(dir);
    writeFileSync(path.join(dir, "greeting.ts"), `export const greeting = "bonjour";\n`);
    await until("api again", () => /api +\| api says bonjour/.test(run.stdout()));
    expect(pids(dir).app).toBe(before.app);
    writeFileSync(path.join(dir, "app.sh"), "echo app v2; exec sleep 120\n");
    await until("app again", () => /app +\| app v2/.test(run.stdout()));
    expect(run.stdout()).toMatch(/app: .*app\.sh changed/);
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
  });

  it("cannot be combined with -d", async () => {
    const dir = project(TWO);
    const run = up(dir, "--watch", "-d");
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/^error: manager local: `up --watch` runs in the foreground/m);
  });
});

describe("the manager's errors through the CLI", () => {
  it("`ps` with nothing running prints the CLI's error and hint lines, exit 1, no stack trace", async () => {
    const dir = project(TWO);
    const run = started([process.execPath, cli, "ps"], { cwd: dir });
    expect(await run.exited).toBe(1);
    expect(run.stdout()).toBe("");
    expect(run.stderr()).toMatch(
      /^error: manager local: No `up` is running for deployment `shop` \(no supervisor answers on .*control\.sock\)\.\nhint: Start it with `nix2dream up`\.\n$/,
    );
  });
});
