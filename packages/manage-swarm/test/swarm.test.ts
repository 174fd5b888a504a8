/** @module-tag docker */
/**
 * The swarm manager against a real single-node swarm on this machine's Docker engine (Debian's
 * dockerd): images built FROM scratch with Debian's static busybox, stacks deployed, updated,
 * rolled back and removed for real. The swarm is initialised here (and left again) only when
 * the engine is not in one already. Everything is named with this run's prefix and removed.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type DeploymentDefinition, ref } from "@nix2dream/core";
import compose from "@nix2dream/render-compose";
import {
  busyboxImage,
  fileTempDir,
  readmeExample,
  requireDocker,
  runAction,
  runFailingAction,
} from "@nix2dream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import swarmManager, {
  STACK_LABEL,
  serviceTasks,
  stackServices,
  type TaskState,
} from "../src/index.js";
import { rendered } from "./helpers.js";
import { type SecondNode, startSecondNode } from "./node.js";

const PREFIX = `n2d-swarm-${process.pid}`;
const BASE_IMAGE = `${PREFIX}-busybox:test`;
const dir = fileTempDir("n2d-swarm-e2e-");
let initialisedHere = false;
let n = 0;

function sh(args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8" });
}

function ids(args: string[]): string[] {
  return sh(args).split(/\s+/).filter(Boolean);
}

/** A fresh stack name and working directory per test. */
function fresh(): { name: string; dir: string } {
  n += 1;
  return { name: `${PREFIX}-${n}`, dir: join(dir, String(n)) };
}

/** What the stack still has on the engine: services, networks, configs, secrets, containers. */
function leftovers(stack: string): string[] {
  const f = `label=${STACK_LABEL}=${stack}`;
  return [
    ...ids(["service", "ls", "-q", "--filter", f]),
    ...ids(["network", "ls", "-q", "--filter", f]),
    ...ids(["config", "ls", "-q", "--filter", f]),
    ...ids(["secret", "ls", "-q", "--filter", f]),
    ...ids(["ps", "-aq", "--filter", f]),
  ];
}

