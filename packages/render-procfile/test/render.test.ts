import type { Artifact } from "@nix2dream/core";
import {
  artifact,
  deploymentFixture,
  portFixture,
  serviceFixture,
  volumeFixture,
} from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import procfile, { PLAN_FILE, type ProcessPlan } from "../src/index.js";
import { shop } from "./fixtures/shop.js";
import { refs } from "./fixtures/values.js";

const render = (...args: Parameters<typeof deploymentFixture>) =>
  procfile().render(deploymentFixture(...args));
const planOf = (artifacts: readonly Artifact[]): ProcessPlan =>
  JSON.parse(artifact(artifacts, PLAN_FILE));
const cmd = { command: ["prog"] };

describe("procfile()", () => {
  it("is a renderer named procfile", () => {
    expect(procfile().name).toBe("procfile");
  });

  it("writes one Procfile line per service, sorted, in foreman's grammar", () => {
    const { artifacts } = render("d", [
      serviceFixture("web", cmd),
      serviceFixture("a_b-1", cmd),
      serviceFixture("Zed", cmd),
    ]);
    const text = artifact(artifacts, "Procfile");
    expect(text).toBe(
      "Zed: sh launchers/Zed.sh\na_b-1: sh launchers/a_b-1.sh\nweb: sh launchers/web.sh\n",
    );
    for (const line of text.trimEnd().split("\n"))
      expect(line).toMatch(/^([A-Za-z0-9_-]+):\s*(.+)$/);
  });

  it("skips disabled services", () => {
    const { artifacts } = render("d", [
      serviceFixture("on", cmd),
      serviceFixture("off", { ...cmd, enable: false }),
    ]);
    expect(artifact(artifacts, "Procfile")).toBe("on: sh launchers/on.sh\n");
  });

  it("reports service names foreman cannot parse as errors and renders the rest", () => {
    const { artifacts, diagnostics } = render("d", [
      serviceFixture("ok", cmd),
      serviceFixture("my.svc", cmd),
    ]);
    expect(artifact(artifacts, "Procfile")).toBe("ok: sh launchers/ok.sh\n");
    expect(diagnostics).toMatchObject([
      { severity: "error", option: "services.my.svc", service: "my.svc" },
    ]);
  });

  it("names replicas as foreman does and gives each its own PORT on the primary port", () => {
    const { artifacts } = render("d", [
      serviceFixture("api", {
        ...cmd,
        ports: { http: portFixture(8080), admin: portFixture(9000) },
        replicas: 3,
      }),
    ]);
    const plan = planOf(artifacts);
    expect(plan.processes.map((p) => [p.name, p.replica, p.env, p.ports])).toEqual([
      ["api", 1, { PORT: "8080", PS: "api.1" }, { admin: 9000, http: 8080 }],
      ["api.2", 2, { PORT: "8081", PS: "api.2" }, { admin: 9000, http: 8081 }],
      ["api.3", 3, { PORT: "8082", PS: "api.3" }, { admin: 9000, http: 8082 }],
    ]);
    expect(artifact(artifacts, ".foreman")).toContain('formation: "api=3"');
  });

  it("gives port-less processes foreman's PORT: 5000 + 100 × Procfile position + replica − 1", () => {
    const { artifacts } = render("d", [
      serviceFixture("a", { ...cmd, ports: { http: portFixture(7000) } }),
      serviceFixture("b", { ...cmd, replicas: 2 }),
    ]);
    expect(planOf(artifacts).processes.map((p) => [p.name, p.env.PORT])).toEqual([
      ["a", "7000"],
      ["b", "5100"],
      ["b.2", "5101"],
    ]);
  });

  it("leaves PORT out of the plan when the service sets env.PORT itself", () => {
    const { artifacts } = render("d", [
      serviceFixture("a", { ...cmd, env: { PORT: "1" }, ports: { x: portFixture(2) } }),
    ]);
    expect(planOf(artifacts).processes[0]?.env).toEqual({ PS: "a.1" });
  });

  it("plans the launcher as the command and its --exec mode as the exec prefix", () => {
    const plan = planOf(render("shop", [serviceFixture("api", cmd)]).artifacts);
    expect(plan).toMatchObject({
      version: 1,
      deployment: "shop",
      processes: [
        {
          name: "api",
          service: "api",
          command: ["sh", "launchers/api.sh"],
          execPrefix: ["sh", "launchers/api.sh", "--exec"],
        },
      ],
    });
  });

  it("resolves http and tcp probes to 127.0.0.1 and the replica's port number", () => {
    const timing = { interval: 1, timeout: 2, retries: 3, startPeriod: 4 };
    const { artifacts } = render("d", [
      serviceFixture("h", {
        ...cmd,
        ports: { web: portFixture(8000) },
        replicas: 2,
        healthcheck: { type: "http", port: "web", path: "/up", scheme: "https", ...timing },
      }),
      serviceFixture("t", {
        ...cmd,
        ports: { db: portFixture(5432) },
        healthcheck: { type: "tcp", port: "db", ...timing },
      }),
    ]);
    expect(planOf(artifacts).processes.map((p) => p.probe)).toEqual([
      { type: "http", host: "127.0.0.1", port: 8000, path: "/up", scheme: "https", ...timing },
      { type: "http", host: "127.0.0.1", port: 8001, path: "/up", scheme: "https", ...timing },
      { type: "tcp", host: "127.0.0.1", port: 5432, ...timing },
    ]);
  });

  it("resolves exec probes to plain argv, or to sh -c when a reference lives in the state dir", () => {
    const timing = { interval: 1, timeout: 2, retries: 3, startPeriod: 4 };
    const { artifacts } = render("d", [
      serviceFixture("a", {
        ...cmd,
        ports: { p: portFixture(1234) },
        healthcheck: {
          type: "exec",
          command: ["check", refs.address("a", "p"), "it's"],
          ...timing,
        },
      }),
      serviceFixture("b", {
        ...cmd,
        volumes: { v: volumeFixture("/v") },
        healthcheck: { type: "exec", command: ["test", "-d", refs.volume("b", "v")], ...timing },
      }),
    ]);
    expect(planOf(artifacts).processes.map((p) => p.probe)).toEqual([
      { type: "exec", command: ["check", "127.0.0.1:1234", "it's"], ...timing },
      {
        type: "exec",
        command: ["sh", "-c", `exec test -d "\${NIX2DREAM_STATE_DIR}"/b/volumes/v`],
        ...timing,
      },
    ]);
  });

  it("reports a reference to a missing service or port as an error, once each", () => {
    const { diagnostics } = render("d", [
      serviceFixture("a", {
        ...cmd,
        env: { X: refs.host("ghost"), Y: refs.host("ghost"), Z: refs.port("a", "nope") },
      }),
    ]);
    expect(diagnostics.map((d) => [d.severity, d.option, d.message])).toEqual([
      [
        "error",
        "services.a",
        "`ref.ghost.host` cannot be resolved: service `ghost` is not in the rendered deployment.",
      ],
      [
        "error",
        "services.a",
        "`ref.a.ports.nope` cannot be resolved: service `a` has no port `nope`.",
      ],
    ]);
  });

  it("keeps dependencies on rendered services and warns about the others", () => {
    const { artifacts, diagnostics } = render("d", [
      serviceFixture("a", cmd),
      serviceFixture("b", { ...cmd, dependsOn: { a: "healthy", gone: "started" } }),
    ]);
    expect(planOf(artifacts).processes[1]?.dependsOn).toEqual({ a: "healthy" });
    expect(diagnostics).toMatchObject([
      { severity: "warning", option: "services.b.dependsOn.gone" },
    ]);
  });

  it("writes the longest grace period as foreman's stop timeout", () => {
    const { artifacts } = render("d", [
      serviceFixture("a", { ...cmd, stop: { signal: "SIGTERM", gracePeriod: 3 } }),
      serviceFixture("b", { ...cmd, stop: { signal: "SIGTERM", gracePeriod: 42 } }),
    ]);
    expect(artifact(artifacts, ".foreman")).toBe(
      "# Defaults for `foreman start` run in this directory; generated by nix2dream.\n" +
        'formation: "a=1,b=1"\ntimeout: 42\n',
    );
  });

  it("names the defining files in diagnostics when the deployment knows them", () => {
    const { diagnostics } = procfile().render(
      deploymentFixture("d", [serviceFixture("a", { ...cmd, user: "root" })], {
        definitionFiles: { "services.a.user": ["/p/nix2dream.config.ts"] },
      }),
    );
    expect(diagnostics).toMatchObject([
      { option: "services.a.user", files: ["/p/nix2dream.config.ts"] },
    ]);
  });

  it("names the defining files in the launcher's diagnostics too (made by core's entrypoint)", () => {
    const { diagnostics } = procfile().render(
      deploymentFixture(
        "d",
        [
          serviceFixture("a", {
            ...cmd,
            env: { TOKEN: "plain" },
            secrets: { TOKEN: { fromEnv: "TOKEN", fromFile: null, required: true } },
          }),
        ],
        { definitionFiles: { "services.a.secrets.TOKEN": ["/p/secrets.ts"] } },
      ),
    );
    expect(diagnostics).toMatchObject([
      {
        severity: "warning",
        option: "services.a.secrets.TOKEN",
        service: "a",
        files: ["/p/secrets.ts"],
        message: expect.stringContaining("the secret wins"),
      },
    ]);
  });

  it("is byte-for-byte deterministic whatever the order of the input", () => {
    const once = procfile().render(shop);
    const reversed = {
      ...shop,
      services: Object.fromEntries(Object.entries(shop.services).reverse()),
    };
    expect(procfile().render(reversed)).toEqual(once);
    expect(procfile().render(shop)).toEqual(once);
  });
});

