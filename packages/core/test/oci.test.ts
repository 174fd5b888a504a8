import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fileTempDir, HOSTILE, serviceFixture } from "../../testkit/src/index.js";
import { programNotInImage } from "../src/base-image.js";
import type { Diagnostic } from "../src/contracts.js";
import type { EvaluatedDeployment, EvaluatedService } from "../src/deployment.js";
import {
  contextHash,
  dockerfileExecForm,
  isImageReference,
  OCI_ENTRYPOINT,
  ociBuildContext,
} from "../src/oci.js";
import { type Ref, serviceRef } from "../src/refs.js";
import { containerRefResolver, refReporter } from "../src/resolvers.js";

const PRINTER = fileURLToPath(new URL("./fixtures/entrypoint/print-process.mjs", import.meta.url));
const root = fileTempDir("n2d-oci-core-");

function deploymentOf(...services: EvaluatedService[]): EvaluatedDeployment {
  return {
    name: "shop",
    services: Object.fromEntries(services.map((s) => [s.name, s])),
    renderers: {},
    managers: {},
    root: "/srv/config",
    definitionFiles: {},
    warnings: [],
  };
}

const byName = (s: string) => s;

function contextOf(svc: EvaluatedService, d = deploymentOf(svc), baseImage = "busybox:test") {
  return ociBuildContext(svc, d, { baseImage, resolve: containerRefResolver(d, byName) });
}

function text(ctx: ReturnType<typeof ociBuildContext>, path: string): string {
  const a = ctx.artifacts.find((x) => x.path === path);
  if (!a) throw new Error(`no artifact ${path}`);
  return String(a.content);
}

function instruction(dockerfile: string, name: string): string[] {
  return dockerfile
    .split("\n")
    .filter((l) => l.startsWith(`${name} `))
    .map((l) => l.slice(name.length + 1));
}

