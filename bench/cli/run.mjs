#!/usr/bin/env node
// bench/cli: cold start of the `nix2dream` command, each run a fresh process, beside a bare
// `node -e 0` measured in the same run (interleaved, so machine load hits both alike). Prints
// median wall and CPU times (user + system of the whole process, which load on a shared machine
// barely changes) and their ratios to `node -e 0`:
//   --version and --help (no config is loaded for either; targets ≤ 2×),
//   render of examples/quickstart, with the compiled config cached (target ≤ 3.5×) and
//   with the cache emptied before every run (the first render after an edit), and of the same
//   config as nix2dream.config.mjs (imported by Node itself).
//   npm run bench -- cli          builds and runs it; after a build: node bench/cli/run.mjs
//   node bench/cli/run.mjs BASE   also runs each nix2dream case with the built checkout BASE
//                                 (its own examples/quickstart), alternated, and prints new / BASE
// BENCH_RUNS=15 (the default) runs of each.
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { median, printLoad, printTable, writeCpuAtExitHook } from "../lib.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const base = process.argv[2];
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const cliOf = (r) => join(r, "packages/nix2dream/bin/nix2dream.js");
const cli = cliOf(root);
const out = mkdtempSync(join(tmpdir(), "n2d-bench-cli-"));
// Loaded with --import into a second run of every case (node -e 0 too): its CPU time at exit.
// The wall time is taken from the run without it, so the hook's own load is in no ratio.
const { hook, usageFile } = writeCpuAtExitHook(out);

const CASES = [
  { name: "node -e 0", argv: ["-e", "0"] },
  { name: "nix2dream --version", argv: [cli, "--version"], target: 2 },
  { name: "nix2dream --help", argv: [cli, "--help"], target: 2 },
  { name: "nix2dream render (cached config)", argv: [cli, "render", "--out", out], target: 3.5 },
  { name: "nix2dream render (cold cache)", argv: [cli, "render", "--out", out], fresh: true },
  // The same config as an ES module, which Node imports itself (no jiti, nothing cached).
  { name: "nix2dream render (.mjs config)", argv: [cli, "render", "--out", out], mjs: true },
].map((c) => ({ ...c, root }));
if (base) {
  // Each case of this checkout is followed by the same with BASE's CLI, in BASE's quickstart.
  for (const c of [...CASES].reverse().filter((x) => x.argv[0] === cli)) {
    const twin = { ...c, name: `${c.name}, BASE`, argv: [cliOf(base), ...c.argv.slice(1)] };
    CASES.splice(CASES.indexOf(c) + 1, 0, { ...twin, root: base, target: undefined, of: c.name });
  }
}

/** A copy of `r`'s quickstart config as `nix2dream.config.mjs`, beside its node_modules. */
function mjsProject(r) {
  const dir = join(out, r === root ? "mjs" : "mjs-base");
  if (existsSync(dir)) return dir;
  mkdirSync(dir);
  const quickstart = join(r, "examples/quickstart");
  copyFileSync(join(quickstart, "nix2dream.config.ts"), join(dir, "nix2dream.config.mjs"));
  symlinkSync(join(quickstart, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** Runs case `c` twice: wall time (ms) of a bare run, CPU time (ms) of a run with the hook. */
function once(c) {
  // Each checkout its own cache: the compiled config imports that checkout's packages.
  const cacheDir = join(out, c.root === root ? "cache" : "cache-base");
  const run = (pre) => {
    if (c.fresh) rmSync(cacheDir, { recursive: true, force: true });
    const t = performance.now();
    const r = spawnSync(process.execPath, [...pre, ...c.argv], {
      cwd: c.mjs ? mjsProject(c.root) : join(c.root, "examples/quickstart"),
      encoding: "utf8",
      env: { ...process.env, NIX2DREAM_CACHE_DIR: cacheDir },
    });
    if (r.status !== 0) throw new Error(`${c.name} failed:\n${r.stderr}`);
    return performance.now() - t;
  };
  const wallMs = run([]);
  run(["--import", pathToFileURL(hook).href]);
  return { wallMs, cpuMs: Number(readFileSync(usageFile, "utf8")) };
}

try {
  const times = new Map(CASES.map((c) => [c.name, []]));
  // Fills the caches (and the OS file cache) before the measured runs.
  for (const c of CASES.filter((x) => x.argv.includes("render") && !x.fresh)) once(c);
  for (let i = 0; i < RUNS; i++) {
    // Alternate the order, so neither checkout always runs right after the other.
    for (const c of i % 2 ? [...CASES].reverse() : CASES) times.get(c.name).push(once(c));
  }
  const med = (name, key) => median(times.get(name).map((m) => m[key]));
  const wall0 = med("node -e 0", "wallMs");
  const cpu0 = med("node -e 0", "cpuMs");
  const twinOf = (c) => CASES.find((x) => x.of === c.name);
  const baseRatio = (c, cpu) =>
    twinOf(c) ? `${(med(twinOf(c).name, "cpuMs") / cpu).toFixed(2)}×` : "";
  printTable(
    [
      "command (examples/quickstart)",
      `wall, median of ${RUNS} (ms)`,
      "× node -e 0 (wall)",
      "CPU (ms)",
      "× node -e 0 (CPU)",
      "target",
      ...(base ? ["BASE / this (CPU)"] : []),
    ],
    CASES.map((c) => {
      const wall = med(c.name, "wallMs");
      const cpu = med(c.name, "cpuMs");
      return [
        c.name,
        wall.toFixed(0),
        `${(wall / wall0).toFixed(2)}×`,
        cpu.toFixed(0),
        `${(cpu / cpu0).toFixed(2)}×`,
        c.target ? `≤ ${c.target}×` : "",
        ...(base ? [baseRatio(c, cpu)] : []),
      ];
    }),
  );
  printLoad();
} finally {
  rmSync(out, { recursive: true, force: true });
}
