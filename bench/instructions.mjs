#!/usr/bin/env node
// Instruction counts of whole processes, this checkout against another built one (BASE): the
// steadiest measure this project has on a shared machine. Each run is one `node
// --single-threaded` process (the JIT compiles and the GC runs on the main thread, so their work
// is counted too) under valgrind's callgrind, one after another (never two at a time: runs that
// overlapped were seen to disagree). Runs of one build agree within about ±0.3 % in one
// invocation and within about 0.7 % across invocations, so a change of 1 % or more that shows
// again is real, where a CPU timing here swings by ±10 %. It is not a time: an instruction of
// the garbage collector costs less than a cache-missing load of the engine.
//
//   node bench/instructions.mjs BASE [workload ...]
//
// Workloads (default: nix:1000 realistic:1000; four runs each, base/new/new/base, about a minute
// per run of a thousand services):
//   nix:N              bench/modules/nix-workload.mjs --child N: the engine on the Nix workload
//   realistic:N        bench/render/run.mjs --alone N procfile: core's evaluation of N realistic
//                      services, then two procfile renders
//   render:N:RENDERER  the same with another renderer
//
// Needs valgrind (`apt-get install -y valgrind`); not run by `npm run bench`. BASE is the root of
// another checkout whose packages are built.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { printLoad, printTable } from "./lib.mjs";

const [baseRoot, ...names] = process.argv.slice(2);
if (!baseRoot) {
  console.error(
    "usage: node bench/instructions.mjs BASE [nix:N | realistic:N | render:N:RENDERER ...]",
  );
  process.exit(1);
}
if (spawnSync("valgrind", ["--version"]).status !== 0) {
  console.error(
    "bench/instructions.mjs needs valgrind, which is not on PATH: apt-get install -y valgrind",
  );
  process.exit(1);
}
const roots = {
  base: baseRoot.replace(/\/$/, ""),
  new: fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, ""),
};

/** The command line of one workload, relative to a checkout's root. */
function argvOf(name) {
  const [kind, n, renderer] = name.split(":");
  if (kind === "nix" && n) return ["bench/modules/nix-workload.mjs", "--child", n, "", "0"];
  if (kind === "realistic" && n) return ["bench/render/run.mjs", "--alone", n, "procfile"];
  if (kind === "render" && n && renderer) return ["bench/render/run.mjs", "--alone", n, renderer];
  console.error(`unknown workload "${name}": nix:N, realistic:N or render:N:RENDERER`);
  process.exit(1);
}

/** Instructions of one whole process of `argv` in `root` (callgrind's total, in millions). */
function count(root, argv, dir) {
  const out = join(dir, `cg.${Date.now()}`);
  execFileSync(
    "valgrind",
    [
      "--tool=callgrind",
      `--callgrind-out-file=${out}`,
      process.execPath,
      "--single-threaded",
      join(root, argv[0]),
      ...argv.slice(1),
    ],
    { cwd: root, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, BENCH_RUNS: "1" } },
  );
  const totals = readFileSync(out, "utf8").match(/^(?:summary|totals): (\d+)/m);
  if (!totals) throw new Error(`no instruction total in ${out}`);
  for (const f of readdirSync(dir)) rmSync(join(dir, f));
  return Number(totals[1]) / 1e6;
}

const dir = mkdtempSync(join(tmpdir(), "n2d-instructions-"));
try {
  const rows = [];
  for (const name of names.length > 0 ? names : ["nix:1000", "realistic:1000"]) {
    const argv = argvOf(name);
    // base, new, new, base: V8's time-based heuristics (when the GC runs) see the machine's load;
    // a drift of it over the four runs then hits both sides alike.
    const base = [count(roots.base, argv, dir)];
    const fresh = [count(roots.new, argv, dir), count(roots.new, argv, dir)];
    base.push(count(roots.base, argv, dir));
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const change = (mean(fresh) / mean(base) - 1) * 100;
    rows.push([
      name,
      base.map((m) => m.toFixed(0)).join(" / "),
      fresh.map((m) => m.toFixed(0)).join(" / "),
      `${change >= 0 ? "+" : "−"}${Math.abs(change).toFixed(1)} %`,
    ]);
  }
  printTable(["workload", "BASE (M instructions)", "this checkout (M)", "change"], rows);
  console.log(
    "whole process under valgrind callgrind, node --single-threaded; runs of one build agree within about ±0.3 %.",
  );
  printLoad();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
