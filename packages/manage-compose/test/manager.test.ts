// @module-tag docker
/**
 * The compose manager's actions against the real tools of this machine: docker-compose (v1, or
 * the v2 plugin where installed) and the local Docker engine. The full example run (health gate,
 * volumes across down/up, secrets, ports) is `examples/containers/test/containers.test.ts`.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import {
  type DeploymentDefinition,
  evaluateDeployment,
  type ManagerContext,
} from "@nix2dream/core";
import compose from "@nix2dream/render-compose";
import { busyboxImage, writeArtifacts } from "@nix2dream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import composeManager, {
  ComposeManagerError,
  type ContainerStatus,
  checkEngine,
  findCompose,
  projectContainers,
  projectNameOf,
  psTable,
  readiness,
} from "../src/index.js";
import { hasLogLines } from "../src/manager.js";

const PROJECT = `n2d-compose-mgr-${process.pid}-${Date.now().toString(36)}`;
const BASE_IMAGE = `n2d-compose-busybox:${PROJECT}`;
const dirs: string[] = [];

function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function row(over: Partial<ContainerStatus>): ContainerStatus {
  return {
    service: "api",
    container: "p_api_1",
    state: "running",
    health: "none",
    exitCode: 0,
    restarts: 0,
    ports: [],
    ...over,
  };
}

/** Renders `definition` with render-compose into a temporary directory, as the CLI would. */
function rendered(definition: DeploymentDefinition): { ctx: ManagerContext; out: () => string } {
  const { deployment } = evaluateDeployment(definition, { file: "nix2dream.config.ts" });
  const { artifacts } = compose({ baseImage: BASE_IMAGE }).render(deployment);
  const dir = tmp("n2d-compose-mgr-render-");
  writeArtifacts(dir, artifacts);
  let text = "";
  const sink = new PassThrough();
  sink.on("data", (d) => (text += d));
  const ctx: ManagerContext = {
    deployment,
    artifactsDir: dir,
    stateDir: join(dir, "state"),
    args: [],
    flags: {},
    stdout: sink,
    stderr: sink,
    color: false,
    signal: new AbortController().signal,
  };
  return { ctx, out: () => text };
}

const failing = {
  name: PROJECT,
  use: [compose({ baseImage: BASE_IMAGE }), composeManager({ waitTimeout: 60 })],
  services: {
    ok: { command: ["sh", "-c", "echo ok is up; exec sleep 600"] },
    sick: {
      command: ["sh", "-c", "echo 'sick: cannot find my config' >&2; exec sleep 600"],
      healthcheck: { command: ["false"], interval: "200ms", retries: 2, startPeriod: 0 },
      restart: "no",
      stop: { gracePeriod: 1 },
    },
  },
} satisfies DeploymentDefinition;

beforeAll(() => {
  for (const [cmd, args, pkg] of [
    ["docker", ["info"], "docker.io"],
    ["docker-compose", ["version"], "docker-compose"],
    ["/bin/busybox", ["true"], "busybox-static"],
  ] as const) {
    try {
      execFileSync(cmd, args, { stdio: "ignore" });
    } catch {
      throw new Error(`\`${cmd}\` is needed: apt-get install -y ${pkg} (and start dockerd).`);
    }
  }
  busyboxImage(BASE_IMAGE);
}, 120_000);

