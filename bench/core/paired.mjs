#!/usr/bin/env node
// Paired comparison of core's evaluateDeployment against another built checkout (BASE), for a
// loaded machine, on bench/realistic.mjs with all seven renderers in `use` (as `nix2dream render`
// evaluates it): both checkouts are imported into ONE process and run alternately (base, new,
// new, base, ...), so load changes hit both alike. For each run it prints the CPU time
// (process.cpuUsage) of the evaluation and of render-compose and render-k8s on the deployment
// that evaluation returned (each checkout's own renderers), and the ratio of medians.
//
//   node --expose-gc bench/core/paired.mjs N PAIRS BASE [bare]
//
// BASE is the root of another checkout whose packages are built. The first pair is a warm-up.
// `bare`: no renderer in `use` (as bench/core/run.mjs evaluates it); only the evaluation is timed.
import { fileURLToPath } from "node:url";
import { median, printLoad } from "../lib.mjs";
import { realisticDefinition } from "../realistic.mjs";

const [nArg, pairsArg, baseRoot, mode] = process.argv.slice(2);
if (!baseRoot) {
  console.error("usage: node --expose-gc bench/core/paired.mjs N PAIRS BASE [bare]");
  process.exit(1);
}
const n = Number(nArg);
const pairs = Number(pairsArg);
const here = fileURLToPath(new URL("../..", import.meta.url));
const roots = { base: baseRoot.replace(/\/$/, ""), new: here.replace(/\/$/, "") };
const bare = mode === "bare";
const ALL = bare ? [] : ["procfile", "compose", "oci", "k8s", "systemd", "nixos", "nixos-vm"];
const TIMED = bare ? [] : ["compose", "k8s"];

/** One checkout's run: evaluate a fresh definition, then render it with the timed renderers. */
async function runner(root) {
  const pkg = (name) => import(`${root}/packages/${name}/dist/index.js`);
  const core = await pkg("core");
  const mods = await pkg("modules");
  const use = [];
  for (const r of ALL) use.push((await pkg(`render-${r}`)).default());
  const lib = { ref: core.ref, mkDefault: mods.mkDefault, mkForce: mods.mkForce };
  return () => {
    const def = realisticDefinition(n, lib, use);
    const cpu = {};
    globalThis.gc?.();
    let c0 = process.cpuUsage();
    const { deployment } = core.evaluateDeployment(def, { file: "bench/nix2dream.config.ts" });
    cpu.evaluate = process.cpuUsage(c0);
    for (const r of use.filter((x) => TIMED.includes(x.name))) {
      c0 = process.cpuUsage();
      r.render(deployment);
      cpu[r.name] = process.cpuUsage(c0);
    }
    const ms = (c) => Math.round((c.user + c.system) / 1000);
    return Object.fromEntries(Object.entries(cpu).map(([k, c]) => [k, ms(c)]));
  };
}

const run = { base: await runner(roots.base), new: await runner(roots.new) };
const results = { base: [], new: [] };
for (let p = 0; p <= pairs; p++) {
  for (const k of p % 2 ? ["new", "base"] : ["base", "new"]) {
    const r = run[k]();
    if (p > 0) results[k].push(r);
  }
}
for (const what of ["evaluate", ...TIMED]) {
  const of = (k) => results[k].map((r) => r[what]);
  for (const k of ["base", "new"])
    console.log(`${what} ${k}: CPU ms ${of(k).join(" ")}; median ${median(of(k))}`);
  console.log(
    `${what} N=${n} (${bare ? "no renderer" : "seven renderers"} in use): base / new = ${(median(of("base")) / median(of("new"))).toFixed(2)}×`,
  );
}
printLoad();
