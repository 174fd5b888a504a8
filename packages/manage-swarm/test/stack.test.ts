/**
 * The stack file the swarm manager makes from a real render-compose render (no engine needed),
 * and the manager's user errors that come before any engine is asked. What Swarm itself does with
 * the stack file is tested on a real swarm in `swarm.test.ts`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DeploymentDefinition } from "@nix2dream/core";
import compose from "@nix2dream/render-compose";
import { fileTempDir, runFailingAction } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import swarmManager, {
  convergenceOf,
  type ServiceState,
  type SwarmManagerSettings,
  stackFileOf,
  stackNameOf,
  type TaskState,
} from "../src/index.js";
import { rendered } from "./helpers.js";

const dir = fileTempDir("n2d-swarm-stack-");
const BASE = "n2d-swarm-unit-base:1";
let n = 0;

function stackOf(definition: DeploymentDefinition) {
  n += 1;
  const c = rendered(definition, join(dir, String(n)), BASE);
  const composeDoc = parse(readFileSync(join(c.ctx.artifactsDir, "compose.yaml"), "utf8"));
  const settings = c.ctx.deployment.managers.swarm as SwarmManagerSettings;
  const stack = stackFileOf(composeDoc, {
    deployment: c.ctx.deployment,
    settings,
    stack: "shop",
    renderDir: c.ctx.artifactsDir,
    readFile: (f) => {
      try {
        return readFileSync(f);
      } catch {
        return null;
      }
    },
  });
  const services = stack.doc.services as Record<string, Record<string, unknown>>;
  return { ...stack, services, c };
}

function deployOf(s: { services: Record<string, Record<string, unknown>> }, name: string) {
  return (s.services[name]?.deploy ?? {}) as Record<string, unknown>;
}

const use = () => [compose({ baseImage: BASE }), swarmManager()];

describe("the stack file", () => {
  it("drops build, restart and depends_on, saying that Swarm ignores dependsOn", () => {
    const s = stackOf({
      name: "shop",
      use: use(),
      services: {
        db: { command: ["sleep", "600"], restart: { policy: "always" } },
        api: {
          command: ["sleep", "600"],
          dependsOn: { db: "started" },
          restart: { policy: "on-failure", maxRetries: 4 },
        },
      },
    });
    const api = s.services.api ?? {};
    expect(Object.keys(api)).not.toContain("build");
    expect(Object.keys(api)).not.toContain("restart");
    expect(Object.keys(api)).not.toContain("depends_on");
    expect(api.deploy).toMatchObject({
      restart_policy: { condition: "on-failure", max_attempts: 4, delay: "1s" },
    });
    expect(deployOf(s, "db").restart_policy).toEqual({
      condition: "any",
      delay: "1s",
    });
    expect(s.builds.map((b) => [b.service, b.image.split(":")[0], b.context, b.pushAs])).toEqual([
      ["api", "shop-api", join(s.c.ctx.artifactsDir, "build", "api"), null],
      ["db", "shop-db", join(s.c.ctx.artifactsDir, "build", "db"), null],
    ]);
    expect(s.diagnostics.map((d) => [d.option, d.message])).toEqual([
      [
        "services.api.dependsOn",
        "Swarm ignores `dependsOn` (db: started): every service starts at once. `api` must retry until what it needs answers; its restart policy and the healthchecks settle the order.",
      ],
    ]);
  });

  it("turns a one-shot service into restart condition none", () => {
    const s = stackOf({
      name: "shop",
      use: use(),
      services: { job: { command: ["true"], restart: "no" } },
    });
    expect(deployOf(s, "job").restart_policy).toMatchObject({
      condition: "none",
    });
  });

  it("renders replicas, resources, endpoint mode, placement and the update and rollback policies", () => {
    const s = stackOf({
      name: "shop",
      use: use(),
      managers: {
        swarm: {
          placement: { constraints: ["node.role == manager"] },
          update: { parallelism: 2, delay: 1.5, order: "start-first" },
          services: {
            api: {
              endpointMode: "vip",
              placement: { spread: ["node.labels.zone"], maxPerNode: 1 },
            },
          },
        },
      },
      services: {
        api: { command: ["sleep", "600"], replicas: 3, resources: { cpu: 0.5, memory: "64Mi" } },
        web: { command: ["sleep", "600"] },
      },
    });
    expect(s.services.api?.deploy).toEqual({
      mode: "replicated",
      replicas: 3,
      resources: { limits: { cpus: "0.5", memory: "64m" } },
      endpoint_mode: "vip",
      update_config: {
        parallelism: 2,
        delay: "1500ms",
        order: "start-first",
        failure_action: "rollback",
        monitor: "5s",
      },
      rollback_config: {
        parallelism: 1,
        delay: "0s",
        order: "stop-first",
        failure_action: "pause",
        monitor: "5s",
      },
      restart_policy: { condition: "on-failure", delay: "1s" },
      placement: {
        constraints: ["node.role == manager"],
        preferences: [{ spread: "node.labels.zone" }],
        max_replicas_per_node: 1,
      },
    });
    expect(deployOf(s, "web").endpoint_mode).toBe("dnsrr");
  });

  it("publishes only exposed ports, in host mode, and says why a loopback host port is not", () => {
    const s = stackOf({
      name: "shop",
      use: use(),
      services: {
        web: {
          command: ["sleep", "600"],
          ports: {
            http: 8080,
            admin: { port: 9000, hostPort: 19000 },
            dns: { port: 53, protocol: "udp", expose: true },
          },
        },
      },
    });
    expect(s.services.web?.ports).toEqual([
      { target: 53, protocol: "udp", mode: "host", published: 53 },
    ]);
    expect(s.diagnostics.map((d) => [d.option, d.message])).toEqual([
      [
        "services.web.ports.admin.hostPort",
        expect.stringMatching(/^Not published: Swarm publishes a port on every interface/),
      ],
    ]);
  });

  it("makes files swarm configs and secret files swarm secrets, named by content", () => {
    const secret = join(dir, "token");
    writeFileSync(secret, "one");
    const definition = (page: string): DeploymentDefinition => ({
      name: "shop",
      use: use(),
      services: {
        web: {
          command: ["sleep", "600"],
          files: { "/srv/www/index.html": { text: page, mode: "0640" } },
          secrets: { TOKEN: { fromFile: secret } },
        },
      },
    });
    const a = stackOf(definition("v1"));
    const [key] = Object.keys(a.doc.configs as object);
    expect(a.services.web?.configs).toEqual([
      { source: key, target: "/srv/www/index.html", mode: 0o640 },
    ]);
    expect(a.services.web?.volumes).toBeUndefined();
    expect(a.objects.configs).toEqual([
      expect.stringMatching(/^shop_web-index\.html-[0-9a-f]{12}$/),
    ]);
    expect(a.objects.secrets).toEqual([expect.stringMatching(/^shop_web_TOKEN-[0-9a-f]{12}$/)]);

    const b = stackOf(definition("v2"));
    expect(b.objects.configs).not.toEqual(a.objects.configs);
    expect(b.objects.secrets).toEqual(a.objects.secrets);
    writeFileSync(secret, "two");
    expect(stackOf(definition("v2")).objects.secrets).not.toEqual(a.objects.secrets);
  });

  it("warns that a persistent volume is node-local unless the service is pinned", () => {
    const definition = (constraints: string[]): DeploymentDefinition => ({
      name: "shop",
      use: use(),
      managers: { swarm: { services: { db: { placement: { constraints } } } } },
      services: { db: { command: ["sleep", "600"], volumes: { data: { path: "/var/lib/db" } } } },
    });
    expect(stackOf(definition([])).diagnostics.map((d) => [d.option, d.message])).toEqual([
      ["services.db.volumes", expect.stringContaining("is local to the node that runs the task")],
    ]);
    expect(stackOf(definition(["node.hostname == db1"])).diagnostics).toEqual([]);
  });

  it("tags built images for the registry when one is set", () => {
    const s = stackOf({
      name: "shop",
      use: use(),
      managers: { swarm: { registry: "registry.example:5000/shop/" } },
      services: { api: { command: ["sleep", "600"] } },
    });
    const [b] = s.builds;
    expect(b?.pushAs).toBe(`registry.example:5000/shop/${b?.image}`);
    expect(s.services.api?.image).toBe(b?.pushAs);
  });

  it("fails in one paragraph when a secret file is missing", () => {
    expect(() =>
      stackOf({
        name: "shop",
        use: use(),
        services: {
          api: {
            command: ["sleep", "1"],
            secrets: { TOKEN: { fromFile: "/nonexistent/n2d-token" } },
          },
        },
      }),
    ).toThrow(
      'The secret file "/nonexistent/n2d-token" (services.api.secrets.TOKEN.fromFile) does not exist',
    );
  });
});

describe("convergence", () => {
  const service: ServiceState = {
    id: "s1",
    name: "shop_api",
    service: "api",
    replicas: 2,
    image: "x",
    restart: "any",
    update: null,
    ports: [],
  };
  const task = (over: Partial<TaskState>): TaskState => ({
    id: "t",
    serviceId: "s1",
    name: "shop_api.1",
    slot: 1,
    node: "n",
    desired: "running",
    state: "running",
    error: "",
    exitCode: null,
    createdAt: "2026-01-01T00:00:00Z",
    since: "2026-01-01T00:00:01Z",
    ...over,
  });

  it("counts a service converged when as many tasks run as it has replicas", () => {
    const running = [task({}), task({ id: "u", slot: 2 })];
    expect(convergenceOf(service, running, [], null)).toEqual({
      state: "converged",
      reason: "2/2 running",
    });
    expect(convergenceOf(service, [task({ state: "starting" }), task({})], [], null).state).toBe(
      "waiting",
    );
  });

  it("waits while an update runs and fails when it was rolled back, unless that was before the deploy", () => {
    const running = [task({}), task({ id: "u", slot: 2 })];
    const rolled = { state: "rollback_completed", startedAt: "T1", message: "update rolled back" };
    expect(
      convergenceOf({ ...service, update: { ...rolled, state: "updating" } }, running, [], null)
        .state,
    ).toBe("waiting");
    expect(convergenceOf({ ...service, update: rolled }, running, [], null)).toEqual({
      state: "failed",
      reason: "the update failed and was rolled back (update rolled back)",
    });
    expect(convergenceOf({ ...service, update: rolled }, running, [], "T1").state).toBe(
      "converged",
    );
    expect(convergenceOf({ ...service, update: rolled }, [task({})], [], null)).toEqual({
      state: "waiting",
      reason: "rolling back, 1/2 running",
    });
  });

  it("fails on a rejected task at once and on the third failed one", () => {
    const rejected = task({ state: "rejected", error: "No such image: x" });
    expect(convergenceOf(service, [rejected], [rejected], null).reason).toBe(
      "task rejected: No such image: x",
    );
    const failed = task({ state: "failed", error: "task: non-zero exit (1)" });
    expect(convergenceOf(service, [failed], [failed, failed], null).state).toBe("waiting");
    expect(convergenceOf(service, [failed], [failed, failed, failed], null).state).toBe("failed");
  });

  it("leaves failed tasks to Swarm's update controller while an update runs", () => {
    const failed = task({ state: "failed", error: "task: non-zero exit (143)" });
    const three = [failed, failed, failed];
    for (const state of ["updating", "rollback_started"]) {
      const updating = { ...service, update: { state, startedAt: "T2", message: "" } };
      expect(convergenceOf(updating, [task({})], three, "T1")).toEqual({
        state: "waiting",
        reason: `${state}, 1/2 running`,
      });
    }
    const done = { ...service, update: { state: "completed", startedAt: "T2", message: "" } };
    expect(convergenceOf(done, [task({})], three, "T1").state).toBe("failed");
  });
});

describe("user errors before the engine is asked", () => {
  it("derives a stack name from the deployment name", () => {
    expect(stackNameOf("Shop.Staging_1")).toBe("shopstaging_1");
    expect(stackNameOf("--x")).toBe("x");
  });

  it("refuses to act without a compose render, saying how to make one", async () => {
    const c = rendered(
      { name: "shop", use: use(), services: { a: { command: ["true"] } } },
      join(dir, "norender"),
      BASE,
    );
    const r = await runFailingAction(swarmManager().actions.up, {
      ...c,
      ctx: { ...c.ctx, artifactsDir: join(dir, "nowhere") },
    });
    expect(r.error.source).toBe("manager swarm");
    expect(r.error.message).toMatch(/^There is no compose file at .*nix2dream render compose/);
    expect(r.stderr).toBe("");
  });

  it("names an unknown service under managers.swarm.services and the file that set it", async () => {
    const c = rendered(
      {
        name: "shop",
        use: use(),
        managers: { swarm: { services: { wbe: { endpointMode: "vip" } } } },
        services: { web: { command: ["true"] } },
      },
      join(dir, "unknown"),
      BASE,
    );
    const r = await runFailingAction(swarmManager().actions.up, c);
    expect(r.error.message).toBe(
      `\`managers.swarm.services\` names \`wbe\`, which is not a service of \`shop\` (services: web). Fix the name or remove the entry (defined in ${join(dir, "unknown", "nix2dream.config.ts")}).`,
    );
  });

  it("refuses stop with the reason (no stopped state in a swarm) and what to do instead", async () => {
    const c = rendered(
      { name: "shop", use: use(), services: { a: { command: ["true"] } } },
      join(dir, "stop"),
      BASE,
    );
    const r = await runFailingAction(swarmManager().actions.stop, {
      ...c,
      ctx: { ...c.ctx, args: ["a"] },
    });
    expect(r.error.code).toBe("MANAGE_SWARM_UNSUPPORTED");
    expect(r.error.message).toMatch(/^A swarm service has no stopped state/);
    expect(r.error.hint).toContain("`replicas: 0`");
  });

  it("says clearly when no Docker engine answers", { tags: ["docker"] }, async () => {
    const c = rendered(
      { name: "shop", use: use(), services: { a: { command: ["true"] } } },
      join(dir, "noengine"),
      BASE,
    );
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = "unix:///nonexistent/n2d-swarm.sock";
    try {
      const r = await runFailingAction(swarmManager().actions.ps, c);
      expect(r.error.message).toMatch(/^No Docker engine answers \(`docker info` failed/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