describe("fidelity diagnostics", () => {
  const cases: [string, Parameters<typeof serviceFixture>[1], string][] = [
    ["package.image", { package: { nix: null, image: "redis:7" } }, "services.s.package.image"],
    ["package.nix", { package: { nix: "nixpkgs#redis", image: null } }, "services.s.package.nix"],
    ["user", { user: "www" }, "services.s.user"],
    ["group", { group: "www" }, "services.s.group"],
    ["resources.cpu", { resources: { cpu: 0.5, memory: null } }, "services.s.resources.cpu"],
    [
      "resources.memory",
      { resources: { cpu: null, memory: "1Gi" } },
      "services.s.resources.memory",
    ],
    ["labels", { labels: { a: "b" } }, "services.s.labels"],
    [
      "volume size",
      { volumes: { v: volumeFixture("/v", { size: "1Gi" }) } },
      "services.s.volumes.v.size",
    ],
    [
      "hostPort",
      { ports: { p: portFixture(80, { hostPort: 8080 }) } },
      "services.s.ports.p.hostPort",
    ],
    [
      "files",
      { files: { "/etc/x": { text: "", source: null, mode: "0644" } } },
      'services.s.files."/etc/x"',
    ],
  ];

  it.each(cases)("warns that %s is not applied", (_, over, option) => {
    const { diagnostics } = render("d", [serviceFixture("s", { ...cmd, ...over })]);
    expect(diagnostics).toMatchObject([{ severity: "warning", option, service: "s" }]);
  });

  it("warns that replicas share volumes and non-primary ports", () => {
    const { diagnostics } = render("d", [
      serviceFixture("s", {
        ...cmd,
        replicas: 2,
        volumes: { v: volumeFixture("/v") },
        ports: { http: portFixture(80), other: portFixture(81) },
      }),
    ]);
    expect(diagnostics.map((d) => d.option)).toEqual([
      "services.s.volumes.v",
      "services.s.ports.other",
      "services.s.replicas",
    ]);
  });

  it("says nothing about a plain service", () => {
    expect(
      render("d", [serviceFixture("s", { ...cmd, ports: { p: portFixture(1, { expose: true }) } })])
        .diagnostics,
    ).toEqual([]);
  });

  it("reports a file path that escapes the state directory as an error", () => {
    const { diagnostics } = render("d", [
      serviceFixture("s", { ...cmd, files: { "../x": { text: "", source: null, mode: "0644" } } }),
    ]);
    expect(diagnostics.filter((d) => d.severity === "error").map((d) => d.option)).toEqual([
      'services.s.files."../x"',
    ]);
  });

  it("reports a volume name that cannot be a directory as an error", () => {
    const { artifacts, diagnostics } = render("d", [
      serviceFixture("s", { ...cmd, volumes: { "../x": volumeFixture("/x") } }),
    ]);
    expect(diagnostics.map((d) => [d.severity, d.option])).toEqual([
      ["error", 'services.s.volumes."../x"'],
    ]);
    expect(artifact(artifacts, "launchers/s.sh")).not.toContain("../x");
  });

  it("reports what foreman ignores only with { foreman: true }", () => {
    const s = serviceFixture("s", {
      ...cmd,
      ports: { p: portFixture(1) },
      dependsOn: { t: "started" },
      healthcheck: { type: "tcp", port: "p", interval: 1, timeout: 1, retries: 1, startPeriod: 0 },
      stop: { signal: "SIGINT", gracePeriod: 5 },
    });
    const d = deploymentFixture("d", [
      s,
      serviceFixture("t", {
        ...cmd,
        restart: { policy: "no", maxRetries: null, backoff: { initial: 1, factor: 2, max: 1 } },
      }),
    ]);
    expect(procfile().render(d).diagnostics).toEqual([]);
    expect(
      procfile({ foreman: true })
        .render(d)
        .diagnostics.map((x) => x.option),
    ).toEqual([
      "services.s.dependsOn",
      "services.s.healthcheck",
      "services.s.restart",
      "services.s.stop.signal",
    ]);
  });

  it("warns with { foreman: true } that a job others wait for stops everything when it exits", () => {
    const d = deploymentFixture("d", [
      serviceFixture("api", { ...cmd, dependsOn: { migrate: "completed" } }),
      serviceFixture("migrate", {
        ...cmd,
        restart: { policy: "no", maxRetries: null, backoff: { initial: 1, factor: 2, max: 1 } },
      }),
    ]);
    expect(procfile().render(d).diagnostics).toEqual([]);
    const job = procfile({ foreman: true })
      .render(d)
      .diagnostics.find((x) => x.service === "migrate");
    expect(job?.option).toBe("services.migrate.restart");
    expect(job?.message).toMatch(/foreman stops every process as soon as one exits/);
  });
});