describe("ociBuildContext", () => {
  it("writes a Dockerfile and an executable entrypoint.sh with context-relative paths", () => {
    const ctx = contextOf(serviceFixture("api", { command: ["/bin/api"] }));
    expect(ctx.artifacts.map((a) => [a.path, a.mode])).toEqual([
      ["Dockerfile", undefined],
      ["entrypoint.sh", 0o755],
    ]);
    expect(ctx.diagnostics).toEqual([]);
    expect(ctx.sources).toEqual([]);
  });

  it("ends the Dockerfile with an exec-form ENTRYPOINT that is valid JSON", () => {
    const df = text(contextOf(serviceFixture("api", { command: ["/bin/api"] })), "Dockerfile");
    const [entry] = instruction(df, "ENTRYPOINT");
    expect(JSON.parse(entry as string)).toEqual(["/bin/sh", OCI_ENTRYPOINT]);
    expect(df.split("\n")[1]).toBe("FROM busybox:test");
  });

  it("keeps every hostile argument of an exec form on one line and parses back to it", () => {
    for (const h of HOSTILE) {
      const form = dockerfileExecForm(["/bin/x", h]);
      expect(form).not.toMatch(/[\n\r]/);
      expect(JSON.parse(form)).toEqual(["/bin/x", h]);
    }
  });

  it("never puts env values, secrets or hostile values into the Dockerfile", () => {
    const svc = serviceFixture("api", {
      command: ["/bin/api", "$(touch /tmp/pwned)"],
      env: Object.fromEntries(HOSTILE.map((h, i) => [`V${i}`, h])),
      secrets: { TOKEN: { fromEnv: null, fromFile: null, required: true } },
    });
    const df = text(contextOf(svc), "Dockerfile");
    expect(df).not.toMatch(/^(ENV|ARG|RUN|LABEL) /m);
    expect(df).not.toContain("pwned");
    expect(df).not.toContain("TOKEN");
  });

  it("reads a secret in the launcher by name only, never by value", () => {
    const svc = serviceFixture("api", {
      command: ["/bin/api"],
      secrets: { TOKEN: { fromEnv: "API_TOKEN", fromFile: "/run/secrets/token", required: true } },
    });
    const ep = text(contextOf(svc), "entrypoint.sh");
    expect(ep).toContain("API_TOKEN");
    expect(ep).toContain("/run/secrets/token");
  });

  it("gives the same hash for the same service and a different one when any content changes", () => {
    const a = contextOf(serviceFixture("api", { command: ["/bin/api"], env: { A: "1" } }));
    const b = contextOf(serviceFixture("api", { command: ["/bin/api"], env: { A: "1" } }));
    const c = contextOf(serviceFixture("api", { command: ["/bin/api"], env: { A: "2" } }));
    const d = contextOf(
      serviceFixture("api", { command: ["/bin/api"], env: { A: "1" } }),
      undefined,
      "other",
    );
    expect(a.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.contentHash).toBe(a.contentHash);
    expect(c.contentHash).not.toBe(a.contentHash);
    expect(d.contentHash).not.toBe(a.contentHash);
  });

  it("hashes fields length-prefixed, so moving bytes between path and content changes the hash", () => {
    expect(contextHash([{ path: "ab", content: "c" }])).not.toBe(
      contextHash([{ path: "a", content: "bc" }]),
    );
  });

  it("hashes the bytes of each field, length first, whatever the text or binary content", () => {
    // The hash as first written: one update per length and per field, from a Buffer.
    const reference = (
      artifacts: Array<{ path: string; content: string | Uint8Array; mode?: number }>,
      sources: Array<{ from: string; path: string }>,
    ) => {
      const h = createHash("sha256");
      const field = (data: string | Uint8Array) => {
        const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
        h.update(`${bytes.length}:`);
        h.update(bytes);
      };
      for (const a of [...artifacts].sort((x, y) => (x.path < y.path ? -1 : 1))) {
        field(a.path);
        field(String(a.mode ?? 0o644));
        field(a.content);
      }
      for (const s of sources) {
        field(s.path);
        field(s.from);
      }
      return h.digest("hex");
    };
    const texts = [...HOSTILE, "lone \ud800 surrogate", "😀 é ✓", ""];
    const binary = new Uint8Array([0, 255, 10, 58]);
    for (const t of texts) {
      const artifacts = [
        { path: "b", content: t, mode: 0o755 },
        { path: "a", content: binary },
        { path: `c${t}`, content: `${t}${t}` },
      ];
      const sources = [{ from: t, path: "sources/0-x" }];
      expect(contextHash(artifacts, sources)).toBe(reference(artifacts, sources));
      expect(contextHash(artifacts)).toBe(reference(artifacts, []));
    }
  });

  it("rejects a base image that is not an image reference and builds FROM scratch instead", () => {
    for (const bad of ["busybox\nRUN rm -rf /", "a b", "$(x)", "", "x:`y`", "é"]) {
      const ctx = contextOf(serviceFixture("api", { command: ["/bin/api"] }), undefined, bad);
      expect(text(ctx, "Dockerfile").split("\n")[1]).toBe("FROM scratch");
      expect(ctx.diagnostics).toEqual([
        expect.objectContaining({
          severity: "error",
          option: "services.api.renderers.oci.baseImage",
        }),
      ]);
    }
    expect(isImageReference("registry.local:5000/team/base:1.2")).toBe(true);
    expect(isImageReference(`base@sha256:${"a".repeat(64)}`)).toBe(true);
  });

  it("sets USER only for plain names and reports a hostile one", () => {
    const ok = contextOf(
      serviceFixture("api", { command: ["/bin/x"], user: "1000", group: "app" }),
    );
    expect(instruction(text(ok, "Dockerfile"), "USER")).toEqual(["1000:app"]);
    const bad = contextOf(serviceFixture("api", { command: ["/bin/x"], user: "root\nRUN id" }));
    expect(instruction(text(bad, "Dockerfile"), "USER")).toEqual([]);
    expect(bad.diagnostics.map((d) => d.option)).toEqual(["services.api.user"]);
  });

  it("warns that a non-root user needs writable places for files and volumes", () => {
    const ctx = contextOf(
      serviceFixture("api", {
        command: ["/bin/x"],
        user: "app",
        files: { "/etc/a": { text: "x", source: null, mode: "0644" } },
      }),
    );
    expect(ctx.diagnostics.map((d) => [d.severity, d.option])).toEqual([
      ["warning", "services.api.user"],
    ]);
  });

  it("exposes each port once with its protocol and sets the stop signal", () => {
    const svc = serviceFixture("api", {
      command: ["/bin/x"],
      ports: {
        http: { port: 8080, protocol: "tcp", expose: false, hostPort: null },
        alt: { port: 8080, protocol: "tcp", expose: false, hostPort: null },
        dns: { port: 53, protocol: "udp", expose: false, hostPort: null },
      },
      stop: { signal: "SIGINT", gracePeriod: 5 },
    });
    const df = text(contextOf(svc), "Dockerfile");
    expect(instruction(df, "EXPOSE")).toEqual(["53/udp 8080/tcp"]);
    expect(instruction(df, "STOPSIGNAL")).toEqual(["SIGINT"]);
  });

  it("lists source files for the build step, resolved against the config directory, and COPYs them", () => {
    const svc = serviceFixture("api", {
      command: ["/bin/x"],
      files: {
        "/etc/a.conf": { text: null, source: "conf/a b.conf", mode: "0600" },
        "/etc/b.conf": { text: null, source: "/abs/b.conf", mode: "0644" },
        "/etc/c.conf": { text: "inline", source: null, mode: "0644" },
      },
    });
    const ctx = contextOf(svc);
    expect(ctx.sources).toEqual([
      { from: "/srv/config/conf/a b.conf", path: "sources/0-a_b.conf" },
      { from: "/abs/b.conf", path: "sources/1-b.conf" },
    ]);
    expect(instruction(text(ctx, "Dockerfile"), "COPY")).toEqual([
      "entrypoint.sh /nix2dream/entrypoint.sh",
      "sources/0-a_b.conf /nix2dream/sources/0-a_b.conf",
      "sources/1-b.conf /nix2dream/sources/1-b.conf",
    ]);
    expect(text(ctx, "entrypoint.sh")).toContain("cp -- /nix2dream/sources/0-a_b.conf");
  });

  it("holds each source as a host-file artifact, so the context builds wherever it is", () => {
    const svc = serviceFixture("api", {
      command: ["/bin/x"],
      files: {
        "/etc/a.conf": { text: null, source: "conf/a.conf", mode: "0600" },
        "/etc/again.conf": { text: null, source: "conf/a.conf", mode: "0644" },
      },
    });
    const ctx = contextOf(svc);
    expect(ctx.artifacts.filter((a) => typeof a.source === "string")).toEqual([
      {
        path: "sources/0-a.conf",
        source: "/srv/config/conf/a.conf",
        origin: { option: 'services.api.files."/etc/a.conf".source' },
      },
    ]);
  });

  it("reports relative file targets and volume paths, which have no place in a container", () => {
    const svc = serviceFixture("api", {
      command: ["/bin/x"],
      files: { "etc/a": { text: "x", source: null, mode: "0644" } },
      volumes: {
        data: { path: "data", persistent: true, size: null, init: "", check: "", clear: "" },
      },
    });
    expect(contextOf(svc).diagnostics.map((d) => [d.severity, d.option])).toEqual([
      ["error", 'services.api.files."etc/a"'],
      ["error", "services.api.volumes.data.path"],
    ]);
  });

  it("runs the launcher with real sh: hostile env byte-for-byte, files with mode, secret from env", () => {
    const dir = mkdtempSync(join(root, "run-"));
    const target = join(dir, "etc", "app.conf");
    const svc = serviceFixture("api", {
      command: [process.execPath, PRINTER],
      args: HOSTILE,
      env: {
        ...Object.fromEntries(HOSTILE.map((h, i) => [`V${i}`, h])),
        PRINT_ENV: [...HOSTILE.map((_, i) => `V${i}`), "TOKEN"].join(","),
      },
      secrets: { TOKEN: { fromEnv: null, fromFile: null, required: true } },
      files: { [target]: { text: "a'b\n$(x)`y`\nü", source: null, mode: "0640" } },
    });
    const ctx = contextOf(svc);
    expect(ctx.diagnostics).toEqual([]);
    const ep = join(dir, "entrypoint.sh");
    writeFileSync(ep, text(ctx, "entrypoint.sh"));
    const secret = "s3cr3t 'value' $(nope)";
    for (const a of ctx.artifacts) expect(String(a.content)).not.toContain(secret);
    const r = spawnSync("sh", [ep], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TOKEN: secret },
    });
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as { argv: string[]; env: Record<string, string> };
    expect(out.argv).toEqual(HOSTILE);
    expect(out.env).toEqual({
      ...Object.fromEntries(HOSTILE.map((h, i) => [`V${i}`, h])),
      TOKEN: secret,
    });
    expect(readFileSync(target, "utf8")).toBe("a'b\n$(x)`y`\nü");
    expect(statSync(target).mode & 0o777).toBe(0o640);
  });
});

