// @module-tag servers
/**
 * A real stack of Debian programs, defined once, under the real supervisor (the test runs as
 * root): PostgreSQL 15 as `postgres` (initdb in a volume's init script; it refuses to run as
 * root), Redis as `redis`, a migration job, and nginx logging to /dev/stdout. No hand-written
 * workaround for users, stdout or init: only core options. Needs `postgresql`, `redis-server`
 * and `nginx-light` (scripts/setup.sh).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync } from "node:fs";
import path from "node:path";
import { type DeploymentDefinition, evaluateDeployment, serviceRef } from "@nix2dream/core";
import procfile from "@nix2dream/render-procfile";
import { freePort, writeArtifacts } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { readPlan, Supervisor } from "../src/programmatic.js";
import { Sink, tempDir, waitForStatus } from "./helpers.js";

const PG_BIN = "/usr/lib/postgresql/15/bin";
const db = serviceRef("db");
const cache = serviceRef("cache");
const web = serviceRef("web");

function need(file: string, pkg: string) {
  const r = spawnSync("sh", ["-c", `command -v ${file}`]);
  if (r.status !== 0) throw new Error(`${file} is missing: apt-get install -y ${pkg}`);
}

function stack(ports: { pg: number; redis: number; http: number }): DeploymentDefinition {
  const psql = [
    "psql",
    "-h",
    db.host,
    "-p",
    db.port("pg"),
    "-U",
    "postgres",
    "-v",
    "ON_ERROR_STOP=1",
  ];
  return {
    name: "debianstack",
    services: {
      db: {
        command: [`${PG_BIN}/postgres`, "-D", db.volume("data"), "-p", db.port("pg")],
        args: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
        user: "postgres",
        volumes: { data: { init: `${PG_BIN}/initdb -D . -U postgres --auth=trust` } },
        ports: { pg: ports.pg },
        healthcheck: {
          command: ["pg_isready", "-h", db.host, "-p", db.port("pg")],
          interval: "500ms",
          startPeriod: "120s",
        },
        stop: { signal: "SIGINT", gracePeriod: 20 },
      },
      migrate: {
        command: [
          ...psql,
          "-c",
          "CREATE TABLE IF NOT EXISTS runs (n serial PRIMARY KEY, note text); INSERT INTO runs (note) VALUES ('it''s \"migrated\" $1 ✓');",
        ],
        dependsOn: { db: "healthy" },
        restart: "no",
      },
      cache: {
        command: ["redis-server", "--port", cache.port("redis"), "--bind", cache.host],
        args: ["--save", "", "--appendonly", "no", "--dir", cache.volume("data")],
        user: "redis",
        volumes: { data: { persistent: false } },
        ports: { redis: ports.redis },
        healthcheck: { port: "redis", interval: "500ms", startPeriod: "60s" },
      },
      web: {
        command: ["nginx", "-c", web.file("/etc/nginx/nginx.conf"), "-e", "/dev/stderr"],
        files: {
          "/etc/nginx/nginx.conf": [
            "daemon off;",
            "master_process off;",
            `pid ${web.volume("run")}/nginx.pid;`,
            "error_log /dev/stderr;",
            "events {}",
            "http {",
            "  access_log /dev/stdout;",
            `  client_body_temp_path ${web.volume("run")}/body;`,
            `  proxy_temp_path ${web.volume("run")}/proxy;`,
            `  fastcgi_temp_path ${web.volume("run")}/fastcgi;`,
            `  uwsgi_temp_path ${web.volume("run")}/uwsgi;`,
            `  scgi_temp_path ${web.volume("run")}/scgi;`,
            `  server { listen ${web.host}:${web.port("http")}; location / { return 200 "db ${db.addressOf("pg")} cache ${cache.addressOf("redis")}\\n"; } }`,
            "}",
            "",
          ].join("\n"),
        },
        volumes: { run: { persistent: false } },
        ports: { http: ports.http },
        healthcheck: { port: "http", path: "/", interval: "500ms", startPeriod: "60s" },
        dependsOn: { migrate: "completed", cache: "healthy" },
      },
    },
  };
}

async function up(renderDir: string, stateDir: string) {
  const out = new Sink();
  const sup = new Supervisor({ plan: readPlan(renderDir), renderDir, stateDir, output: out });
  await sup.start();
  try {
    await waitForStatus(sup, "web", (s) => s.health === "healthy", 180_000);
  } catch (err) {
    await sup.shutdown();
    await sup.wait();
    throw new Error(`${(err as Error).message}\n${out.text().slice(-4000)}`);
  }
  return { sup, out };
}

describe("PostgreSQL, Redis and nginx from Debian, defined once", () => {
  it("run under manage-local as their own users, in order, logging to /dev/stdout, keeping the database across a down and up", {
    timeout: 600_000,
  }, async () => {
    need(`${PG_BIN}/postgres`, "postgresql");
    need("redis-server", "redis-server");
    need("nginx", "nginx-light");
    const root = tempDir();
    chmodSync(root, 0o755); // postgres and redis must reach their launchers and state
    const ports = { pg: await freePort(), redis: await freePort(), http: await freePort() };
    const { deployment } = evaluateDeployment(stack(ports), {
      file: path.join(root, "nix2dream.config.ts"),
      root,
    });
    const renderDir = path.join(root, "procfile");
    mkdirSync(renderDir);
    writeArtifacts(renderDir, procfile().render(deployment).artifacts);
    const stateDir = path.join(root, "state", "local");
    const count = () =>
      spawnSync(
        "psql",
        [
          "-h",
          "127.0.0.1",
          "-p",
          String(ports.pg),
          "-U",
          "postgres",
          "-tAc",
          "SELECT count(*), max(note) FROM runs",
        ],
        { encoding: "utf8" },
      ).stdout.trim();
    for (const run of [1, 2]) {
      const { sup, out } = await up(renderDir, stateDir);
      try {
        const page = await fetch(`http://127.0.0.1:${ports.http}/`);
        expect(await page.text()).toBe(`db 127.0.0.1:${ports.pg} cache 127.0.0.1:${ports.redis}\n`);
        await out.waitFor(/web +\| 127\.0\.0\.1 - - .*"GET \/ HTTP/);
        expect(count()).toBe(`${run}|it's "migrated" $1 ✓`);
        const pong = spawnSync("redis-cli", ["-p", String(ports.redis), "ping"], {
          encoding: "utf8",
        });
        expect(pong.stdout.trim()).toBe("PONG");
        const owners = ["db", "cache"].map((name) => {
          const pid = sup.status().find((s) => s.name === name)?.pid;
          return spawnSync("ps", ["-o", "user=", "-p", String(pid)], {
            encoding: "utf8",
          }).stdout.trim();
        });
        expect(owners).toEqual(["postgres", "redis"]);
        expect(out.lines().findIndex((l) => /migrate exited with code 0/.test(l))).toBeLessThan(
          out.lines().findIndex((l) => /web started/.test(l)),
        );
      } finally {
        await sup.shutdown();
        const result = await sup.wait();
        expect(result.exitCode, out.text().slice(-3000)).toBe(0);
      }
    }
  });
});
