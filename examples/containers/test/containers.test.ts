// @module-tag docker
/**
 * One definition, two targets, for real: `nix2dream up` runs the example on this machine with the
 * built-in supervisor (busybox on PATH), and `nix2dream up --manager compose` builds images FROM a
 * scratch busybox base and runs them on the local Docker engine with docker-compose. Both runs
 * are in this one file, one after the other, because they listen on the same ports.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { busyboxImage, CLI, freePort } from "@nix2dream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const example = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = CLI;
let WEB = "";
let webPort = 0;
const NAME = `n2d-compose-e2e-${process.pid}-${Date.now().toString(36)}`;
const BASE_IMAGE = `n2d-compose-busybox:${NAME}`;
const TOKEN = `tok'en "$HOME" $(id) \`id\` ✓ ${process.pid}`;
// biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text the example's env holds
const GREETING = 'it\'s "quoted", costs $5, runs `nothing`, $(nothing) or ${HOME}\nsecond line ✓';
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

function need(cmd: string, args: string[], pkg: string) {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
  } catch {
    throw new Error(
      `\`${cmd} ${args.join(" ")}\` failed: install it with \`apt-get install -y ${pkg}\` (and start dockerd for docker).`,
    );
  }
}

let work = "";
beforeAll(async () => {
  need("busybox", ["true"], "busybox-static");
  need("docker", ["info"], "docker.io");
  need("docker-compose", ["version"], "docker-compose");
  // A copy next to the example so `nix2dream` and the plugins resolve from the workspace.
  // On free ports instead of 18461/18462, so that two runs never collide.
  work = mkdtempSync(join(example, ".test-run-"));
  cpSync(join(example, "package.json"), join(work, "package.json"));
  const storePort = await freePort();
  webPort = await freePort();
  WEB = `http://127.0.0.1:${webPort}`;
  const config = readFileSync(join(example, "nix2dream.config.ts"), "utf8");
  expect(config).toContain("ports: { http: 18461 }");
  expect(config).toContain("ports: { http: 18462 }");
  writeFileSync(
    join(work, "nix2dream.config.ts"),
    config
      .replace("ports: { http: 18461 }", `ports: { http: ${storePort} }`)
      .replace("ports: { http: 18462 }", `ports: { http: ${webPort} }`),
  );
  // No registry is reachable: the base image is Debian's static busybox on an empty image.
  busyboxImage(BASE_IMAGE);
}, 120_000);

afterAll(() => {
  // Whatever a failed test left behind: the project, its images, the base image.
  spawnSyncQuiet("node", [cli, "down", "--manager", "compose", "--volumes"]);
  const images = execFileSync("docker", ["images", "-q", "--filter", `reference=${NAME}-*`], {
    encoding: "utf8",
  })
    .split(/\s+/)
    .filter(Boolean);
  if (images.length) spawnSyncQuiet("docker", ["rmi", "-f", ...new Set(images)]);
  spawnSyncQuiet("docker", ["rmi", "-f", BASE_IMAGE]);
  if (work) rmSync(work, { recursive: true, force: true });
}, 120_000);

function spawnSyncQuiet(cmd: string, args: string[]) {
  try {
    execFileSync(cmd, args, { cwd: work, env: testEnv(), stdio: "ignore" });
  } catch {
    // best effort
  }
}

function testEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: "1",
    CONTAINERS_NAME: NAME,
    CONTAINERS_BASE_IMAGE: BASE_IMAGE,
    CONTAINERS_API_TOKEN: TOKEN,
    ...extra,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

interface Finished {
  code: number | null;
  output: string;
  seconds: number;
}

/** Runs the CLI to completion. */
function nix2dream(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Finished> {
  const start = performance.now();
  return new Promise((resolve) => {
    let output = "";
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: work,
      env: testEnv(extra),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) =>
      resolve({ code, output, seconds: (performance.now() - start) / 1000 }),
    );
  });
}

async function get(path: string): Promise<string> {
  const res = await fetch(`${WEB}${path}`);
  expect(res.status, `GET ${path}`).toBe(200);
  return res.text();
}

