#!/usr/bin/env node
// bench/cli/memory: peak RSS and CPU time of `nix2dream render` against the API doing the same
// work (bench/render/run.mjs --api: the config's definition evaluated, every renderer's render(),
// every file written with writeFileSync), on the realistic deployment (bench/realistic.mjs, all
// seven renderers in `use`), each run a fresh process, alternated (a, b, c, c, b, a, ...) so that
// machine load hits all alike. Issue 12's target: the CLI at most 1.3× the API in both.
//   node bench/cli/memory.mjs [BASE]
// With BASE (the root of another built checkout) the CLI and API of BASE run in the same rounds,
// each in a project whose config imports BASE's own packages, and new ÷ BASE is printed too.
// BENCH_SIZE=5000 services, BENCH_RUNS=3 rounds (the defaults).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ALL_RENDERERS,
  measureProcess,
  median,
  printLoad,
  printTable,
  realisticConfigSource,
} from "../lib.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const base = process.argv[2]?.replace(/\/$/, "");
const SIZE = Number(process.env.BENCH_SIZE ?? 5000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** The CLI and API commands of checkout `r`, each run in its own project directory. */
function casesOf(r, label, scratch) {
  const dir = mkdtempSync(join(scratch, `${label}-`));
  writeFileSync(join(dir, "nix2dream.config.mjs"), realisticConfigSource(r, SIZE));
  return [
    {
      name: `API (${label})`,
      argv: [join(r, "bench/render/run.mjs"), "--api", join(dir, "api-out")],
      dir,
    },
    {
      name: `nix2dream render (${label})`,
      argv: [join(r, "packages/nix2dream/bin/nix2dream.js"), "render"],
      dir,
    },
  ];
}

function main() {
  const scratch = mkdtempSync(join(tmpdir(), "n2d-bench-cli-memory-"));
  try {
    const cases = [
      ...casesOf(root, "new", scratch),
      ...(base ? casesOf(base, "base", scratch) : []),
    ];
    const results = cases.map(() => []);
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 ? [...cases.keys()].reverse() : [...cases.keys()];
      for (const k of order) results[k].push(measureProcess(cases[k].argv, cases[k].dir));
    }
    report(cases, results);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function report(cases, results) {
  const m = results.map((rs) => ({
    cpuMs: median(rs.map((r) => r.cpuMs)),
    maxRssMiB: median(rs.map((r) => r.maxRssMiB)),
    all: rs.map((r) => r.maxRssMiB.toFixed(0)).join(", "),
  }));
  console.log(
    `CLI against API, all ${ALL_RENDERERS.length} renderers, ${SIZE} services (medians of ${RUNS} fresh processes, alternating):`,
  );
  const rows = cases.map((c, k) => {
    const api = m[k - (k % 2)]; // the API run of the same checkout
    return [
      c.name,
      m[k].cpuMs.toFixed(0),
      m[k].maxRssMiB.toFixed(0),
      m[k].all,
      `${(m[k].cpuMs / api.cpuMs).toFixed(2)}×`,
      `${(m[k].maxRssMiB / api.maxRssMiB).toFixed(2)}×`,
    ];
  });
  printTable(
    ["process", "CPU (ms)", "peak RSS (MiB)", "each run (MiB)", "CPU ÷ API", "RSS ÷ API"],
    rows,
  );
  const met = (r) => (r <= 1.3 ? "met" : "not met");
  const cpu = m[1].cpuMs / m[0].cpuMs;
  const rss = m[1].maxRssMiB / m[0].maxRssMiB;
  console.log(
    `target ≤ 1.3× the API: CPU ${cpu.toFixed(2)}× ${met(cpu)}, RSS ${rss.toFixed(2)}× ${met(rss)}`,
  );
  if (base) {
    console.log(
      `nix2dream render, new ÷ base: CPU ${(m[1].cpuMs / m[3].cpuMs).toFixed(2)}×, peak RSS ${(m[1].maxRssMiB / m[3].maxRssMiB).toFixed(2)}×`,
    );
  }
  printLoad();
}

main();
