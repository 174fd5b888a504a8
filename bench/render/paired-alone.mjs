#!/usr/bin/env node
// One renderer ALONE in a fresh process (what a CLI user with one renderer pays), this checkout
// against another built one (BASE), for a loaded machine: fresh child processes alternate
// (base, new, new, base, ...), so load changes hit both alike. Each child is the `--alone` mode
// of its own checkout's bench/render/run.mjs: the realistic deployment of N services with only
// that renderer in `use`, evaluated once, then the CPU time of the first render and the median of
// BENCH_RUNS more. Prints the ratios of medians.
//
//   node bench/render/paired-alone.mjs N PAIRS BASE renderer
//
// BASE is the root of another checkout whose packages are built and whose bench/render/run.mjs
// has the `--alone` mode.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { median, printLoad } from "../lib.mjs";

const [nArg, pairsArg, baseRoot, renderer] = process.argv.slice(2);
if (!renderer) {
  console.error("usage: node bench/render/paired-alone.mjs N PAIRS BASE renderer");
  process.exit(1);
}
const roots = {
  base: baseRoot.replace(/\/$/, ""),
  new: fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, ""),
};
const run = (root) =>
  JSON.parse(
    execFileSync(process.execPath, [`${root}/bench/render/run.mjs`, "--alone", nArg, renderer], {
      encoding: "utf8",
    }),
  );

const rows = { base: [], new: [] };
for (let p = 0; p < Number(pairsArg); p++)
  for (const k of p % 2 ? ["new", "base"] : ["base", "new"]) rows[k].push(run(roots[k]));
for (const [f, label] of [
  ["firstCpuMs", "first render CPU"],
  ["cpuMs", "later renders CPU (median)"],
]) {
  const b = median(rows.base.map((r) => r[f]));
  const w = median(rows.new.map((r) => r[f]));
  const each = (k) => rows[k].map((r) => r[f].toFixed(0)).join(" ");
  console.log(
    `${renderer} N=${nArg} ${label}: base ${b.toFixed(0)} (${each("base")}), new ${w.toFixed(0)} (${each("new")}); base / new = ${(b / w).toFixed(2)}×`,
  );
}
printLoad();
