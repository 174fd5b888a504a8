/**
 * The reference deployment: one definition that uses every core feature a real stack needs,
 * made of busybox programs only (`busybox httpd`, `wget`, `sh`), so the same definition runs
 * under manage-local, in busybox images FROM scratch on Docker and under a systemd manager.
 * {@link expectReferenceBehaviour} checks, over HTTP from the test, that it works: the same
 * checks for every target.
 *
 * - `seed`, a one-shot job, appends a line to its persistent volume `out` on every run.
 * - `db` runs as `nobody`, keeps a persistent volume (made by an init script, counting starts)
 *   and serves it over HTTP; a TCP healthcheck.
 * - `api` waits for `seed` to complete and `db` to be healthy, records what it found at its
 *   start, and serves CGI scripts that show its hostile env values, its secret, its config file
 *   (with references in the text) and a live request to `db`; an HTTP healthcheck.
 * - `web` waits for `api` to have started and serves a CGI that asks `api`; an exec
 *   healthcheck that reaches `api` through a reference.
 */
import { type DeploymentDefinition, type ServiceDefinition, serviceRef } from "@nix2dream/core";
import { expect } from "vitest";

/** Env values that break naive quoting, by variable name; `api` must receive them byte for byte. */
export const REFERENCE_ENV: Readonly<Record<string, string>> = {
  H_QUOTES: `it's "double" and 'single'`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: expansions that must stay literal
  H_DOLLAR: "$HOME ${HOME} $$ $1 $@ $ at end $",
  H_SUBST: "$(echo pwned) `echo pwned` $((1+1))",
  H_PERCENT: "100% %s %d %% %n",
  H_BACKSLASH: "back\\slash \\n \\\\ \\$HOME \\",
  H_NEWLINES: "line1\nline2\n\nline4\n",
  H_UNICODE: "ünïcödé ✓ 日本語 🙂",
  H_ALL: `'"$(x)\`%\\\n✓ $$ %%`,
};

/** The variable `api`'s secret is read from; tests set it to {@link REFERENCE_SECRET}. */
export const REFERENCE_SECRET_VAR = "N2D_REF_API_TOKEN";
/** The secret's value: hostile too. */
export const REFERENCE_SECRET = "s3cr3t 'with' \"quotes\" $HOME %s \\ ✓";

/** Where `db` keeps its volume: a directory of its own, so its parent can be made writable for `nobody` in an image. */
export const REFERENCE_DB_VOLUME = "/var/lib/ref-db/data";

/** Ports of the three servers (the tests pick free ones). */
export interface ReferencePorts {
  db: number;
  api: number;
  web: number;
}

/** A CGI script: the header, a blank line, then `body`'s output. */
const cgi = (body: string) =>
  `#!/bin/sh\nprintf 'Content-Type: application/octet-stream\\r\\n\\r\\n'\n${body}\n`;

const seed = serviceRef("seed");
const db = serviceRef("db");
const api = serviceRef("api");
const web = serviceRef("web");

function seedService(): ServiceDefinition {
  return {
    description: "A one-shot job: appends a line to its volume on every run",
    command: ["sh", "-c", 'echo seeded >> "$1/seed.txt"', "sh"],
    args: [seed.volume("out")],
    volumes: { out: { path: "/var/lib/ref-seed", persistent: true } },
    restart: "no",
  };
}

function dbService(port: number): ServiceDefinition {
  return {
    description: "Runs as nobody; counts its starts in a persistent volume and serves it",
    command: [
      "sh",
      "-c",
      'id -u > "$DATA/uid"; n=$(cat "$DATA/starts" 2>/dev/null || echo 0); echo $((n + 1)) > "$DATA/starts"; exec busybox httpd -f -p "$PORT" -h "$DATA"',
    ],
    env: { DATA: db.volume("data"), PORT: db.port("http") },
    user: "nobody",
    volumes: {
      data: { path: REFERENCE_DB_VOLUME, persistent: true, init: "echo made-by-init >> init.txt" },
    },
    ports: { http: { port, expose: true } },
    healthcheck: { port: "http", interval: "1s", startPeriod: "60s" },
  };
}

