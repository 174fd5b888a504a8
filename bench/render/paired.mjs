#!/usr/bin/env node
// Paired comparison of this checkout's renderers against another built checkout (BASE), for a
// loaded machine: the realistic deployment (bench/realistic.mjs, all seven renderers in `use`)
// is evaluated by each checkout's core, then each renderer of both checkouts renders its own
// alternately in ONE process (base, new, new, base, ...), so load changes hit both alike.
// Prints the CPU time (process.cpuUsage, GC helper threads included) of each render, the ratio
// of medians and whether both wrote the same artifacts and diagnostics.
//
//   node --expose-gc bench/render/paired.mjs N PAIRS BASE [renderer,...] [--plain]
//
// --plain renders a structured clone of the deployment (plain objects rather than the objects
// evaluation made), to see renderer costs apart from how core builds its values.
// BASE is the root of another checkout whose packages are built. The first pair is a warm-up.
import { fileURLToPath } from "node:url";
import { deserialize, serialize } from "node:v8";
import { median, printLoad } from "../lib.mjs";
import { realisticDefinition } from "../realistic.mjs";

const args = process.argv.slice(2).filter((a) => a !== "--plain");
const plain = process.argv.includes("--plain");
const [nArg, pairsArg, baseRoot, which = "procfile,compose,k8s"] = args;
if (!baseRoot) {
  console.error(
    "usage: node --expose-gc bench/render/paired.mjs N PAIRS BASE [renderer,...] [--plain]",
  );
  process.exit(1);
}
const n = Number(nArg);
const pairs = Number(pairsArg);
const roots = {
  base: baseRoot.replace(/\/$/, ""),
  new: fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, ""),
};
const dist = (root, pkg) => `${root}/packages/${pkg}/dist/index.js`;

// Each checkout evaluates the deployment with its own core and renders its own copy: a core that
// evaluated carries the JIT state of evaluation into the renders, so one deployment evaluated by
// one side's core measured identical renderers 0.84-1.11x apart (procfile always lower for the
// evaluating side).
const deployments = {};
for (const k of ["base", "new"]) {
  const core = await import(dist(roots[k], "core"));
  const mods = await import(dist(roots[k], "modules"));
  const lib = { ref: core.ref, mkDefault: mods.mkDefault, mkForce: mods.mkForce };
  // All seven renderers in `use`, as bench/render/run.mjs has them: each adds its service options.
  const use = [];
  for (const r of ["procfile", "compose", "oci", "k8s", "systemd", "nixos", "nixos-vm"]) {
    use.push((await import(dist(roots[k], `render-${r}`))).default());
  }
  const evaluated = core.evaluateDeployment(realisticDefinition(n, lib, use), {
    file: "bench/nix2dream.config.ts",
  }).deployment;
  deployments[k] = plain ? deserialize(serialize(evaluated)) : evaluated;
}

for (const name of which.split(",")) {
  const renderer = {};
  for (const k of ["base", "new"]) {
    renderer[k] = (await import(dist(roots[k], `render-${name}`))).default();
  }
  const cpu = { base: [], new: [] };
  const first = {};
  for (let p = 0; p <= pairs; p++) {
    for (const k of p % 2 ? ["new", "base"] : ["base", "new"]) {
      globalThis.gc?.();
      const c0 = process.cpuUsage();
      const result = renderer[k].render(deployments[k]);
      const c = process.cpuUsage(c0);
      if (p === 0) first[k] = JSON.stringify(result);
      else cpu[k].push(Math.round((c.user + c.system) / 1000));
    }
  }
  const same = first.base === first.new ? "identical output" : "OUTPUT DIFFERS";
  for (const k of ["base", "new"]) {
    console.log(`${name} ${k}: CPU ms per render ${cpu[k].join(" ")}; median ${median(cpu[k])}`);
  }
  // Under heavy load single renders swing by 2×: the median of the per-pair ratios is steadier.
  const ratios = cpu.base.map((b, i) => b / cpu.new[i]);
  console.log(
    `${name} N=${n}${plain ? " (plain)" : ""}: base / new = ${(median(cpu.base) / median(cpu.new)).toFixed(2)}× (medians), ${median(ratios).toFixed(2)}× (median of pair ratios), ${same}`,
  );
}
printLoad();