describe("diagnostics name the file that defined the option", () => {
  it("names the module file for nested options such as services.api.resources.cpu", async () => {
    const { evaluateDeployment } = await import("@nix2dream/core");
    const { deployment } = evaluateDeployment(
      {
        name: "d",
        use: [procfile({ foreman: true })],
        services: { api: { command: ["api"] } },
        modules: [
          {
            file: "modules/api.ts",
            config: { services: { api: { resources: { cpu: 1 }, stop: { signal: "SIGINT" } } } },
          },
        ],
      },
      { file: "nix2dream.config.ts" },
    );
    const { diagnostics } = procfile({ foreman: true }).render(deployment);
    const filesOf = (option: string) => diagnostics.find((d) => d.option === option)?.files;
    expect(filesOf("services.api.resources.cpu")).toEqual(["modules/api.ts"]);
    expect(filesOf("services.api.stop.signal")).toEqual(["modules/api.ts"]);
  });

  it("finds them without building the deployment's whole definitionFiles record", async () => {
    const { evaluateDeployment } = await import("@nix2dream/core");
    const { deployment } = evaluateDeployment(
      {
        name: "d",
        use: [procfile()],
        services: { api: { command: ["api"] } },
        modules: [
          { file: "modules/api.ts", config: { services: { api: { resources: { cpu: 1 } } } } },
        ],
      },
      { file: "nix2dream.config.ts" },
    );
    const { diagnostics } = procfile().render(deployment);
    expect(diagnostics.map((d) => [d.option, d.files])).toEqual([
      ["services.api.resources.cpu", ["modules/api.ts"]],
    ]);
    // The record (135 000 paths at 5000 services) is built on first read: still a getter.
    const own = Object.getOwnPropertyDescriptor(deployment, "definitionFiles");
    expect(typeof own?.get).toBe("function");
  });
});