function apiService(port: number): ServiceDefinition {
  const hostile = Object.keys(REFERENCE_ENV);
  return {
    description: "Waits for seed and db; serves what it received",
    command: [
      "sh",
      "-c",
      [
        // What the dependencies had done when api started: proves the start order.
        'busybox wget -q -O "$RUN/db-at-start" "$DB_URL/starts" || echo unreachable > "$RUN/db-at-start"',
        'wc -l < "$SEED_DIR/seed.txt" > "$RUN/seed-at-start" || echo missing > "$RUN/seed-at-start"',
        'exec busybox httpd -f -p "$1" -h "$(dirname "$2")"',
      ].join("\n"),
      "sh",
    ],
    args: [api.port("http"), api.file("/srv/api/index.html")],
    env: {
      ...REFERENCE_ENV,
      DB_URL: `http://${db.addressOf("http")}`,
      SEED_DIR: seed.volume("out"),
      RUN: api.volume("run"),
      CONFIG: api.file("/etc/ref/api.conf"),
    },
    secrets: { API_TOKEN: { fromEnv: REFERENCE_SECRET_VAR } },
    volumes: { run: { path: "/run/ref-api", persistent: false } },
    files: {
      "/etc/ref/api.conf": `db=${db.addressOf("http")}\nhost=${db.host}\nquotes=${REFERENCE_ENV.H_ALL}\n`,
      "/srv/api/index.html": "api ok\n",
      "/srv/api/cgi-bin/env": {
        text: cgi(`printf '%s\\0' ${hostile.map((k) => `"$${k}"`).join(" ")}`),
        mode: "0755",
      },
      "/srv/api/cgi-bin/secret": { text: cgi('printf %s "$API_TOKEN"'), mode: "0755" },
      "/srv/api/cgi-bin/config": { text: cgi('cat "$CONFIG"'), mode: "0755" },
      "/srv/api/cgi-bin/db": { text: cgi('busybox wget -q -O- "$DB_URL/starts"'), mode: "0755" },
      "/srv/api/cgi-bin/start": {
        text: cgi(
          'printf "db=%s seed=%s\\n" "$(cat "$RUN/db-at-start")" "$(cat "$RUN/seed-at-start")"',
        ),
        mode: "0755",
      },
    },
    ports: { http: { port, expose: true } },
    healthcheck: { port: "http", path: "/index.html", interval: "1s", startPeriod: "60s" },
    dependsOn: { seed: "completed", db: "healthy" },
  };
}

function webService(port: number): ServiceDefinition {
  return {
    description: "Waits for api to start; asks it through a reference",
    command: ["sh", "-c", 'exec busybox httpd -f -p "$PORT" -h "$(dirname "$INDEX")"'],
    env: {
      PORT: web.port("http"),
      INDEX: web.file("/srv/web/index.html"),
      API_URL: `http://${api.addressOf("http")}`,
    },
    files: {
      "/srv/web/index.html": "web ok\n",
      "/srv/web/cgi-bin/via-api": {
        text: cgi('busybox wget -q -O- "$API_URL/cgi-bin/db"'),
        mode: "0755",
      },
    },
    ports: { http: { port, expose: true } },
    healthcheck: {
      command: [
        "busybox",
        "wget",
        "-q",
        "-O",
        "/dev/null",
        `http://${api.addressOf("http")}/index.html`,
      ],
      interval: "1s",
      startPeriod: "60s",
    },
    dependsOn: { api: "started" },
  };
}

/**
 * The reference deployment named `name`, its servers on `ports` (published on the host under
 * the same numbers). Add the renderers and managers of a target with `use`.
 */
export function referenceDeployment(name: string, ports: ReferencePorts): DeploymentDefinition {
  return {
    name,
    services: {
      seed: seedService(),
      db: dbService(ports.db),
      api: apiService(ports.api),
      web: webService(ports.web),
    },
  };
}

/** Fetches a path from one of the three servers, as bytes (throws on a non-2xx answer). */
export type ReferenceFetch = (service: "db" | "api" | "web", path: string) => Promise<Buffer>;

/** A {@link ReferenceFetch} over HTTP to 127.0.0.1 on the given ports. */
export function referenceFetch(ports: ReferencePorts): ReferenceFetch {
  return async (service, path) => {
    const r = await fetch(`http://127.0.0.1:${ports[service]}${path}`);
    if (!r.ok) throw new Error(`GET ${service}${path}: HTTP ${r.status}`);
    return Buffer.from(await r.arrayBuffer());
  };
}

/**
 * Checks a running reference deployment, after its `run`th start (1 for the first `up`, 2
 * after a down and up): the start order, references, hostile env values byte for byte, the
 * secret, the config file, the volume's init (once) and its data across runs, and that `db`
 * runs as `nobody` (`dbUid`).
 */
export async function expectReferenceBehaviour(
  get: ReferenceFetch,
  opts: { run: number; dbUid: number },
): Promise<void> {
  const text = async (s: "db" | "api" | "web", p: string) => (await get(s, p)).toString("utf8");
  // api started after db was healthy (it answered) and after this run's seed completed.
  expect(await text("api", "/cgi-bin/start")).toBe(`db=${opts.run} seed=${opts.run}\n`);
  const env = (await text("api", "/cgi-bin/env")).split("\0");
  expect(env.slice(0, -1)).toEqual(Object.values(REFERENCE_ENV));
  expect(await text("api", "/cgi-bin/secret")).toBe(REFERENCE_SECRET);
  const config = await text("api", "/cgi-bin/config");
  expect(config).toMatch(/^db=[^\s:]+:\d+\nhost=[^\s]+\n/);
  expect(config.endsWith(`quotes=${REFERENCE_ENV.H_ALL}\n`)).toBe(true);
  expect(await text("web", "/cgi-bin/via-api")).toBe(`${opts.run}\n`);
  expect(await text("db", "/init.txt")).toBe("made-by-init\n");
  expect(await text("db", "/starts")).toBe(`${opts.run}\n`);
  expect(await text("db", "/uid")).toBe(`${opts.dbUid}\n`);
}