afterAll(() => {
  const quiet = (args: string[]) => {
    try {
      execFileSync("docker", args, { stdio: "ignore" });
    } catch {
      // best effort
    }
  };
  const ids = (args: string[]) =>
    execFileSync("docker", args, { encoding: "utf8" }).split(/\s+/).filter(Boolean);
  const containers = ids(["ps", "-aq", "--filter", `label=com.docker.compose.project=${PROJECT}`]);
  if (containers.length) quiet(["rm", "-f", ...containers]);
  for (const n of ids([
    "network",
    "ls",
    "-q",
    "--filter",
    `label=com.docker.compose.project=${PROJECT}`,
  ]))
    quiet(["network", "rm", n]);
  const images = ids(["images", "-q", "--filter", `reference=${PROJECT}-*`]);
  if (images.length) quiet(["rmi", "-f", ...new Set(images)]);
  quiet(["rmi", "-f", BASE_IMAGE]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 120_000);

describe("helpers", () => {
  it("derives a Compose project name from the deployment name", () => {
    expect(projectNameOf("Shop.Staging_1")).toBe("shopstaging_1");
    expect(projectNameOf("--x")).toBe("x");
  });

  it("counts a running container without healthcheck, a healthy one and a completed job as ready", () => {
    expect(readiness(row({}))).toBe("ready");
    expect(readiness(row({ health: "healthy" }))).toBe("ready");
    expect(readiness(row({ state: "exited", exitCode: 0 }))).toBe("ready");
  });

  it("counts a starting container as waiting and an unhealthy, crashed or restarting one as failed", () => {
    expect(readiness(row({ health: "starting" }))).toBe("waiting");
    expect(readiness(row({ state: "created" }))).toBe("waiting");
    expect(readiness(row({ health: "unhealthy" }))).toBe("failed");
    expect(readiness(row({ state: "exited", exitCode: 2 }))).toBe("failed");
    expect(readiness(row({ state: "restarting" }))).toBe("failed");
  });

  it("prints ps as an aligned table", () => {
    expect(psTable([row({ ports: ["127.0.0.1:80->80/tcp"], health: "healthy" })])).toBe(
      [
        "SERVICE  CONTAINER  STATE    HEALTH   EXIT  RESTARTS  PORTS",
        "api      p_api_1    running  healthy  -     0         127.0.0.1:80->80/tcp",
      ].join("\n"),
    );
  });
});

describe("finding the tools", () => {
  it("finds the Compose tool installed here", async () => {
    const tool = await findCompose();
    expect(tool.version).toMatch(/^v?\d+\.\d+/);
    expect(tool.argv).toEqual(tool.major === 2 ? ["docker", "compose"] : ["docker-compose"]);
  });

  it("names what to install when neither docker compose nor docker-compose is on PATH", async () => {
    const empty = tmp("n2d-compose-path-");
    await expect(findCompose({ PATH: empty })).rejects.toThrow(
      /Neither `docker compose` \(v2\) nor `docker-compose` \(v1\) is installed.*apt-get install -y docker-compose/,
    );
  });

  it("says clearly when no Docker engine answers", async () => {
    const err = await checkEngine({
      ...process.env,
      DOCKER_HOST: "unix:///nonexistent/n2d-compose.sock",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComposeManagerError);
    expect((err as ComposeManagerError).code).toBe("MANAGE_COMPOSE_NO_ENGINE");
    expect((err as Error).message).toMatch(/^No Docker engine answers/);
  });
});

describe("actions on a real engine", () => {
  it("refuses to act without a compose render, saying how to make one", async () => {
    const { ctx, out } = rendered(failing);
    ctx.artifactsDir = tmp("n2d-compose-empty-");
    await expect(composeManager().actions.up?.(ctx)).rejects.toMatchObject({
      code: "MANAGE_COMPOSE_NO_RENDER",
      source: "manager compose",
      message: expect.stringContaining("There is no compose file"),
    });
    expect(out()).toBe("");
  });

  it("fails up with the unhealthy service's logs, then down removes everything", async () => {
    const { ctx, out } = rendered(failing);
    const manager = composeManager();
    await expect(manager.actions.up?.(ctx)).rejects.toMatchObject({
      code: "MANAGE_COMPOSE_UNHEALTHY",
      message: expect.stringContaining("Service `sick` failed to start (running, unhealthy)"),
    });
    expect(out()).toContain("sick: cannot find my config");

    const ps = await manager.actions.ps?.({ ...ctx, flags: { json: true } });
    const rows = ps?.data as ContainerStatus[];
    expect(rows.map((r) => [r.service, r.health])).toEqual([
      ["ok", "none"],
      ["sick", "unhealthy"],
    ]);

    const logs = await manager.actions.logs?.({ ...ctx, args: ["ok"] });
    expect(logs?.exitCode).toBe(0);
    expect(out()).toContain("ok is up");

    const stop = await manager.actions.stop?.({ ...ctx, args: ["ok"] });
    expect(stop?.exitCode, out()).toBe(0);
    const status = await manager.actions.status?.({ ...ctx, flags: { json: true } });
    expect(((status?.data ?? []) as ContainerStatus[]).map((r) => [r.service, r.state])).toEqual([
      ["ok", "exited"],
      ["sick", "running"],
    ]);

    await expect(manager.actions.restart?.({ ...ctx, args: ["nope"] })).rejects.toMatchObject({
      code: "MANAGE_COMPOSE_UNKNOWN_SERVICE",
      message: expect.stringContaining("unknown: nope"),
    });

    const down = await manager.actions.down?.({ ...ctx, flags: { volumes: true } });
    expect(down?.exitCode, out()).toBe(0);
    expect(await projectContainers(PROJECT)).toEqual([]);
  }, 150_000);

  it("shows the logs of a dependency whose health gate stops Compose's own up", async () => {
    const gated = {
      ...failing,
      services: {
        ...failing.services,
        ok: { ...failing.services.ok, dependsOn: { sick: "healthy" } },
      },
    } as DeploymentDefinition;
    const { ctx, out } = rendered(gated);
    const manager = composeManager();
    try {
      await expect(manager.actions.up?.(ctx)).rejects.toMatchObject({
        code: "MANAGE_COMPOSE_UNHEALTHY",
        message: expect.stringContaining("Service `sick` failed to start (running, unhealthy)"),
      });
      expect(out()).toContain("sick: cannot find my config");
    } finally {
      await manager.actions.down?.({ ...ctx, flags: { volumes: true } });
    }
    expect(await projectContainers(PROJECT)).toEqual([]);
  }, 150_000);

  it("gives a built service a secret from a file, mounted and read at start, written nowhere", async () => {
    const value = `pa$$ 'w"o\`rd ✓ ${process.pid}`;
    const secretFile = join(tmp("n2d-compose-secret-"), "token");
    writeFileSync(secretFile, `${value}\n`, { mode: 0o600 });
    const { ctx, out } = rendered({
      name: PROJECT,
      use: [compose({ baseImage: BASE_IMAGE }), composeManager({ waitTimeout: 60 })],
      services: {
        job: {
          command: ["sh", "-c", 'printf %s "$TOKEN" | sha256sum'],
          secrets: { TOKEN: { fromFile: secretFile } },
          restart: "no",
        },
      },
    });
    const manager = composeManager();
    try {
      const up = await manager.actions.up?.(ctx);
      expect(up?.exitCode, out()).toBe(0);
      await manager.actions.logs?.({ ...ctx, args: ["job"] });
      expect(out()).toContain(createHash("sha256").update(value).digest("hex"));
      expect(out()).not.toContain(value);
      const files = readdirSync(ctx.artifactsDir, { recursive: true, encoding: "utf8" })
        .map((p) => join(ctx.artifactsDir, p))
        .filter((p) => statSync(p).isFile());
      for (const f of files) expect(readFileSync(f, "utf8"), f).not.toContain(value);
    } finally {
      await manager.actions.down?.({ ...ctx, flags: { volumes: true } });
    }
  }, 150_000);

  it("runs replicas with the rendered resource limits", async () => {
    const { ctx, out } = rendered({
      name: PROJECT,
      use: [compose({ baseImage: BASE_IMAGE }), composeManager({ waitTimeout: 60 })],
      services: {
        worker: {
          command: ["sleep", "600"],
          replicas: 2,
          resources: { cpu: 0.5, memory: "64Mi" },
          stop: { gracePeriod: 1 },
        },
      },
    });
    const manager = composeManager();
    try {
      const up = await manager.actions.up?.(ctx);
      expect(up?.exitCode, out()).toBe(0);
      const rows = await projectContainers(PROJECT);
      expect(rows.map((r) => [r.service, r.state])).toEqual([
        ["worker", "running"],
        ["worker", "running"],
      ]);
      const limits = execFileSync(
        "docker",
        [
          "inspect",
          "--format",
          "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}",
          ...rows.map((r) => r.container),
        ],
        { encoding: "utf8" },
      );
      expect(limits.trim().split("\n")).toEqual(["67108864 500000000", "67108864 500000000"]);
    } finally {
      await manager.actions.down?.({ ...ctx, flags: { volumes: true } });
    }
  }, 150_000);
});

describe("hasLogLines (a failed service's logs are read again while empty)", () => {
  it("tells compose's own lines from a container's", () => {
    expect(hasLogLines("")).toBe(false);
    expect(hasLogLines("Attaching to proj_web_1\n")).toBe(false);
    expect(
      hasLogLines("Attaching to proj_web_1\nproj_web_1  | secret API_TOKEN is missing\n"),
    ).toBe(true);
    // docker compose v2: no "Attaching to" line.
    expect(hasLogLines("web-1  | listening\n")).toBe(true);
  });
});
