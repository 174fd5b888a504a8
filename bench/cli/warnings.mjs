#!/usr/bin/env node
// bench/cli/warnings: what `nix2dream check` costs to print the diagnostics of a large
// deployment, folded (the default) and one line each (`--all-warnings`, which is what every
// earlier version printed). The diagnostics are the real ones: the seven renderers render the
// realistic deployment (bench/realistic.mjs) of N services once through the API, and a project
// whose renderers return exactly those diagnostics (and no files) is checked, so the process
// spends its time evaluating N trivial services and printing. Both cases run alternately as
// fresh processes with stderr on a pipe; CPU time (user + system) is taken at exit. With BASE
// (the root of another built checkout), its CLI runs the same project as a third case.
//   node bench/cli/warnings.mjs [BASE]      BENCH_SIZES=1000,5000  BENCH_RUNS=7
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { median, printLoad, printTable, writeCpuAtExitHook } from "../lib.mjs";
import { realisticDefinition } from "../realistic.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const base = process.argv[2];
const SIZES = (process.env.BENCH_SIZES ?? "1000,5000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const ALL = ["procfile", "compose", "oci", "k8s", "systemd", "nixos", "nixos-vm"];
const dist = (pkg) => join(root, "packages", pkg, "dist", "index.js");
const tmp = mkdtempSync(join(tmpdir(), "n2d-bench-warnings-"));
const { hook, usageFile } = writeCpuAtExitHook(tmp);

/** The diagnostics each renderer reports for the realistic deployment of `n` services. */
async function capturedDiagnostics(n) {
  const { evaluateDeployment, ref } = await import(dist("core"));
  const { mkDefault, mkForce } = await import(dist("modules"));
  const use = [];
  for (const r of ALL) use.push((await import(dist(`render-${r}`))).default());
  const { deployment } = evaluateDeployment(
    realisticDefinition(n, { ref, mkDefault, mkForce }, use),
    { file: join(tmp, "nix2dream.config.mjs") },
  );
  return {
    services: Object.keys(deployment.services),
    byRenderer: Object.fromEntries(use.map((r) => [r.name, r.render(deployment).diagnostics])),
  };
}

/** A project (a plain config object, so any version of the CLI loads it) replaying `captured`. */
function writeProject(dir, captured) {
  writeFileSync(join(dir, "diagnostics.json"), JSON.stringify(captured.byRenderer));
  writeFileSync(
    join(dir, "nix2dream.config.mjs"),
    `import { readFileSync } from "node:fs";
const byRenderer = JSON.parse(readFileSync(new URL("./diagnostics.json", import.meta.url), "utf8"));
const services = Object.fromEntries(${JSON.stringify(captured.services)}.map((n) => [n, { command: ["x"] }]));
const use = Object.entries(byRenderer).map(([name, diagnostics]) => ({
  name,
  render: () => ({ artifacts: [], diagnostics }),
}));
export default { name: "bench", use, services };
`,
  );
}

function once(cli, args, dir) {
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(hook).href, cli, ...args], {
    cwd: dir,
    encoding: "utf8",
    maxBuffer: 1 << 30,
    env: { ...process.env, NIX2DREAM_CACHE_DIR: join(tmp, "cache") },
  });
  if (r.status !== 0) throw new Error(`${cli} ${args.join(" ")} failed:\n${r.stderr}`);
  return {
    cpuMs: Number(readFileSync(usageFile, "utf8")),
    lines: r.stderr.split("\n").length - 1,
    bytes: Buffer.byteLength(r.stderr),
  };
}

try {
  const cli = join(root, "packages/nix2dream/bin/nix2dream.js");
  const cases = [
    { name: "check --all-warnings (one line each)", cli, args: ["check", "--all-warnings"] },
    { name: "check (folded)", cli, args: ["check"] },
  ];
  if (base) {
    const old = join(base, "packages/nix2dream/bin/nix2dream.js");
    cases.unshift({ name: "check, BASE checkout", cli: old, args: ["check"] });
  }
  const rows = [];
  for (const n of SIZES) {
    const dir = mkdtempSync(join(tmp, `n${n}-`));
    writeProject(dir, await capturedDiagnostics(n));
    for (const c of cases) once(c.cli, c.args, dir); // warm: compiles and caches the config
    const got = new Map(cases.map((c) => [c.name, []]));
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 ? [...cases].reverse() : cases;
      for (const c of order) got.get(c.name).push(once(c.cli, c.args, dir));
    }
    const ref = median(got.get(cases[0].name).map((m) => m.cpuMs));
    for (const c of cases) {
      const m = got.get(c.name);
      const cpu = median(m.map((x) => x.cpuMs));
      rows.push([
        String(n),
        c.name,
        String(m[0].lines),
        `${(m[0].bytes / 1024).toFixed(0)} KiB`,
        cpu.toFixed(0),
        `${(cpu - ref).toFixed(0)}`,
        `${(ref / cpu).toFixed(2)}×`,
      ]);
    }
  }
  printTable(
    [
      "N",
      "command",
      "stderr lines",
      "stderr size",
      `CPU ms (median of ${RUNS})`,
      "Δ vs first row",
      "first row / this",
    ],
    rows,
  );
  printLoad();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
