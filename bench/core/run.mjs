#!/usr/bin/env node
// Benchmark of @nix2dream/core's evaluateDeployment: N services of a realistic shape (command,
// args, env with cross-service references, ports, a persistent volume, a config file, a
// healthcheck, dependsOn, restart, resources, labels, a secret), defined by the deployment and by
// a second module with mkDefault/mkForce (bench/realistic.mjs), through the whole evaluation (engine, forcing, checks,
// definition files, sorting). `npm run bench -- core` builds and runs it; after a build,
//   node bench/core/run.mjs
// Each N runs in a fresh child process so the peak RSS is that N's alone.
// BENCH_SIZES=100,1000,3000 and BENCH_RUNS=5 (the defaults) choose the sizes and runs per size.
import { fileURLToPath } from "node:url";
import { printGrowth, printLoad, printTable, runChildren, timings } from "../lib.mjs";
import { enabledCount, realisticDefinition } from "../realistic.mjs";

const here = fileURLToPath(import.meta.url);
const SIZES = (process.env.BENCH_SIZES ?? "100,1000,3000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function child(n) {
  const core = await import("../../packages/core/dist/index.js");
  const { evaluateDeployment, ref } = core;
  const { mkDefault, mkForce } = await import("../../packages/modules/dist/index.js");
  const definition = () => realisticDefinition(n, { ref, mkDefault, mkForce });
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
  if (
    Object.keys(s).length !== enabledCount(n) ||
    s.svc1.env.MODE !== "dev" ||
    s.svc1.replicas !== 1
  ) {
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
