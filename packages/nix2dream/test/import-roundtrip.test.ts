/**
 * The round trip: import a Compose project, render the config back to Compose, and let
 * docker-compose (1.29, Debian's) normalise both the original and the render with `config`.
 * Everything the import claims to carry must agree; what it reported as not carried or changed
 * is left out of the comparison by the same rules the import applies. `docker-compose config`
 * needs no engine, but it is a system tool that `npm run test:fast` does not assume, so these
 * tests carry the `docker` tag like render-compose's own docker-compose checks.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { shellWords } from "../src/import/compose-values.js";
import { importProject, n2d } from "./import-helpers.js";

type Doc = {
  services: Record<string, Record<string, unknown>>;
  secrets?: Record<string, { file?: string }>;
  configs?: Record<string, { file?: string }>;
};

/** `docker-compose config` of `files` in `dir`, parsed. */
function composeConfig(dir: string, files: string[]): Doc {
  const args = files.flatMap((f) => ["-f", f]);
  const text = execFileSync("docker-compose", [...args, "config"], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, COMPOSE_PROJECT_NAME: "roundtrip" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return parse(text, { version: "1.1" }) as Doc;
}

const seconds = (v: unknown, fallback: number): number => {
  if (v === undefined) return fallback;
  let total = 0;
  for (const m of String(v).matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) {
    total += Number(m[1]) * ({ h: 3600, m: 60, s: 1, ms: 0.001 }[m[2] as "h"] ?? 1);
  }
  return total;
};
const bytes = (v: unknown): number | undefined => {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)$/i.exec(String(v));
  if (!m) return Number(v);
  return Number(m[1]) * 1024 ** "bkmg".indexOf((m[2] || "b").toLowerCase());
};
const argv = (v: unknown): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v.map(String) : (shellWords(String(v)) ?? []);
const testArgv = (v: unknown): string[] => {
  const list = typeof v === "string" ? ["CMD-SHELL", v] : (v as string[]);
  return list[0] === "CMD-SHELL" ? ["/bin/sh", "-c", list.slice(1).join(" ")] : list.slice(1);
};

/** A short-syntax port (`127.0.0.1:5432:5432/tcp`, as the render writes them) in long form. */
function portObject(p: string): Record<string, unknown> {
  const [spec, protocol] = p.split("/");
  const parts = (spec ?? "").split(":");
  const target = Number(parts.pop());
  const published = parts.length > 0 ? Number(parts.pop()) : undefined;
  return { host_ip: parts[0], published, target, protocol };
}

/**
 * A bound file by its content: the render mounts its own copy of a host file (a host-file
 * artifact), so the original's path and the render's differ while the bytes must not.
 */
