#!/usr/bin/env node
// bench/cli: cold start of the `nix2dream` command, each run a fresh process, beside a bare
// `node -e 0` measured in the same run (interleaved, so machine load hits both alike). Prints
// median wall times and their ratio to `node -e 0`:
//   --version and --help (no config is loaded for either; targets ≤ 2×),
//   render of examples/quickstart, with the compiled config cached (target ≤ 3.5×) and
//   with the cache emptied before every run (the first render after an edit).
//   npm run bench -- cli          builds and runs it; after a build: node bench/cli/run.mjs
// BENCH_RUNS=15 (the default) runs of each.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, printLoad, printTable } from "../lib.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const cli = join(root, "packages/nix2dream/bin/nix2dream.js");
const quickstart = join(root, "examples/quickstart");
const out = mkdtempSync(join(tmpdir(), "n2d-bench-cli-"));
const cacheDir = join(out, "cache");

const CASES = [
  { name: "node -e 0", argv: ["-e", "0"] },
  { name: "nix2dream --version", argv: [cli, "--version"], target: 2 },
  { name: "nix2dream --help", argv: [cli, "--help"], target: 2 },
  { name: "nix2dream render (cached config)", argv: [cli, "render", "--out", out], target: 3.5 },
  { name: "nix2dream render (cold cache)", argv: [cli, "render", "--out", out], fresh: true },
];

function once(c) {
  if (c.fresh) rmSync(cacheDir, { recursive: true, force: true });
  const t = performance.now();
  const r = spawnSync(process.execPath, c.argv, {
    cwd: quickstart,
    encoding: "utf8",
    env: { ...process.env, NIX2DREAM_CACHE_DIR: cacheDir },
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${c.name} failed:\n${r.stderr}`);
  return ms;
}

try {
  const times = new Map(CASES.map((c) => [c.name, []]));
  once(CASES[3]); // fills the cache (and the OS file cache) before the measured runs
  for (let i = 0; i < RUNS; i++) for (const c of CASES) times.get(c.name).push(once(c));
  const base = median(times.get("node -e 0"));
  printTable(
    ["command (examples/quickstart)", `median of ${RUNS} (ms)`, "× node -e 0", "target"],
    CASES.map((c) => {
      const m = median(times.get(c.name));
      return [c.name, m.toFixed(0), `${(m / base).toFixed(2)}×`, c.target ? `≤ ${c.target}×` : ""];
    }),
  );
  printLoad();
} finally {
  rmSync(out, { recursive: true, force: true });
}
