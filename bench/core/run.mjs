#!/usr/bin/env node
// Benchmark of @nix2dream/core's evaluateDeployment: N services of a realistic shape (command,
// args, env with cross-service references, ports, a persistent volume, a config file, a
// healthcheck, dependsOn, restart, resources, labels, a secret), defined by the deployment and by
// a second module with mkDefault/mkForce, through the whole evaluation (engine, forcing, checks,
// definition files, sorting). `npm run bench -- core` builds and runs it; after a build,
//   node bench/core/run.mjs
// Each N runs in a fresh child process so the peak RSS is that N's alone.
// BENCH_SIZES=100,1000,3000 and BENCH_RUNS=5 (the defaults) choose the sizes and runs per size.
import { fileURLToPath } from "node:url";
import { median, printGrowth, printLoad, printTable, runChildren, timings } from "../lib.mjs";

const here = fileURLToPath(import.meta.url);
const SIZES = (process.env.BENCH_SIZES ?? "100,1000,3000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function child(n) {
  const core = await import("../../packages/core/dist/index.js");
  const { evaluateDeployment, ref } = core;
  const { mkDefault, mkForce } = await import("../../packages/modules/dist/index.js");
  const names = Array.from({ length: n }, (_, i) => `svc${i}`);
  const definition = () => ({
    name: "bench",
    services: Object.fromEntries(
      names.map((name, i) => {
        // Every 10th service is disabled; services depend on the previous enabled one.
        const dep = i > 0 ? names[i % 10 === 0 ? i - 2 : i - 1] : undefined;
        return [
          name,
          {
            description: `service ${name}`,
            command: ["node", `app/${name}.mjs`],
            args: ["--name", name, "--port", ref[name].ports.http],
            env: {
              SERVICE: name,
              MODE: mkDefault("prod"),
              DATA_DIR: ref[name].volumes.data,
              CONFIG: ref[name].files[`/etc/${name}/config.json`],
              ...(dep ? { UPSTREAM: `http://${ref[dep].address.http}` } : {}),
            },
            secrets: { TOKEN: { fromEnv: "BENCH_TOKEN" } },
            ports: { http: 20000 + i, metrics: { port: 40000 + (i % 20000), expose: false } },
            volumes: { data: { path: `/var/lib/${name}`, persistent: true } },
            files: { [`/etc/${name}/config.json`]: JSON.stringify({ name, i }) },
            healthcheck: { port: "http", path: "/healthz", interval: "5s", startPeriod: "10s" },
            ...(dep ? { dependsOn: { [dep]: "started" } } : {}),
            restart: "on-failure",
            resources: { cpu: 0.5, memory: "256Mi" },
            labels: { tier: i % 2 ? "api" : "worker" },
          },
        ];
      }),
    ),
    modules: [
      {
        file: "bench/overrides.ts",
        config: {
          services: Object.fromEntries(
            names.map((name, i) => [
              name,
              { env: { MODE: "dev" }, replicas: mkForce(1), enable: i % 10 !== 9 },
            ]),
          ),
        },
      },
    ],
  });
  const times = [];
  let rssAfterFirst = 0;
  let last;
  for (let r = 0; r < RUNS; r++) {
    const def = definition();
    const t0 = process.hrtime.bigint();
    last = evaluateDeployment(def, { file: "bench/nix2dream.config.ts" });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r === 0) rssAfterFirst = process.resourceUsage().maxRSS / 1024;
  }
  const s = last.deployment.services;
  const expected = names.filter((_, i) => i % 10 !== 9).length;
  if (Object.keys(s).length !== expected || s.svc1.env.MODE !== "dev" || s.svc1.replicas !== 1) {
    throw new Error("benchmark produced a wrong deployment");
  }
  process.stdout.write(
    JSON.stringify({
      n,
      ...timings(times),
      maxRssMiB: rssAfterFirst,
    }),
  );
}

async function main() {
  const rows = runChildren(here, SIZES);
  const head = [
    "N",
    "first run (ms)",
    `median of ${RUNS} (ms)`,
    `best of ${RUNS} (ms)`,
    "peak RSS, 1st run (MiB)",
    "median ms / 1000 svc",
  ];
  const lines = [];
  for (const r of rows) {
    lines.push([
      String(r.n),
      r.firstMs.toFixed(1),
      r.medianMs.toFixed(1),
      r.bestMs.toFixed(1),
      r.maxRssMiB.toFixed(0),
      ((r.medianMs / r.n) * 1000).toFixed(1),
    ]);
  }
  printTable(head, lines);
  printGrowth(rows, "medianMs");
  printLoad();
}

if (process.argv[2] === "--child") await child(Number(process.argv[3]));
else await main();