beforeAll(() => {
  requireDocker();
  const state = sh(["info", "--format", "{{.Swarm.LocalNodeState}}"]).trim();
  if (state !== "active") {
    sh(["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    initialisedHere = true;
  }
  busyboxImage(BASE_IMAGE);
}, 120_000);

afterAll(() => {
  const quiet = (args: string[]) => spawnSync("docker", args, { stdio: "ignore" });
  for (const line of sh(["stack", "ls", "--format", "{{.Name}}"]).split("\n")) {
    if (line.startsWith(PREFIX)) quiet(["stack", "rm", line]);
  }
  // Stack networks go only after their tasks; wait for them before leaving the swarm.
  for (let i = 0; i < 240; i++) {
    const left = [
      ...ids(["network", "ls", "-q", "--filter", `name=${PREFIX}`]),
      ...ids(["ps", "-aq", "--filter", `name=${PREFIX}`]),
    ];
    if (left.length === 0) break;
    spawnSync("sleep", ["0.25"]);
  }
  for (const kind of ["config", "secret"]) {
    const left = ids([kind, "ls", "-q", "--filter", `name=${PREFIX}`]);
    if (left.length) quiet([kind, "rm", ...left]);
  }
  const volumes = ids(["volume", "ls", "-q", "--filter", `name=${PREFIX}`]);
  if (volumes.length) quiet(["volume", "rm", "-f", ...volumes]);
  // By name, not id: the built images are children of the base image.
  const images = sh(["images", "--format", "{{.Repository}}:{{.Tag}}"])
    .split("\n")
    .filter((r) => r.startsWith(PREFIX));
  if (images.length) quiet(["rmi", "-f", ...images]);
  if (initialisedHere) quiet(["swarm", "leave", "--force"]);
}, 120_000);

function use(opts: Parameters<typeof swarmManager>[0] = {}) {
  return [compose({ baseImage: BASE_IMAGE }), swarmManager({ waitTimeout: 90, ...opts })];
}

/** Tasks of a stack's service that were ever created, oldest first. */
async function history(stack: string, service: string): Promise<TaskState[]> {
  const services = (await stackServices(stack, process.env)).filter((s) => s.service === service);
  return (await serviceTasks(services, process.env)).sort((a, b) =>
    a.createdAt.localeCompare(b.createdAt),
  );
}

/**
 * Tasks (oldest first) created before the task created just before them was running: with an
 * update parallelism of 1 there are none.
 */
function startedBeforeTurn(tasks: TaskState[]): string[] {
  return tasks.slice(1).flatMap((t, i) => {
    const previous = tasks[i] as TaskState;
    return t.createdAt < previous.since
      ? [`${t.name} created ${t.createdAt}, ${previous.name} running ${previous.since}`]
      : [];
  });
}

describe("a stack on a real single-node swarm", () => {
  it("converges replicas, reaches them by name over dnsrr, passes a secret, and down leaves nothing", async () => {
    const t = fresh();
    const value = `s3cr'et "$(x)" ${process.pid}`;
    const secretFile = join(dir, `${t.name}-token`);
    writeFileSync(secretFile, value);
    const c = rendered(
      {
        name: t.name,
        use: use(),
        services: {
          web: {
            command: ["busybox", "httpd", "-f", "-p", "8081", "-h", "/srv/www"],
            files: { "/srv/www/index.html": "hello from swarm\n" },
            ports: { http: { port: 8081, hostPort: null } },
            healthcheck: { port: "http", path: "/index.html", interval: 1, startPeriod: 0 },
            replicas: 2,
            stop: { gracePeriod: 1 },
          },
          client: {
            command: [
              "sh",
              "-c",
              'printf "%s" "$TOKEN" | sha256sum; while :; do wget -q -O - http://web:8081/index.html; sleep 1; done',
            ],
            secrets: { TOKEN: { fromFile: secretFile } },
            dependsOn: { web: "healthy" },
            stop: { gracePeriod: 1 },
          },
        },
      },
      t.dir,
      BASE_IMAGE,
    );
    const manager = swarmManager();
    const up = await runAction(manager.actions.up, c);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stdout).toContain(`All 2 service(s) of stack ${t.name} converged`);
    expect(up.stderr).toContain("Swarm ignores `dependsOn` (web: healthy)");

    const ps = await runAction(manager.actions.ps, {
      ...c,
      ctx: { ...c.ctx, flags: { json: true } },
    });
    const tasks = ps.data as TaskState[];
    expect(tasks.filter((x) => x.name.startsWith(`${t.name}_web.`)).map((x) => x.state)).toEqual([
      "running",
      "running",
    ]);
    const status = await runAction(manager.actions.status, c);
    expect(status.exitCode, status.stdout).toBe(0);

    // The client reaches the replicas through the service name (dnsrr), and read the secret.
    const hash = createHash("sha256").update(value).digest("hex");
    for (let i = 0; i < 60; i++) {
      const logs = await runAction(manager.actions.logs, {
        ...c,
        ctx: { ...c.ctx, args: ["client"] },
      });
      if (logs.stdout.includes("hello from swarm") && logs.stdout.includes(hash)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const logs = await runAction(manager.actions.logs, {
      ...c,
      ctx: { ...c.ctx, args: ["client"] },
    });
    expect(logs.stdout).toContain("hello from swarm");
    expect(logs.stdout).toContain(hash);
    expect(ids(["secret", "ls", "-q", "--filter", `label=${STACK_LABEL}=${t.name}`])).toHaveLength(
      1,
    );
    expect(ids(["config", "ls", "-q", "--filter", `label=${STACK_LABEL}=${t.name}`])).toHaveLength(
      1,
    );

    const down = await runAction(manager.actions.down, c);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(leftovers(t.name)).toEqual([]);
  }, 180_000);

  it("rolls a changed file out as a new config, replacing the tasks one at a time, and restart does the same", async () => {
    const t = fresh();
    const definition = (page: string): DeploymentDefinition => ({
      name: t.name,
      use: use(),
      managers: { swarm: { update: { monitor: 0.5 } } },
      services: {
        web: {
          command: ["busybox", "httpd", "-f", "-p", "8081", "-h", "/srv/www"],
          files: { "/srv/www/index.html": page },
          ports: { http: { port: 8081, hostPort: null } },
          healthcheck: { port: "http", path: "/index.html", interval: 0.5, startPeriod: 0 },
          replicas: 3,
          stop: { gracePeriod: 1 },
        },
      },
    });
    const manager = swarmManager();
    const v1 = rendered(definition("v1\n"), t.dir, BASE_IMAGE);
    expect((await runAction(manager.actions.up, v1)).exitCode, v1.err()).toBe(0);
    const first = new Set((await history(t.name, "web")).map((x) => x.id));

    const v2 = rendered(definition("v2\n"), t.dir, BASE_IMAGE);
    const up = await runAction(manager.actions.up, v2);
    expect(up.exitCode, up.stderr).toBe(0);
    const replaced = (await history(t.name, "web")).filter((x) => !first.has(x.id));
    expect(replaced.map((x) => x.state)).toEqual(["running", "running", "running"]);
    // One at a time: each new task was created only after the one before it was running.
    expect(startedBeforeTurn(replaced)).toEqual([]);
    // The old config is gone, the new one is mounted.
    const configs = sh([
      "config",
      "ls",
      "--format",
      "{{.Name}}",
      "--filter",
      `label=${STACK_LABEL}=${t.name}`,
    ]);
    expect(configs.trim().split("\n")).toHaveLength(1);
    const container = ids(["ps", "-q", "--filter", `label=${STACK_LABEL}=${t.name}`])[0] ?? "";
    expect(sh(["exec", container, "cat", "/srv/www/index.html"])).toBe("v2\n");

    const before = new Set((await history(t.name, "web")).map((x) => x.id));
    const restart = await runAction(manager.actions.restart, {
      ...v2,
      ctx: { ...v2.ctx, args: ["web"] },
    });
    expect(restart.exitCode, restart.stderr).toBe(0);
    const restarted = (await history(t.name, "web")).filter((x) => !before.has(x.id));
    expect(restarted.map((x) => x.state)).toEqual(["running", "running", "running"]);
    expect(startedBeforeTurn(restarted)).toEqual([]);
    expect((await runAction(manager.actions.down, v2)).exitCode).toBe(0);
    expect(leftovers(t.name)).toEqual([]);
  }, 240_000);

  it("lets a failing healthcheck stop an update: Swarm rolls back and up fails with the reason", async () => {
    const t = fresh();
    const definition = (healthy: string): DeploymentDefinition => ({
      name: t.name,
      use: use(),
      managers: { swarm: { update: { monitor: 1 } } },
      services: {
        api: {
          command: ["sh", "-c", 'echo "api healthy=$HEALTHY"; exec sleep 600'],
          env: { HEALTHY: healthy },
          healthcheck: {
            command: ["sh", "-c", 'test "$HEALTHY" = yes'],
            interval: 0.5,
            retries: 2,
            startPeriod: 0,
          },
          replicas: 2,
          stop: { gracePeriod: 1 },
        },
      },
    });
    const manager = swarmManager();
    const good = rendered(definition("yes"), t.dir, BASE_IMAGE);
    expect((await runAction(manager.actions.up, good)).exitCode, good.err()).toBe(0);
    const bad = rendered(definition("no"), t.dir, BASE_IMAGE);
    const up = await runFailingAction(manager.actions.up, bad);
    expect(up.error.message).toMatch(
      /Service `api` did not converge: the update failed and was rolled back/,
    );
    expect(up.stderr).toContain("api healthy=no");
    // The tasks that run are the previous, healthy spec's.
    const running = ids(["ps", "-q", "--filter", `label=${STACK_LABEL}=${t.name}`]);
    expect(running).toHaveLength(2);
    for (const id of running) {
      expect(
        sh(["inspect", "--format", "{{.State.Health.Status}} {{json .Config.Env}}", id]),
      ).toMatch(/^healthy .*"HEALTHY=yes"/);
    }
    // What runs is not what was deployed last: status says so.
    const status = await runAction(manager.actions.status, bad);
    expect(status.exitCode, status.stdout).toBe(1);
    expect(status.stdout).toContain("failed: the update failed and was rolled back");
    expect((await runAction(manager.actions.down, bad)).exitCode).toBe(0);
    expect(leftovers(t.name)).toEqual([]);
  }, 240_000);

  it("runs the README example: deploys, converges, updates and tears down", async () => {
    const t = fresh();
    const definition = readmeExample(new URL("../README.md", import.meta.url), {
      ref,
      compose: () => compose({ baseImage: BASE_IMAGE }),
      swarm: swarmManager,
    }) as DeploymentDefinition & { services: Record<string, { files?: object }> };
    mkdirSync(join(t.dir, "secrets"), { recursive: true });
    writeFileSync(join(t.dir, "secrets", "token"), "twelve bytes");
    const manager = swarmManager();
    const v1 = rendered({ ...definition, name: t.name }, t.dir, BASE_IMAGE);
    const up = await runAction(manager.actions.up, v1);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(await waitForLogs(v1, "shopper", ["token: 12 bytes", "<h1>shop v1</h1>"])).toBe(true);

    const web = definition.services.web ?? {};
    const v2 = rendered(
      {
        ...definition,
        name: t.name,
        services: {
          ...definition.services,
          web: { ...web, files: { "/srv/www/index.html": "<h1>shop v2</h1>\n" } },
        },
      } as DeploymentDefinition,
      t.dir,
      BASE_IMAGE,
    );
    const update = await runAction(manager.actions.up, v2);
    expect(update.exitCode, update.stderr).toBe(0);
    expect(await waitForLogs(v2, "shopper", ["<h1>shop v2</h1>"])).toBe(true);

    expect((await runAction(manager.actions.down, v2)).exitCode).toBe(0);
    expect(leftovers(t.name)).toEqual([]);
  }, 240_000);
});

describe("a stack on two swarm nodes (a second dockerd in its own network namespace)", () => {
  let node: SecondNode;
  let nodeId = "";
  const asked: { alone?: string; worker?: string } = {};

  /** What `status` says when DOCKER_HOST points at the second engine. */
  async function statusOnSecondNode(): Promise<string> {
    const c = rendered(
      { name: `${PREFIX}-node2`, use: use(), services: { a: { command: ["true"] } } },
      join(dir, "node2-status"),
      BASE_IMAGE,
    );
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = node.host;
    try {
      const r = await runFailingAction(swarmManager().actions.status, c);
      return `${r.error.code}: ${r.error.message}`;
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  }

  beforeAll(async () => {
    node = await startSecondNode(join(dir, "node2"), process.pid);
    asked.alone = await statusOnSecondNode();
    let addr = sh(["info", "--format", "{{.Swarm.NodeAddr}}"]).trim();
    if (initialisedHere) {
      // Made here for one node on 127.0.0.1, which the other namespace cannot reach.
      sh(["swarm", "leave", "--force"]);
      sh(["swarm", "init", "--advertise-addr", node.managerAddr]);
      addr = node.managerAddr;
    } else if (addr.startsWith("127.")) {
      throw new Error(
        `This engine was already in a swarm advertised on ${addr}, which a second node cannot reach; run the tests on an engine that is not in a swarm.`,
      );
    }
    const token = sh(["swarm", "join-token", "-q", "worker"]).trim();
    node.docker(["swarm", "join", "--advertise-addr", node.addr, "--token", token, `${addr}:2377`]);
    nodeId = node.docker(["info", "--format", "{{.Swarm.NodeID}}"]).trim();
    asked.worker = await statusOnSecondNode();
    // No registry: the base image is copied to the second engine as a registry would serve it.
    node.docker(
      ["load", "-q"],
      execFileSync("docker", ["save", BASE_IMAGE], { maxBuffer: 1 << 28 }),
    );
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    if (nodeId) spawnSync("docker", ["node", "rm", "--force", nodeId], { stdio: "ignore" });
  }, 120_000);

  it("says how to make a swarm when the engine is in none, and to use a manager on a worker", () => {
    expect(asked.alone).toMatch(
      /^MANAGE_SWARM_\w+: The Docker engine \S+ is not part of a swarm \(state: inactive\)\. Make it one with `docker swarm init`/,
    );
    expect(asked.worker).toMatch(
      /^MANAGE_SWARM_\w+: This Docker engine is a swarm worker; stacks are deployed through a manager node\./,
    );
  });

  it("spreads a service over both nodes, and a client on one reaches the replica on the other", async () => {
    const t = fresh();
    const c = rendered(
      {
        name: t.name,
        use: use(),
        managers: {
          swarm: {
            services: {
              web: { placement: { maxPerNode: 1 } },
              client: { placement: { constraints: ["node.role == manager"] } },
            },
          },
        },
        services: {
          web: {
            package: { image: BASE_IMAGE },
            command: ["sh", "-c", "mkdir -p /w && hostname > /w/id && exec httpd -f -p 8081 -h /w"],
            ports: { http: { port: 8081, hostPort: null } },
            replicas: 2,
            stop: { gracePeriod: 1 },
          },
          client: {
            package: { image: BASE_IMAGE },
            command: ["sh", "-c", 'while :; do wget -q -O - "http://$WEB/id"; sleep 0.5; done'],
            env: { WEB: ref.web?.address.http ?? "" },
            stop: { gracePeriod: 1 },
          },
        },
      },
      t.dir,
      BASE_IMAGE,
    );
    const manager = swarmManager();
    const up = await runAction(manager.actions.up, c);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stderr).toContain("2 node(s)");
    const web = (await history(t.name, "web")).filter((x) => x.desired === "running");
    expect(new Set(web.map((x) => x.node)).size).toBe(2);
    const hostnames = web.map((x) =>
      sh(["inspect", "--type", "task", "--format", "{{.Status.ContainerStatus.ContainerID}}", x.id])
        .trim()
        .slice(0, 12),
    );
    expect(await waitForLogs(c, "client", hostnames)).toBe(true);

    expect((await runAction(manager.actions.down, c)).exitCode).toBe(0);
    expect(leftovers(t.name)).toEqual([]);
    // `down` waits for what a manager node sees (services, networks, its own containers). The
    // worker removes its container of a removed task on its own, shortly after: waited for here,
    // bounded, so a container that stays still fails the test.
    const onWorker = () =>
      node.docker(["ps", "-aq", "--filter", `label=${STACK_LABEL}=${t.name}`]).trim();
    const until = Date.now() + 30_000;
    while (onWorker() !== "" && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
    expect(onWorker()).toBe("");
  }, 180_000);

  it("warns that built images exist on this node only, and up fails on the node without them", async () => {
    const t = fresh();
    const c = rendered(
      {
        name: t.name,
        use: use(),
        managers: { swarm: { services: { web: { placement: { maxPerNode: 1 } } } } },
        services: { web: { command: ["sleep", "600"], replicas: 2, stop: { gracePeriod: 1 } } },
      },
      t.dir,
      BASE_IMAGE,
    );
    const manager = swarmManager();
    try {
      const up = await runFailingAction(manager.actions.up, c);
      expect(up.stderr).toContain(
        "the swarm has 2 nodes, but the images built for web exist on this node only",
      );
      expect(up.error.message).toMatch(
        /Service `web` did not converge: task rejected: .*No such image/,
      );
    } finally {
      await runAction(manager.actions.down, c);
    }
    expect(leftovers(t.name)).toEqual([]);
  }, 180_000);
});

/** Whether the logs of `service` show every one of `texts` within 30 s. */
async function waitForLogs(
  c: ReturnType<typeof rendered>,
  service: string,
  texts: string[],
): Promise<boolean> {
  const manager = swarmManager();
  for (let i = 0; i < 60; i++) {
    const logs = await runAction(manager.actions.logs, {
      ...c,
      ctx: { ...c.ctx, args: [service] },
    });
    if (texts.every((x) => logs.stdout.includes(x))) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}
