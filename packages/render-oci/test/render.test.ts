import { ref } from "@nix2dream/core";
import { artifact, HOSTILE } from "@nix2dream/testkit";
import { DockerfileParser } from "dockerfile-ast";
import { describe, expect, it } from "vitest";
import oci, { IMAGES_FILE, type ImagesManifest } from "../src/index.js";
import { evaluate, render } from "./helpers.js";

const manifestOf = (r: ReturnType<typeof render>): ImagesManifest =>
  JSON.parse(artifact(r.artifacts, IMAGES_FILE));
const cmd = { command: ["/bin/app"] };

describe("oci()", () => {
  it("is a renderer named oci with service and deployment options", () => {
    const r = oci();
    expect(r.name).toBe("oci");
    expect(r.serviceModule).toBeDefined();
    expect(r.deploymentModule).toBeDefined();
  });

  it("writes a build context per service without an image, and lists image services as external", () => {
    const r = render({
      name: "shop",
      services: { api: cmd, web: cmd, db: { package: { image: "postgres:16" } } },
    });
    expect(r.artifacts.map((a) => a.path)).toEqual([
      "api/Dockerfile",
      "api/entrypoint.sh",
      "web/Dockerfile",
      "web/entrypoint.sh",
      "images.json",
    ]);
    const m = manifestOf(r);
    expect(Object.keys(m.images)).toEqual(["api", "web"]);
    expect(m.external).toEqual({ db: "postgres:16" });
    expect(m.images.api?.context).toBe("api");
    expect(r.diagnostics).toEqual([]);
  });

  it("renders byte-identical output for the same deployment", () => {
    const def = {
      name: "shop",
      services: { b: { ...cmd, env: { X: "1", A: "2" } }, a: cmd },
    };
    const one = render(def);
    const two = render(def);
    expect(two.artifacts).toEqual(one.artifacts);
  });

  it("tags each image <deployment>-<service>:<12 hex of its hash>, stable for the same content", () => {
    const a = manifestOf(render({ name: "shop", services: { api: { ...cmd, env: { A: "1" } } } }));
    const b = manifestOf(render({ name: "shop", services: { api: { ...cmd, env: { A: "1" } } } }));
    const c = manifestOf(render({ name: "shop", services: { api: { ...cmd, env: { A: "2" } } } }));
    const tag = a.images.api?.tags[0] as string;
    expect(tag).toMatch(/^shop-api:[0-9a-f]{12}$/);
    expect(tag.slice(-12)).toBe(a.images.api?.hash.slice(0, 12));
    expect(b.images.api?.tags).toEqual(a.images.api?.tags);
    expect(c.images.api?.tags[0]).not.toBe(tag);
  });

  it("changes the tag when only a label changes, since labels are part of the image", () => {
    const a = manifestOf(
      render({ name: "shop", services: { api: { ...cmd, labels: { x: "1" } } } }),
    );
    const b = manifestOf(
      render({ name: "shop", services: { api: { ...cmd, labels: { x: "2" } } } }),
    );
    expect(a.images.api?.tags[0]).not.toBe(b.images.api?.tags[0]);
    expect(a.images.api?.labels).toEqual({
      "org.nix2dream.deployment": "shop",
      "org.nix2dream.service": "api",
      x: "1",
    });
  });

  it("adds extra tags on the main repository or as full references, and rejects bad ones", () => {
    const r = render({
      name: "shop",
      renderers: { oci: { repository: "registry.local:5000/team/" } },
      services: {
        api: {
          ...cmd,
          renderers: {
            oci: {
              extraImageTags: ["latest", "other.reg/x/api:v1", "bad tag", "UP/x:y", "latest"],
            },
          },
        },
      },
    });
    const tags = manifestOf(r).images.api?.tags ?? [];
    expect(tags[0]).toMatch(/^registry\.local:5000\/team\/shop-api:[0-9a-f]{12}$/);
    expect(tags.slice(1)).toEqual([
      "registry.local:5000/team/shop-api:latest",
      "other.reg/x/api:v1",
    ]);
    expect(r.diagnostics.map((d) => [d.severity, d.option])).toEqual([
      ["error", "services.api.renderers.oci.extraImageTags.2"],
      ["error", "services.api.renderers.oci.extraImageTags.3"],
    ]);
  });

  it("lowercases repository names and says so", () => {
    const r = render({ name: "Shop", services: { Api_1: cmd } });
    expect(manifestOf(r).images.Api_1?.tags[0]).toMatch(/^shop-api-1:/);
    expect(r.diagnostics).toEqual([
      expect.objectContaining({ severity: "warning", option: "services.Api_1" }),
    ]);
  });

  it("takes the base image from the service, then the deployment, then the renderer option", () => {
    const from = (r: ReturnType<typeof render>, svc: string) =>
      artifact(r.artifacts, `${svc}/Dockerfile`).split("\n")[1];
    const byFactory = render({ name: "d", services: { a: cmd } }, { baseImage: "base:factory" });
    expect(from(byFactory, "a")).toBe("FROM base:factory");
    expect(from(render({ name: "d", services: { a: cmd } }), "a")).toBe("FROM busybox:stable");
    const r = render(
      {
        name: "d",
        renderers: { oci: { baseImage: "base:deployment" } },
        services: { a: cmd, b: { ...cmd, renderers: { oci: { baseImage: "base:service" } } } },
      },
      { baseImage: "base:factory" },
    );
    expect(from(r, "a")).toBe("FROM base:deployment");
    expect(from(r, "b")).toBe("FROM base:service");
    expect(manifestOf(r).images.b?.baseImage).toBe("base:service");
  });

  it("resolves references to service names and container ports", () => {
    const r = render({
      name: "shop",
      services: {
        db: { ...cmd, ports: { pg: { port: 5432, hostPort: 15432 } } },
        api: { ...cmd, env: { URL: `postgres://${ref.db?.host}:${ref.db?.ports.pg}/x` } },
      },
    });
    expect(artifact(r.artifacts, "api/entrypoint.sh")).toContain("URL=postgres://db:5432/x");
  });

  it("writes Dockerfiles whose ENTRYPOINT dockerfile-ast reads as valid exec-form JSON", () => {
    const r = render({
      name: "shop",
      services: { api: { command: HOSTILE.filter(Boolean), env: { A: HOSTILE.join("|") } } },
    });
    const df = DockerfileParser.parse(artifact(r.artifacts, "api/Dockerfile"));
    const [entry] = df.getENTRYPOINTs();
    expect(entry?.getOpeningBracket()).not.toBeNull();
    expect(entry?.getClosingBracket()).not.toBeNull();
    expect(entry?.getJSONStrings().map((s) => s.getJSONValue())).toEqual([
      "/bin/sh",
      "/nix2dream/entrypoint.sh",
    ]);
    expect(df.getInstructions().map((i) => i.getKeyword())).toEqual([
      "FROM",
      "COPY",
      "STOPSIGNAL",
      "ENTRYPOINT",
      "CMD",
    ]);
  });

  it("never writes a secret's value or an env value into the Dockerfile or images.json", () => {
    const r = render({
      name: "shop",
      services: {
        api: {
          ...cmd,
          env: { PUBLIC: "visible-value" },
          secrets: { TOKEN: { fromEnv: "API_TOKEN" } },
        },
      },
    });
    expect(artifact(r.artifacts, "api/Dockerfile")).not.toContain("visible-value");
    expect(artifact(r.artifacts, IMAGES_FILE)).not.toContain("TOKEN");
  });

  it("reports run-time settings an image cannot carry", () => {
    const r = render({
      name: "shop",
      services: {
        api: {
          ...cmd,
          replicas: 2,
          restart: { policy: "always" },
          ports: { http: { port: 80, expose: true } },
          healthcheck: { command: ["true"] },
          dependsOn: { db: "started" },
        },
        db: cmd,
      },
    });
    expect(r.diagnostics.map((d) => [d.severity, d.option])).toEqual([
      ["warning", "services.api.healthcheck"],
      ["warning", "services.api.dependsOn"],
      ["warning", "services.api.restart"],
      ["warning", "services.api.replicas"],
      ["warning", "services.api.ports.http"],
    ]);
  });

  it("deep-merges the deployment and then the service override into images.json", () => {
    const r = render({
      name: "shop",
      renderers: {
        oci: { override: { labels: { team: "a", keep: "d" }, platform: "linux/amd64" } },
      },
      services: { api: { ...cmd, renderers: { oci: { override: { labels: { team: "b" } } } } } },
    });
    const api = manifestOf(r).images.api as unknown as Record<string, unknown>;
    expect(api.platform).toBe("linux/amd64");
    expect(api.labels).toMatchObject({ team: "b", keep: "d", "org.nix2dream.service": "api" });
  });

  it("lists source files relative to the config directory for the build step", () => {
    const r = render({
      name: "shop",
      services: { api: { ...cmd, files: { "/etc/api.conf": { source: "conf/api.conf" } } } },
    });
    expect(manifestOf(r).images.api?.sources).toEqual([
      { from: "/srv/shop/conf/api.conf", path: "sources/0-api.conf" },
    ]);
  });

  it("renders 200 services quickly", () => {
    const services = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [
        `svc${i}`,
        {
          command: ["/bin/app", `--n=${i}`],
          env: {
            PEER: `${ref[`svc${(i + 1) % 200}`]?.host}:${ref[`svc${(i + 1) % 200}`]?.ports.http}`,
          },
          ports: { http: { port: 8000 + i } },
          files: { "/etc/app.conf": { text: `n=${i}\n` } },
        },
      ]),
    );
    const r = oci().render(evaluate({ name: "big", services }));
    expect(r.artifacts).toHaveLength(401);
    expect(r.diagnostics).toEqual([]);
  });
});

describe("definition files", () => {
  it("renders without building the deployment's whole definitionFiles record", () => {
    const deployment = evaluate({
      name: "shop",
      services: {
        api: { command: ["api"], env: { PEER: `${ref.db?.host}` } },
        db: { command: ["db"] },
      },
    });
    const { diagnostics } = oci().render(deployment);
    // Each diagnostic still names the file that defined its option (here the config itself).
    expect(diagnostics.length).toBeGreaterThan(0);
    for (const d of diagnostics) expect(d.files, d.option).toEqual(["<deployment definition>"]);
    // The record (135 000 paths at 5000 services) is built on first read: still a getter.
    const own = Object.getOwnPropertyDescriptor(deployment, "definitionFiles");
    expect(typeof own?.get).toBe("function");
  });
});
