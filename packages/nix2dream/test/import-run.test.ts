// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose's ${VAR} and generated template literals are what these tests read
/**
 * Imported stacks, run for real: a Compose project on the local Docker engine (images FROM
 * scratch with Debian's busybox; `nix2dream up` through manage-compose, which waits for every
 * healthcheck), and a Procfile under the built-in supervisor (manage-local), whose programs
 * (node, sh) exist here.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { busyboxImage, CLI, freePort, requireDocker } from "@nix2dream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importProject, n2d } from "./import-helpers.js";

/** Polls `url` until it answers 200 (or `tries` run out); returns the body. */
async function fetchWhenUp(url: string, tries = 150): Promise<string> {
  for (let i = 0; i < tries; i++) {
    try {
      const r = await fetch(url);
      if (r.ok) return await r.text();
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer`);
}

describe("a Compose project, imported, on the Docker engine", {
  tags: ["docker"],
  timeout: 180_000,
}, () => {
  const name = `n2d-import-run-${process.pid}`;
  const image = `n2d-import-busybox:${name}`;
  let project = "";
  let webPort = 0;

  beforeAll(async () => {
    requireDocker();
    busyboxImage(image);
    webPort = await freePort();
    project = importProject("runnable");
    const env = { COMPOSE_PROJECT_NAME: name, N2D_IMAGE: image, WEB_PORT: String(webPort) };
    const r = n2d(project, ["import", "--strict"], env);
    expect(r.code, r.stderr).toBe(0);
  }, 180_000);

  afterAll(() => {
    if (project) n2d(project, ["down", "--volumes"]);
    execFileSync("docker", ["rmi", "-f", image], { stdio: "ignore" });
  });

  it("starts in dependency order, passes its healthchecks and serves the bind-mounted file", async () => {
    const up = n2d(project, ["up"]);
    expect(up.code, `${up.stdout}\n${up.stderr}`).toBe(0);
    const body = await fetchWhenUp(`http://127.0.0.1:${webPort}/index.html`);
    expect(body).toBe("hello from the imported stack\n");
    const ps = JSON.parse(n2d(project, ["ps", "--json"]).stdout) as Array<{
      service: string;
      state: string;
      health: string;
      exitCode: number;
    }>;
    const by = Object.fromEntries(ps.map((c) => [c.service, c]));
    expect(by.migrate?.exitCode).toBe(0);
    expect(by.web?.health).toBe("healthy");
    expect(by.client?.state).toBe("running");
  });

  it("lets the client reach web by its reference (WEB_URL) and keep what it got in its volume", async () => {
    const source = readFileSync(join(project, "nix2dream.config.ts"), "utf8");
    expect(source).toContain("WEB_URL: `http://${ref.web.host}:${ref.web.ports.http}/index.html`");
    const id = execFileSync(
      "docker",
      [
        "ps",
        "-q",
        "--filter",
        `label=com.docker.compose.project=${name}`,
        "--filter",
        "label=com.docker.compose.service=client",
      ],
      { encoding: "utf8" },
    ).trim();
    let copy = "";
    for (let i = 0; i < 100 && copy === ""; i++) {
      try {
        copy = execFileSync("docker", ["exec", id, "cat", "/state/copy"], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        });
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(copy).toBe("hello from the imported stack\n");
  });
});

describe("a Procfile, imported, under the built-in supervisor", { timeout: 120_000 }, () => {
  let project = "";
  let base = 0;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    project = importProject("procfile");
    base = await freePort();
    // foreman's base port from .env: web gets it, api 100 more.
    const env = readFileSync(join(project, ".env"), "utf8");
    writeFileSync(join(project, ".env"), `${env}PORT=${base}\n`);
    const r = n2d(project, ["import", "--strict"]);
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGINT");
      await new Promise((r) => child?.once("exit", r));
    }
  });

  it("runs every process type with its PORT and the .env", async () => {
    child = spawn(process.execPath, [CLI, "up"], {
      cwd: project,
      stdio: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    let out = "";
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (out += d));
    expect(await fetchWhenUp(`http://127.0.0.1:${base}/`)).toBe("web: hello world\n");
    expect(await fetchWhenUp(`http://127.0.0.1:${base + 100}/`)).toBe("api: jobs\n");
    for (let i = 0; i < 100 && !out.includes("tick jobs"); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain("tick jobs");
    child.kill("SIGINT");
    const code = await new Promise((r) => child?.once("exit", r));
    expect(code).toBe(0);
  });
});
