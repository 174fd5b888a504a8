#!/usr/bin/env node
// Paired comparison of this checkout's engine and core evaluation against another built checkout
// (BASE), for a loaded machine: both are imported into ONE process and evaluated alternately
// (base, new, new, base, ...), so load changes hit both alike; CPU time (process.cpuUsage,
// GC helper threads included) of each warm evaluation is printed, with the ratio of medians.
//
//   node --expose-gc bench/paired.mjs core N PAIRS BASE   evaluateDeployment of bench/realistic.mjs
//   node --expose-gc bench/paired.mjs nix N PAIRS BASE    the Nix workload (bench/modules/nix-workload.mjs)
//
// BASE is the root of another checkout (or a copy of its packages/{modules,core} and bench/
// with a node_modules link) whose packages are built. The first pair is a warm-up and not counted.
import { fileURLToPath } from "node:url";
import { median, printLoad } from "./lib.mjs";

const [kind, nArg, pairsArg, baseRoot] = process.argv.slice(2);
if (!["core", "nix"].includes(kind) || !baseRoot) {
  console.error("usage: node --expose-gc bench/paired.mjs core|nix N PAIRS BASE");
  process.exit(1);
}
const n = Number(nArg);
const pairs = Number(pairsArg);
const here = fileURLToPath(new URL("..", import.meta.url));
const roots = { base: baseRoot.replace(/\/$/, ""), new: here.replace(/\/$/, "") };
const { workloadModules, workloadSpec } = await import("./modules/nix-workload.mjs");
const { realisticDefinition } = await import("./realistic.mjs");

/** A function that prepares one evaluation of `root`'s packages and returns its run. */
async function evaluator(root) {
  const mods = await import(`${root}/packages/modules/dist/index.js`);
  if (kind === "nix") {
    return () => {
      const modules = workloadModules(workloadSpec(n), mods);
      return () => mods.forceDeep(mods.evalModules({ modules }).config);
    };
  }
  const core = await import(`${root}/packages/core/dist/index.js`);
  const lib = { ref: core.ref, mkDefault: mods.mkDefault, mkForce: mods.mkForce };
  return () => {
    const def = realisticDefinition(n, lib);
    return () => core.evaluateDeployment(def, { file: "bench/nix2dream.config.ts" });
  };
}

const prepare = { base: await evaluator(roots.base), new: await evaluator(roots.new) };
const cpu = { base: [], new: [] };
for (let p = 0; p <= pairs; p++) {
  for (const k of p % 2 ? ["new", "base"] : ["base", "new"]) {
    const run = prepare[k]();
    globalThis.gc?.();
    const c0 = process.cpuUsage();
    run();
    const c = process.cpuUsage(c0);
    if (p > 0) cpu[k].push(Math.round((c.user + c.system) / 1000));
  }
}
for (const k of ["base", "new"])
  console.log(`${k}: CPU ms per evaluation ${cpu[k].join(" ")}; median ${median(cpu[k])}`);
console.log(`${kind} N=${n}: base / new = ${(median(cpu.base) / median(cpu.new)).toFixed(2)}×`);
printLoad();