function fileKey(path: string | undefined): string {
  if (path === undefined || !existsSync(path) || !statSync(path).isFile()) return String(path);
  return `sha256:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
}

/** Mounts as comparable strings; directory binds are left out (the import makes them volumes and says so). */
function mounts(s: Record<string, unknown>, doc: Doc, dir: string): string[] {
  const out: string[] = [];
  for (const v of (s.volumes as unknown[]) ?? []) {
    const m =
      typeof v === "string"
        ? (() => {
            const [source, target] = v.split(":");
            return { type: /^[/.]/.test(source ?? "") ? "bind" : "volume", source, target };
          })()
        : (v as { type: string; source?: string; target: string; tmpfs?: { size?: number } });
    if (m.type === "volume") out.push(`volume ${m.target}`);
    else if (m.type === "tmpfs")
      out.push(`tmpfs ${m.target} ${(m as { tmpfs?: { size?: number } }).tmpfs?.size ?? ""}`);
    else if (
      m.type === "bind" &&
      existsSync(resolve(dir, m.source ?? "")) &&
      statSync(resolve(dir, m.source ?? "")).isFile()
    ) {
      out.push(`bind ${fileKey(resolve(dir, m.source ?? ""))} ${m.target}`);
    }
  }
  for (const t of (s.tmpfs as string[] | undefined) ?? []) out.push(`tmpfs ${t} `);
  for (const kind of ["secrets", "configs"] as const) {
    for (const e of (s[kind] as Array<{ source: string; target?: string }>) ?? []) {
      const target = e.target?.startsWith("/")
        ? e.target
        : kind === "secrets"
          ? `/run/secrets/${e.target ?? e.source}`
          : `/${e.target ?? e.source}`;
      out.push(`bind ${fileKey(doc[kind]?.[e.source]?.file)} ${target}`);
    }
  }
  return out.sort();
}

/** What the import claims to carry of one service, from `docker-compose config`'s form. */
function claims(s: Record<string, unknown>, doc: Doc, dir: string) {
  const deploy = (s.deploy ?? {}) as {
    replicas?: number;
    resources?: { limits?: { cpus?: unknown; memory?: unknown } };
  };
  const replicas = deploy.replicas ?? (s.scale as number | undefined) ?? 1;
  const h = s.healthcheck as Record<string, unknown> | undefined;
  const build = s.build as Record<string, unknown> | undefined;
  const ports = ((s.ports as unknown[]) ?? []).map((p) => {
    const o = typeof p === "string" ? portObject(p) : (p as Record<string, unknown>);
    return `${o.host_ip ?? ""}|${replicas > 1 ? "" : (o.published ?? "")}:${o.target}/${o.protocol ?? "tcp"}`;
  });
  const entrypoint = argv(s.entrypoint);
  return {
    image: build ? undefined : s.image,
    build: build
      ? { context: build.context, target: build.target, dockerfile: build.dockerfile }
      : undefined,
    argv: [...(entrypoint ?? []), ...(argv(s.command) ?? [])],
    environment: s.environment ?? {},
    ports: ports.sort(),
    mounts: mounts(s, doc, dir),
    healthcheck: h && {
      test: testArgv(h.test),
      interval: seconds(h.interval, 30),
      timeout: seconds(h.timeout, 30),
      retries: h.retries ?? 3,
      start_period: seconds(h.start_period, 0),
    },
    depends_on: s.depends_on ?? {},
    restart: s.restart === "unless-stopped" ? "always" : (s.restart ?? "no"),
    user: s.user,
    working_dir: s.working_dir,
    labels: s.labels ?? {},
    stop_signal: s.stop_signal ?? "SIGTERM",
    stop_grace_period: seconds(s.stop_grace_period, 10),
    replicas,
    cpus: deploy.resources?.limits?.cpus ?? s.cpus,
    memory: bytes(deploy.resources?.limits?.memory ?? s.mem_limit),
  };
}

const cases: Array<[string, string[]]> = [
  ["voting", ["compose.yaml"]],
  ["webapp", ["compose.yaml", "compose.override.yaml"]],
  ["spec", ["compose.yaml"]],
];

describe.each(cases)(
  "the %s fixture, imported and rendered back to Compose",
  { tags: ["docker"], timeout: 60_000 },
  (name, files) => {
    it("agrees with the original under docker-compose config on everything the import carries", () => {
      const project = importProject(name);
      const env = { COMPOSE_PROJECT_NAME: name };
      expect(n2d(project, ["import", ...files.flatMap((f) => ["-f", f])], env).code).toBe(0);
      const render = n2d(project, ["render"]);
      expect(render.code, render.stderr).toBe(0);
      const original = composeConfig(project, files);
      const renderDir = join(project, ".nix2dream", name, "compose");
      const rendered = composeConfig(renderDir, ["compose.yaml"]);
      expect(Object.keys(rendered.services).sort()).toEqual(Object.keys(original.services).sort());
      for (const [svc, s] of Object.entries(original.services)) {
        const want = claims(s, original, project);
        const got = claims(rendered.services[svc] as Record<string, unknown>, rendered, renderDir);
        // The render publishes ports that were only `expose`d (on 127.0.0.1) and mounts nothing
        // less: the original's ports and mounts are a subset of the render's.
        expect(got.ports, `${svc} ports`).toEqual(expect.arrayContaining(want.ports));
        expect(got.mounts, `${svc} mounts`).toEqual(expect.arrayContaining(want.mounts));
        const strip = ({ ports: _p, mounts: _m, ...rest }: ReturnType<typeof claims>) => rest;
        expect(strip(got), svc).toEqual(strip(want));
      }
    });
  },
);

it("the round trip would notice a difference (a changed value fails the comparison)", {
  tags: ["docker"],
  timeout: 60_000,
}, () => {
  const project = importProject("webapp");
  expect(n2d(project, ["import"], { COMPOSE_PROJECT_NAME: "webapp" }).code).toBe(0);
  const config = join(project, "nix2dream.config.ts");
  const edited = readFileSync(config, "utf8").replace("retries: 5", "retries: 6");
  writeFileSync(config, edited);
  expect(n2d(project, ["render"]).code).toBe(0);
  const original = composeConfig(project, ["compose.yaml", "compose.override.yaml"]);
  const renderDir = join(project, ".nix2dream", "webapp", "compose");
  const rendered = composeConfig(renderDir, ["compose.yaml"]);
  const db = (d: Doc, dir: string) =>
    claims(d.services.db as Record<string, unknown>, d, dir).healthcheck;
  expect(db(rendered, renderDir)).not.toEqual(db(original, project));
});