describe("containerRefResolver", () => {
  const db = serviceFixture("db", {
    ports: { pg: { port: 5432, protocol: "tcp", expose: false, hostPort: 15432 } },
    volumes: {
      data: { path: "/var/lib/pg", persistent: true, size: null, init: "", check: "", clear: "" },
    },
    files: { "/etc/pg.conf": { text: "x", source: null, mode: "0644" } },
  });
  const d = deploymentOf(db);

  it("resolves hosts through hostOf and ports to container ports, not host ports", () => {
    const resolve = containerRefResolver(d, (s) => `${s}.internal`);
    expect(resolve({ service: "db", kind: "host" })).toBe("db.internal");
    expect(resolve({ service: "db", kind: "port", port: "pg" })).toBe("5432");
    expect(resolve({ service: "db", kind: "address", port: "pg" })).toBe("db.internal:5432");
    expect(resolve({ service: "db", kind: "volume", volume: "data" })).toBe("/var/lib/pg");
    expect(resolve({ service: "db", kind: "file", path: "/etc/pg.conf" })).toBe("/etc/pg.conf");
  });

  it("reports each missing target once and resolves it to the empty string", () => {
    const diagnostics: Diagnostic[] = [];
    const resolve = containerRefResolver(d, byName, refReporter("api", diagnostics));
    const refs: Ref[] = [
      { service: "nope", kind: "host" },
      { service: "db", kind: "port", port: "http" },
      { service: "db", kind: "port", port: "http" },
      { service: "db", kind: "volume", volume: "x" },
      { service: "db", kind: "file", path: "/x" },
    ];
    expect(refs.map(resolve)).toEqual(["", "", "", "", ""]);
    expect(diagnostics.map((x) => x.message)).toEqual([
      "`ref.nope.host` cannot be resolved: service `nope` is not in the deployment.",
      "`ref.db.ports.http` cannot be resolved: service `db` has no port `http`.",
      "`ref.db.volumes.x` cannot be resolved: service `db` has no volume `x`.",
      '`ref.db.files["/x"]` cannot be resolved: service `db` has no file `/x`.',
    ]);
  });

  it("resolves references inside a launcher to service names and container ports", () => {
    const api = serviceFixture("api", {
      command: ["/bin/api"],
      env: { URL: `postgres://${serviceRef("db").host}:${serviceRef("db").port("pg")}/x` },
    });
    const ep = text(contextOf(api, deploymentOf(api, db)), "entrypoint.sh");
    expect(ep).toContain("URL=postgres://db:5432/x");
  });
});