async function until(
  what: string,
  output: () => string,
  test: () => Promise<boolean>,
  ms = 60_000,
) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await test().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; output so far:\n${output()}`);
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((p) => join(dir, p))
    .filter((p) => statSync(p).isFile());
}

function leftovers(kind: "ps" | "network" | "volume"): string[] {
  const args = kind === "ps" ? ["ps", "-a", "-q"] : [kind, "ls", "-q"];
  return execFileSync("docker", [...args, "--filter", `label=com.docker.compose.project=${NAME}`], {
    encoding: "utf8",
  })
    .split(/\s+/)
    .filter(Boolean);
}

describe("examples/containers", () => {
  it("runs under manage-local from the same definition", async () => {
    let out = "";
    const child: ChildProcess = spawn(process.execPath, [cli, "up"], {
      cwd: work,
      env: testEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      await until(
        "web to be healthy",
        () => out,
        async () => out.includes("web is healthy"),
      );
      expect(await get("/index.html")).toBe("<h1>hello from nix2dream</h1>\n");
      expect((await get("/cgi-bin/starts")).trim()).toBe("1");
      expect((await get("/cgi-bin/token")).trim()).toBe(sha256(TOKEN));
      expect((await get("/cgi-bin/greeting")).trim()).toBe(GREETING);
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
  }, 120_000);

  it("runs under manage-compose: health gate, port, file, secret, volume across down/up, clean down --volumes", async () => {
    const up = await nix2dream(["up", "--manager", "compose"]);
    expect(up.code, up.output).toBe(0);
    console.log(
      `examples/containers: \`up --manager compose\` to all healthy in ${up.seconds.toFixed(1)} s (build included)`,
    );
    expect(up.output).toMatch(/All 3 container\(s\) .* are ready/);

    // The port answers on 127.0.0.1 and is published there only.
    // v1 names it <project>_web_1, v2 <project>-web-1: find it by its labels.
    const webContainer = execFileSync(
      "docker",
      [
        "ps",
        "-q",
        "--filter",
        `label=com.docker.compose.project=${NAME}`,
        "--filter",
        "label=com.docker.compose.service=web",
      ],
      { encoding: "utf8" },
    ).trim();
    expect(
      execFileSync("docker", ["port", webContainer, String(webPort)], { encoding: "utf8" }).trim(),
    ).toBe(`127.0.0.1:${webPort}`);
    // Files are mounted; the web server reaches the store through its reference.
    expect(await get("/index.html")).toBe("<h1>hello from nix2dream</h1>\n");
    expect((await get("/cgi-bin/starts")).trim()).toBe("1");
    expect((await get("/cgi-bin/greeting")).trim()).toBe(GREETING);
    // The secret reached the program and is in no rendered file nor in the CLI output.
    expect((await get("/cgi-bin/token")).trim()).toBe(sha256(TOKEN));
    const rendered = filesUnder(join(work, ".nix2dream"));
    expect(rendered.length).toBeGreaterThan(5);
    for (const f of rendered) expect(readFileSync(f, "utf8"), f).not.toContain(TOKEN);
    expect(up.output).not.toContain(TOKEN);

    const ps = await nix2dream(["ps", "--manager", "compose", "--json"]);
    expect(ps.code, ps.output).toBe(0);
    const rows = JSON.parse(ps.output.slice(ps.output.indexOf("["))) as Array<{
      service: string;
      state: string;
      health: string;
    }>;
    expect(rows.map((r) => [r.service, r.state, r.health])).toEqual([
      ["seed", "exited", "none"],
      ["store", "running", "healthy"],
      ["web", "running", "healthy"],
    ]);

    const logs = await nix2dream(["logs", "--manager", "compose", "seed"]);
    expect(logs.output).toContain("seeded at");

    const restart = await nix2dream(["restart", "--manager", "compose", "store"]);
    expect(restart.code, restart.output).toBe(0);
    expect((await get("/cgi-bin/starts")).trim()).toBe("2");

    // Named volumes survive down/up.
    const down = await nix2dream(["down", "--manager", "compose"]);
    expect(down.code, down.output).toBe(0);
    expect(leftovers("ps")).toEqual([]);
    expect(leftovers("volume")).toHaveLength(1);
    const again = await nix2dream(["up", "--manager", "compose"]);
    expect(again.code, again.output).toBe(0);
    console.log(
      `examples/containers: second \`up --manager compose\` (images cached, volume kept) to all healthy in ${again.seconds.toFixed(1)} s`,
    );
    expect((await get("/cgi-bin/starts")).trim()).toBe("3");

    const gone = await nix2dream(["down", "--manager", "compose", "--volumes"]);
    expect(gone.code, gone.output).toBe(0);
    expect(leftovers("ps")).toEqual([]);
    expect(leftovers("network")).toEqual([]);
    expect(leftovers("volume")).toEqual([]);
  }, 240_000);

  it("fails `up` with the failing service's logs when its secret is missing", async () => {
    const up = await nix2dream(["up", "--manager", "compose"], { CONTAINERS_API_TOKEN: undefined });
    expect(up.code).toBe(1);
    expect(up.output).toContain("secret API_TOKEN is missing");
    expect(up.output).toMatch(/Service `web` failed to start/);
    const gone = await nix2dream(["down", "--manager", "compose", "--volumes"]);
    expect(gone.code, gone.output).toBe(0);
    expect(leftovers("ps")).toEqual([]);
  }, 180_000);
});
