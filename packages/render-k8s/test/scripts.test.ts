/**
 * The shell the rendered pods run, executed for real: preStart and volume init containers with
 * `sh` (dash), and the default dependency waits with Debian's busybox (the `busybox:1.36` image's
 * tools: `sh`, `nc`, `wget`) against real local TCP/HTTP servers.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { evaluateDeployment } from "@nix2dream/core";
import { listen } from "@nix2dream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import k8s, { renderObjects } from "../src/index.js";
import { HOSTILE } from "./fixtures/everything.js";
import { tempDir } from "./helpers.js";
import { kubeletView } from "./kubelet.js";

const PRINT = fileURLToPath(new URL("./fixtures/print-argv.mjs", import.meta.url));
const BUSYBOX = "/bin/busybox";
const temps: Array<() => void> = [];
afterAll(() => {
  for (const r of temps) r();
});

// biome-ignore lint/suspicious/noExplicitAny: reading rendered objects
function containerOf(services: Record<string, unknown>, kind: string, name: string): any {
  const { deployment } = evaluateDeployment({ name: "t", use: [k8s()], services } as never);
  // biome-ignore lint/suspicious/noExplicitAny: reading rendered objects
  const o: any = renderObjects(deployment).objects.find(
    (x) => x.kind === kind && x.metadata?.name === name,
  );
  return o.spec.template.spec;
}

/** A PATH directory whose `nc`, `wget`, `sleep` are Debian's busybox applets. */
let busyboxPath = "";
beforeAll(() => {
  if (!existsSync(BUSYBOX)) {
    throw new Error("/bin/busybox is missing: apt-get install -y busybox-static");
  }
  const { dir, remove } = tempDir("busybox");
  temps.push(remove);
  for (const tool of ["nc", "wget", "sleep", "sh"]) symlinkSync(BUSYBOX, join(dir, tool));
  busyboxPath = dir;
});

