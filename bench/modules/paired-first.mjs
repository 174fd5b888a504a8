#!/usr/bin/env node
// The FIRST evaluation of the Nix workload (bench/modules/nix-workload.mjs) in a fresh process,
// this checkout against another built one (BASE), for a loaded machine: fresh child processes
// alternate (base, new, new, base, ...), so load changes hit both alike. Each child imports its
// checkout's engine, builds the same module set, then evaluates and forces it once; it reports
// the CPU time (process.cpuUsage: JIT compiler and GC helper threads included) of that one
// evaluation + forcing, and of the whole process. Ratios of medians are printed.
//
//   node bench/modules/paired-first.mjs N PAIRS BASE
//
// What the warm in-process comparison (bench/paired.mjs nix) cannot show: the first evaluation
// also pays for compiling the engine's code (V8 optimizes hot functions while they run).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { median, printLoad } from "../lib.mjs";

const here = fileURLToPath(import.meta.url);

async function child(n, root) {
  const { workloadModules, workloadSpec } = await import("./nix-workload.mjs");
  const lib = await import(`${root}/packages/modules/dist/index.js`);
  const modules = workloadModules(workloadSpec(n), lib);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  lib.forceDeep(lib.evalModules({ modules }).config);
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const all = process.cpuUsage();
  process.stdout.write(
    JSON.stringify({
      evalCpuMs: (c.user + c.system) / 1000,
      evalWallMs: wallMs,
      processCpuMs: (all.user + all.system) / 1000,
    }),
  );
}

function run(n, root) {
  return JSON.parse(
    execFileSync(process.execPath, [here, "--child", String(n), root], { encoding: "utf8" }),
  );
}

function main() {
  const [nArg, pairsArg, baseRoot] = process.argv.slice(2);
  if (!nArg || !pairsArg || !baseRoot) {
    console.error("usage: node bench/modules/paired-first.mjs N PAIRS BASE");
    process.exit(1);
  }
  const n = Number(nArg);
  const roots = {
    base: baseRoot.replace(/\/$/, ""),
    new: fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, ""),
  };
  const rows = { base: [], new: [] };
  for (let p = 0; p < Number(pairsArg); p++)
    for (const k of p % 2 ? ["new", "base"] : ["base", "new"]) rows[k].push(run(n, roots[k]));
  const med = (k, f) => median(rows[k].map((r) => r[f]));
  for (const f of ["evalCpuMs", "evalWallMs", "processCpuMs"]) {
    const b = med("base", f);
    const w = med("new", f);
    console.log(
      `N=${n} ${f}: base ${b.toFixed(0)} (${rows.base.map((r) => r[f].toFixed(0)).join(" ")}), new ${w.toFixed(0)} (${rows.new.map((r) => r[f].toFixed(0)).join(" ")}); base / new = ${(b / w).toFixed(2)}×`,
    );
  }
  printLoad();
}

if (process.argv[2] === "--child") await child(Number(process.argv[3]), process.argv[4]);
else main();