describe("programNotInImage", () => {
  const deployment = { definitionFiles: { "services.db.command": ["modules/db.ts"] } };
  const db = (over: Parameters<typeof serviceFixture>[1]) => serviceFixture("db", over);

  it("warns that postgres is not in busybox, naming the option and its file", () => {
    const d = programNotInImage(db({ command: ["postgres"] }), deployment, "busybox:stable");
    expect(d).toMatchObject({
      severity: "warning",
      option: "services.db.command",
      service: "db",
      files: ["modules/db.ts"],
    });
    expect(d?.message).toContain("`postgres` is not in the base image `busybox:stable`");
  });

  it("says nothing for a busybox applet, another base image, a package or an explicit path", () => {
    expect(programNotInImage(db({ command: ["httpd"] }), deployment, "busybox:1.36")).toBe(
      undefined,
    );
    expect(programNotInImage(db({ command: ["postgres"] }), deployment, "postgres:16")).toBe(
      undefined,
    );
    expect(
      programNotInImage(
        db({ command: ["postgres"], package: { nix: "postgresql", image: null } }),
        deployment,
        "busybox",
      ),
    ).toBe(undefined);
    expect(programNotInImage(db({ command: ["/opt/pg/postgres"] }), deployment, "busybox")).toBe(
      undefined,
    );
  });

  it("is reported by ociBuildContext, so OCI and Compose both warn", () => {
    const ctx = contextOf(serviceFixture("api", { command: ["node", "server.js"] }));
    expect(ctx.diagnostics.map((d) => d.option)).toEqual(["services.api.command"]);
  });
});
