import { type DeploymentDefinition, evaluateDeployment, ref } from "@nix2dream/core";
import { artifact } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import compose, { COMPOSE_FILE, deepMerge, quantityBytes } from "../src/index.js";
import { HOSTILE, shop, shopDefinition } from "./fixtures/shop.js";

type Doc = { services: Record<string, Record<string, unknown>>; [k: string]: unknown };
const serviceOf = (doc: Doc, name: string): Record<string, unknown> => doc.services[name] ?? {};

function renderOf(definition: DeploymentDefinition) {
  const { deployment } = evaluateDeployment(definition, { file: "nix2dream.config.ts" });
  return compose({ baseImage: "busybox:stable" }).render(deployment);
}
function docOf(definition: DeploymentDefinition): Doc {
  return parse(artifact(renderOf(definition).artifacts, COMPOSE_FILE), { version: "1.1" }) as Doc;
}
const one = (service: Record<string, unknown>) =>
  ({ name: "t", use: [compose()], services: { svc: service } }) as DeploymentDefinition;

describe("compose render", () => {
  it("is byte-for-byte identical across renders", () => {
    const a = compose().render(shop);
    const b = compose().render(shop);
    expect(b).toEqual(a);
  });

  it("does not depend on the order services and env are written in", () => {
    const reversed = {
      ...shopDefinition,
      services: Object.fromEntries(Object.entries(shopDefinition.services).reverse()),
    } as DeploymentDefinition;
    const a = artifact(renderOf(shopDefinition).artifacts, COMPOSE_FILE);
    const b = artifact(renderOf(reversed).artifacts, COMPOSE_FILE);
    expect(b).toBe(a);
  });

  it("resolves references to service names and container ports", () => {
    const doc = docOf(shopDefinition);
    const env = serviceOf(doc, "api").environment as Record<string, string>;
    expect(env.DATABASE_URL).toBe("postgres://app@db:5432/shop");
    expect(serviceOf(doc, "migrate").environment).toMatchObject({
      DATABASE_URL: "postgres://app@db:5432/shop",
    });
  });

  it("mounts another service's persistent volume and file where a reference needs them", () => {
    const result = renderOf({
      name: "t",
      use: [compose()],
      services: {
        api: {
          command: ["true"],
          volumes: { data: { path: "/var/lib/api", persistent: true } },
          files: { "/etc/api.json": "{}" },
        },
        migrate: {
          command: ["true"],
          env: {
            DATA: `${ref.api?.volumes.data}/db`,
            CONF: ref.api?.files["/etc/api.json"] ?? "",
          },
        },
      },
    } as DeploymentDefinition);
    const doc = parse(artifact(result.artifacts, COMPOSE_FILE), { version: "1.1" }) as Doc;
    expect(serviceOf(doc, "migrate").volumes).toEqual([
      {
        type: "bind",
        source: "./files/api/etc/api.json",
        target: "/etc/api.json",
        read_only: true,
      },
      { type: "volume", source: "api_data", target: "/var/lib/api" },
    ]);
    expect(serviceOf(doc, "migrate").environment).toMatchObject({
      DATA: "/var/lib/api/db",
      CONF: "/etc/api.json",
    });
    expect(result.diagnostics.filter((x) => x.severity === "error")).toEqual([]);
  });

  it("refuses to share another service's tmpfs volume", () => {
    const result = renderOf({
      name: "t",
      use: [compose()],
      services: {
        api: { command: ["true"], volumes: { scratch: { path: "/tmp/s", persistent: false } } },
        worker: { command: ["true"], env: { S: ref.api?.volumes.scratch ?? "" } },
      },
    } as DeploymentDefinition);
    const errors = result.diagnostics.filter((x) => x.severity === "error");
    expect(errors.map((x) => x.message)).toEqual([
      expect.stringContaining("`ref.api.volumes.scratch` is a tmpfs of another container"),
    ]);
  });

  it("escapes every $ as $$ so Compose does not interpolate user values", () => {
    const doc = docOf(shopDefinition);
    const env = serviceOf(doc, "api").environment as Record<string, string>;
    expect(env.MOTD).toBe(HOSTILE.split("$").join("$$"));
    expect((serviceOf(doc, "api").labels as Record<string, string>)["com.example.note"]).toBe(
      HOSTILE.split("$").join("$$"),
    );
  });

  it("keeps yes/no-like and number-like strings as strings for YAML 1.1 readers", () => {
    const text = artifact(renderOf(shopDefinition).artifacts, COMPOSE_FILE);
    expect(text).toContain('"NO": "no"');
    expect(text).toContain('OCTAL: "0755"');
    expect(text).toContain('restart: "no"');
  });

  it("never writes a secret's value: secrets pass through by name from the caller's environment", () => {
    const doc = docOf(shopDefinition);
    expect(serviceOf(doc, "migrate").environment).toMatchObject({ SHOP_DB_PASSWORD: null });
    expect(serviceOf(doc, "db").secrets).toEqual([
      { source: "db_POSTGRES_PASSWORD", target: "/run/secrets/db_POSTGRES_PASSWORD" },
    ]);
    expect(doc.secrets).toEqual({ db_POSTGRES_PASSWORD: { file: "/etc/shop/pg-password" } });
  });

  it("interpolates a renamed secret for a ready image instead of writing it", () => {
    const doc = docOf(
      one({ package: { image: "x:1" }, secrets: { TOKEN: { fromEnv: "MY_TOKEN" } } }),
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation, not a template
    expect(serviceOf(doc, "svc").environment).toEqual({ TOKEN: "${MY_TOKEN}" });
  });

  it("binds ports to 127.0.0.1 unless they are exposed", () => {
    const doc = docOf(shopDefinition);
    expect(serviceOf(doc, "api").ports).toEqual(["18080:8080/tcp", "127.0.0.1:9090:9090/tcp"]);
  });

  it("gives replicas free host ports with a warning", () => {
    const { artifacts, diagnostics } = compose().render(shop);
    const doc = parse(artifact(artifacts, COMPOSE_FILE)) as Doc;
    expect(serviceOf(doc, "worker").ports).toEqual(["127.0.0.1::7070/tcp"]);
    expect(serviceOf(doc, "worker").deploy).toEqual({ replicas: 2 });
    expect(diagnostics.some((d) => d.option === "services.worker.ports.probe")).toBe(true);
  });

  it("uses named volumes for persistent volumes and tmpfs for the rest", () => {
    const doc = docOf(shopDefinition);
    expect(doc.volumes).toEqual({ db_data: {} });
    expect(serviceOf(doc, "db").volumes).toEqual([
      { type: "volume", source: "db_data", target: "/var/lib/postgresql/data" },
    ]);
    expect((serviceOf(doc, "api").volumes as unknown[])[0]).toEqual({
      type: "tmpfs",
      target: "/srv/uploads",
      tmpfs: { size: 64 * 2 ** 20 },
    });
  });

  it("bind-mounts rendered files read-only with their mode and references resolved", () => {
    const { artifacts } = compose().render(shop);
    const file = artifacts.find((a) => a.path === "files/api/etc/api/app.json");
    expect(file?.content).toBe('{"db": "db:5432", "motd": "it\'s $HOME"}\n');
    expect(file?.mode).toBe(0o640);
    const doc = parse(artifact(artifacts, COMPOSE_FILE)) as Doc;
    expect((serviceOf(doc, "api").volumes as unknown[])[1]).toEqual({
      type: "bind",
      source: "./files/api/etc/api/app.json",
      target: "/etc/api/app.json",
      read_only: true,
    });
  });

  it("copies source files into the render (host-file artifacts) and mounts the copies by relative paths", () => {
    const { deployment } = evaluateDeployment(
      {
        name: "t",
        use: [compose()],
        services: {
          api: {
            command: ["true"],
            files: { "/etc/app.conf": { source: "conf/app.conf", mode: "0600" } },
          },
          worker: { command: ["cat", ref.api?.files["/etc/app.conf"] ?? ""] },
        },
      },
      { file: "/srv/project/nix2dream.config.ts" },
    );
    const { artifacts, diagnostics } = compose().render(deployment);
    expect(diagnostics.filter((d) => d.option.includes("files"))).toEqual([]);
    expect(artifacts.find((a) => a.path === "files/api/etc/app.conf")).toEqual({
      path: "files/api/etc/app.conf",
      source: "/srv/project/conf/app.conf",
      mode: 0o600,
      origin: {
        option: 'services.api.files."/etc/app.conf".source',
        files: ["/srv/project/nix2dream.config.ts"],
      },
    });
    const doc = parse(artifact(artifacts, COMPOSE_FILE)) as Doc;
    const mount = {
      type: "bind",
      source: "./files/api/etc/app.conf",
      target: "/etc/app.conf",
      read_only: true,
    };
    expect(serviceOf(doc, "api").volumes).toEqual([mount]);
    expect(serviceOf(doc, "worker").volumes).toEqual([mount]);
  });

  it("refuses a relative source when the deployment has no config directory", () => {
    const { deployment } = evaluateDeployment({
      name: "t",
      use: [compose()],
      services: { api: { command: ["true"], files: { "/etc/a": { source: "a.conf" } } } },
    });
    const { artifacts, diagnostics } = compose().render(deployment);
    expect(diagnostics).toContainEqual(
      expect.objectContaining({
        severity: "error",
        option: 'services.api.files."/etc/a".source',
      }),
    );
    expect(artifacts.map((a) => a.path)).not.toContain("files/api/etc/a");
  });

  it("builds services without an image from the base image with the launcher as entrypoint", () => {
    const { artifacts } = compose({ baseImage: "n2d-compose-busybox:test" }).render(shop);
    const dockerfile = artifact(artifacts, "build/api/Dockerfile");
    expect(dockerfile).toContain("FROM busybox:stable");
    expect(dockerfile).toContain('ENTRYPOINT ["/bin/sh","/nix2dream/entrypoint.sh"]');
    const doc = parse(artifact(artifacts, COMPOSE_FILE)) as Doc;
    expect(serviceOf(doc, "api").build).toEqual({ context: "./build/api" });
    expect(serviceOf(doc, "api").image).toMatch(/^shop-api:[0-9a-f]{16}$/);
    expect(artifact(artifacts, "build/api/entrypoint.sh")).toContain("exec httpd -f -p 8080");
  });

  it("builds from the factory's baseImage when the renderer was not in `use` at evaluation", () => {
    const { deployment } = evaluateDeployment({
      name: "t",
      services: { api: { command: ["true"] } },
    });
    const { artifacts } = compose({ baseImage: "n2d-compose-busybox:test" }).render(deployment);
    expect(artifact(artifacts, "build/api/Dockerfile")).toContain("FROM n2d-compose-busybox:test");
  });

  it("changes the image tag when the service's launcher changes", () => {
    const a = serviceOf(docOf(one({ command: ["sleep", "1"] })), "svc").image;
    const b = serviceOf(docOf(one({ command: ["sleep", "2"] })), "svc").image;
    expect(a).not.toBe(b);
  });

  it("runs a ready image's own entrypoint with command and args", () => {
    const doc = docOf(shopDefinition);
    expect(serviceOf(doc, "db").image).toBe("postgres:16");
    expect(serviceOf(doc, "db").command).toEqual([
      "postgres",
      "-c",
      "listen_addresses=*",
      "-p",
      "5432",
    ]);
    expect(serviceOf(doc, "db").build).toBeUndefined();
  });

  it("turns http and tcp healthchecks into wget and nc commands", () => {
    const doc = docOf(shopDefinition);
    expect(serviceOf(doc, "api").healthcheck).toEqual({
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"],
      interval: "500ms",
      timeout: "1500ms",
      retries: 3,
      start_period: "30s",
    });
    expect((serviceOf(doc, "worker").healthcheck as { test: string[] }).test).toEqual([
      "CMD-SHELL",
      "nc -w 1 127.0.0.1 7070 </dev/null",
    ]);
  });

  it("uses curl when the image has curl but no wget", () => {
    const doc = docOf(
      one({
        ports: { http: 80 },
        healthcheck: { port: "http", path: "/" },
        renderers: { compose: { probeTools: ["curl"] } },
      }),
    );
    expect((serviceOf(doc, "svc").healthcheck as { test: string[] }).test).toEqual([
      "CMD",
      "curl",
      "-fsS",
      "-o",
      "/dev/null",
      "http://127.0.0.1:80/",
    ]);
  });

  it("reports an error when the image cannot run an http healthcheck", () => {
    const { diagnostics, artifacts } = renderOf(
      one({
        ports: { http: 80 },
        healthcheck: { port: "http", path: "/" },
        renderers: { compose: { probeTools: ["nc"] } },
      }),
    );
    expect(diagnostics).toContainEqual(
      expect.objectContaining({ severity: "error", option: "services.svc.healthcheck" }),
    );
    expect(
      serviceOf(parse(artifact(artifacts, COMPOSE_FILE)) as Doc, "svc").healthcheck,
    ).toBeUndefined();
  });

  it("warns that a ready image must provide the probe program", () => {
    const { diagnostics } = renderOf(
      one({ package: { image: "nginx:1" }, ports: { http: 80 }, healthcheck: { port: "http" } }),
    );
    expect(diagnostics).toContainEqual(
      expect.objectContaining({ severity: "warning", option: "services.svc.healthcheck" }),
    );
  });

  it("maps dependency conditions to Compose conditions", () => {
    const doc = docOf(shopDefinition);
    expect(serviceOf(doc, "api").depends_on).toEqual({
      db: { condition: "service_healthy" },
      migrate: { condition: "service_completed_successfully" },
    });
    expect(serviceOf(doc, "worker").depends_on).toEqual({ api: { condition: "service_started" } });
  });

  it("renders restart, stop, resources, user, working_dir, labels and init", () => {
    const doc = docOf(shopDefinition);
    expect(doc.services.db).toMatchObject({
      restart: "on-failure",
      stop_signal: "SIGINT",
      stop_grace_period: "30s",
      deploy: { resources: { limits: { cpus: "1.5", memory: "512m" } } },
      user: "postgres",
      init: true,
    });
    expect(doc.services.worker).toMatchObject({ restart: "on-failure:3", user: "nobody:nogroup" });
    expect(doc.services.api).toMatchObject({ working_dir: "/srv/api", labels: { team: "shop" } });
  });

  it("deep-merges the per-service and deployment-wide overrides, null deleting a key", () => {
    const doc = docOf(shopDefinition);
    expect(serviceOf(doc, "api").cap_add).toEqual(["NET_ADMIN"]);
    expect(serviceOf(doc, "api").init).toBeUndefined();
    expect(doc.networks).toEqual({ default: { name: "shop-net" } });
  });

  it("reports what Compose cannot express as diagnostics", () => {
    const { diagnostics } = compose().render(shop);
    const options = diagnostics.map((d) => d.option);
    expect(options).toContain("services.db.volumes.data.size");
    const { diagnostics: more } = renderOf(
      one({
        package: { image: "x:1" },
        preStart: "echo hi",
        group: "g",
        restart: { policy: "always", maxRetries: 2, backoff: { initial: 5 } },
      }),
    );
    expect(more.map((d) => d.option).sort()).toEqual([
      "services.svc.group",
      "services.svc.preStart",
      "services.svc.restart.backoff",
      "services.svc.restart.maxRetries",
    ]);
  });

  it("rejects a file path that is not absolute", () => {
    const { diagnostics } = renderOf(one({ command: ["true"], files: { "etc/x": "x" } }));
    expect(diagnostics).toContainEqual(
      expect.objectContaining({ severity: "error", option: 'services.svc.files."etc/x"' }),
    );
  });
});

describe("helpers", () => {
  it("deepMerge merges objects, replaces lists and deletes on null", () => {
    expect(deepMerge({ a: { b: 1, c: [1] }, d: 1 }, { a: { c: [2] }, d: null })).toEqual({
      a: { b: 1, c: [2] },
    });
  });

  it("quantityBytes reads binary and decimal suffixes", () => {
    expect(quantityBytes("1Gi")).toBe(2 ** 30);
    expect(quantityBytes("500M")).toBe(5e8);
    expect(quantityBytes("12")).toBe(12);
    expect(quantityBytes("lots")).toBeNull();
  });
});