/** Runs argv (with `/bin/sh` as busybox sh) to its end; resolves with exit code and output. */
function runBusybox(
  argv: string[],
  env: Record<string, string>,
  timeoutMs: number,
  onOutput: (soFar: string) => void = () => {},
) {
  const [cmd, ...rest] = argv;
  const args = cmd === "/bin/sh" ? ["sh", ...rest] : [cmd as string, ...rest];
  return new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn(BUSYBOX, args, { env: { PATH: busyboxPath, ...env } });
    let out = "";
    const add = (b: Buffer) => {
      out += b;
      onOutput(out);
    };
    child.stdout.on("data", add);
    child.stderr.on("data", add);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`timed out after ${timeoutMs} ms; output:\n${out}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe("preStart", () => {
  it("runs preStart in the same shell, then execs the program with hostile argv intact", () => {
    const { dir, remove } = tempDir("prestart");
    temps.push(remove);
    const pre = `export N2D_MARKER="$(printf '%s' 'set by preStart')"; printf '%s' "$0 ran" > ${dir}/ran`;
    const spec = containerOf(
      {
        a: {
          package: { image: "x" },
          command: [process.execPath, PRINT],
          args: [HOSTILE, "-x", "", "$HOME"],
          preStart: pre,
        },
      },
      "Deployment",
      "a",
    );
    const [cmd, ...args] = kubeletView(spec.containers[0]).command as string[];
    expect(cmd).toBe("/bin/sh");
    const out = execFileSync("sh", args, { encoding: "utf8", env: { PATH: process.env.PATH } });
    expect(JSON.parse(out)).toEqual({
      argv: [HOSTILE, "-x", "", "$HOME"],
      marker: "set by preStart",
    });
    expect(readFileSync(join(dir, "ran"), "utf8")).toBe("sh ran");
  });

  it("stops before the program when preStart fails", () => {
    const spec = containerOf(
      {
        a: {
          package: { image: "x" },
          command: [process.execPath, PRINT],
          preStart: "false; echo after",
        },
      },
      "Deployment",
      "a",
    );
    const [, ...args] = kubeletView(spec.containers[0]).command as string[];
    const r = (() => {
      try {
        return execFileSync("sh", args, { encoding: "utf8" });
      } catch (e) {
        return e as { status: number; stdout: string };
      }
    })();
    expect(typeof r === "string" ? 0 : r.status).not.toBe(0);
  });
});

describe("volume init container", () => {
  it("runs init only on an empty volume and check on every start, with hostile scripts", () => {
    const { dir, remove } = tempDir("volume");
    temps.push(remove);
    const vol = join(dir, "data");
    mkdirSync(vol);
    const init = `printf '%s' ${`'${HOSTILE.replace(/'/g, "'\\''")}'`} > seeded; echo init >> ../log`;
    const spec = containerOf(
      {
        db: {
          package: { image: "x" },
          volumes: {
            data: {
              path: vol,
              persistent: true,
              init,
              check: "test -f seeded && echo check >> ../log",
            },
          },
        },
      },
      "StatefulSet",
      "db",
    );
    const [cmd, ...args] = kubeletView(spec.initContainers[0]).command as string[];
    expect(cmd).toBe("/bin/sh");
    execFileSync("sh", args);
    execFileSync("sh", args);
    expect(readFileSync(join(vol, "seeded"), "utf8")).toBe(HOSTILE);
    expect(readFileSync(join(dir, "log"), "utf8")).toBe("init\ncheck\ncheck\n");
  });

  it("fails the pod start when check fails", () => {
    const { dir, remove } = tempDir("volume-check");
    temps.push(remove);
    const spec = containerOf(
      {
        db: {
          package: { image: "x" },
          volumes: { data: { path: dir, persistent: true, check: "test -f missing" } },
        },
      },
      "StatefulSet",
      "db",
    );
    const [, ...args] = kubeletView(spec.initContainers[0]).command as string[];
    expect(() => execFileSync("sh", args, { stdio: "ignore" })).toThrow();
  });
});

describe("dependency waits with busybox", () => {
  it("the TCP wait returns once the dependency's port accepts connections", {
    tags: ["docker"],
    timeout: 90_000,
  }, async () => {
    const spec = containerOf(
      {
        db: { package: { image: "pg" }, ports: { pg: 5432 } },
        api: { package: { image: "a" }, dependsOn: ["db"] },
      },
      "Deployment",
      "api",
    );
    const wait = kubeletView(spec.initContainers[0]);
    const server = createServer((s) => s.end());
    const port = await listen(server);
    server.close();
    // The port is closed now: the loop must keep waiting until the server is back.
    let sawWaiting: () => void = () => {};
    const waiting = new Promise<void>((r) => {
      sawWaiting = r;
    });
    const env = { WAIT_HOST: "127.0.0.1", WAIT_PORT: String(port), WAIT_URL: "" };
    const run = runBusybox(wait.command, env, 60_000, (o) => {
      if (o.includes("waiting for")) sawWaiting();
    });
    await waiting;
    const again = createServer((s) => s.end());
    await new Promise<void>((r) => again.listen(port, "127.0.0.1", () => r()));
    const { code, out } = await run;
    again.close();
    expect(code).toBe(0);
    expect(out).toContain(`waiting for 127.0.0.1:${port}`);
  });

  it("the HTTP wait returns once the healthcheck URL answers 2xx", {
    tags: ["docker"],
    timeout: 90_000,
  }, async () => {
    const spec = containerOf(
      {
        web: {
          package: { image: "w" },
          ports: { http: 80 },
          healthcheck: { port: "http", path: "/ready" },
        },
        api: { package: { image: "a" }, dependsOn: { web: "healthy" } },
      },
      "Deployment",
      "api",
    );
    const wait = kubeletView(spec.initContainers[0]);
    let hits = 0;
    const server = createHttpServer((req, res) => {
      hits++;
      res.statusCode = req.url === "/ready" && hits > 1 ? 200 : 503;
      res.end();
    });
    const port = await listen(server);
    const { code, out } = await runBusybox(
      wait.command,
      {
        WAIT_HOST: "127.0.0.1",
        WAIT_PORT: String(port),
        WAIT_URL: `http://127.0.0.1:${port}/ready`,
      },
      60_000,
    );
    server.close();
    expect(code).toBe(0);
    expect(hits).toBe(2);
    expect(out).toContain("waiting for http://127.0.0.1:");
  });
});
