#!/usr/bin/env node
// bench/render: every renderer on deployments of the realistic shape bench/core uses
// (bench/realistic.mjs), at several sizes, each size in a fresh child process. The deployment is
// evaluated once per size with all seven renderers in `use`; each renderer's `render()` is then
// timed alone (one warm-up, then the median of BENCH_RUNS). Prints a table of medians and, per renderer, the time at the
// largest size divided by the time at the smallest (linear growth from 100 to 5000 is 50×).
// Then `nix2dream render` with all seven renderers on BENCH_CLI_SIZE services, wall time of the
// whole process (median of BENCH_RUNS), beside a bare `node -e 0` measured in the same run.
//   npm run bench -- render          builds and runs it; after a build: node bench/render/run.mjs
// BENCH_SIZES=100,1000,5000, BENCH_RUNS=3, BENCH_CLI_SIZE=1000 (the defaults); BENCH_CLI_SIZE=0
// skips the CLI run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { median, printLoad, printTable, runChildren } from "../lib.mjs";
import { enabledCount, realisticDefinition } from "../realistic.mjs";

const here = fileURLToPath(import.meta.url);
const root = join(dirname(here), "..", "..");
const SIZES = (process.env.BENCH_SIZES ?? "100,1000,5000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CLI_SIZE = Number(process.env.BENCH_CLI_SIZE ?? 1000);
const ALL = ["procfile", "compose", "oci", "k8s", "systemd", "nixos", "nixos-vm"];
// BENCH_RENDERERS=compose,k8s times only those (all seven are still in `use` for the CLI run).
const RENDERERS = process.env.BENCH_RENDERERS?.split(",") ?? ALL;
const dist = (pkg) => join(root, "packages", pkg, "dist", "index.js");

async function child(n) {
  const { evaluateDeployment, ref } = await import(dist("core"));
  const { mkDefault, mkForce } = await import(dist("modules"));
  const use = [];
  for (const r of ALL) use.push((await import(dist(`render-${r}`))).default());
  const t0 = performance.now();
  const { deployment } = evaluateDeployment(
    realisticDefinition(n, { ref, mkDefault, mkForce }, use),
    { file: "bench/nix2dream.config.ts" },
  );
  const evaluateMs = performance.now() - t0;
  if (Object.keys(deployment.services).length !== enabledCount(n)) {
    throw new Error("benchmark produced a wrong deployment");
  }
  const renders = {};
  for (const renderer of use.filter((r) => RENDERERS.includes(r.name))) {
    const times = [];
    let bytes = 0;
    renderer.render(deployment); // warm-up, so the JIT has seen the code at every size
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const { artifacts } = renderer.render(deployment);
      times.push(performance.now() - t);
      bytes = artifacts.reduce((sum, a) => sum + a.content.length, 0);
    }
    if (bytes === 0) throw new Error(`${renderer.name} rendered nothing`);
    renders[renderer.name] = { medianMs: median(times), bytes };
  }
  process.stdout.write(JSON.stringify({ n, evaluateMs, renders }));
}

/** The config of a project with `n` realistic services and all seven renderers. */
function configSource(n) {
  const imports = ALL.map(
    (r, i) => `import r${i} from ${JSON.stringify(pathToFileURL(dist(`render-${r}`)).href)};`,
  );
  return [
    `import { ref } from ${JSON.stringify(pathToFileURL(dist("core")).href)};`,
    `import { mkDefault, mkForce } from ${JSON.stringify(pathToFileURL(dist("modules")).href)};`,
    `import { realisticDefinition } from ${JSON.stringify(pathToFileURL(join(root, "bench/realistic.mjs")).href)};`,
    ...imports,
    `export default realisticDefinition(${n}, { ref, mkDefault, mkForce }, [${ALL.map((_, i) => `r${i}()`).join(", ")}]);`,
    "",
  ].join("\n");
}

/** Median wall time (ms) of `argv` run RUNS times in `cwd`. */
function wall(argv, cwd) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(argv[0], argv.slice(1), { cwd, encoding: "utf8", maxBuffer: 2 ** 30 });
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${argv.join(" ")} failed:\n${r.stderr}`);
  }
  return median(times);
}

function cliRender() {
  const dir = mkdtempSync(join(tmpdir(), "n2d-bench-render-"));
  try {
    writeFileSync(join(dir, "nix2dream.config.mjs"), configSource(CLI_SIZE));
    const cli = join(root, "packages/nix2dream/bin/nix2dream.js");
    const nodeMs = wall([process.execPath, "-e", "0"], dir);
    const renderMs = wall([process.execPath, cli, "render"], dir);
    return { nodeMs, renderMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main() {
  const rows = runChildren(here, SIZES);
  const first = rows[0];
  const last = rows[rows.length - 1];
  const head = [
    "renderer",
    ...rows.map((r) => `N=${r.n} (ms)`),
    `N=${last.n} ÷ N=${first.n}`,
    `output at N=${last.n} (MB)`,
  ];
  const lines = RENDERERS.map((name) => [
    name,
    ...rows.map((r) => r.renders[name].medianMs.toFixed(1)),
    `${(last.renders[name].medianMs / first.renders[name].medianMs).toFixed(1)}×`,
    (last.renders[name].bytes / 1e6).toFixed(1),
  ]);
  lines.push(["(evaluate, once)", ...rows.map((r) => r.evaluateMs.toFixed(0)), "", ""]);
  console.log(
    `render() medians of ${RUNS} runs; linear growth from N=${first.n} to N=${last.n} is ${last.n / first.n}×\n`,
  );
  printTable(head, lines);
  if (CLI_SIZE === 0) return printLoad();
  const { nodeMs, renderMs } = cliRender();
  console.log(
    `\n\`nix2dream render\`, all ${ALL.length} renderers, ${CLI_SIZE} services (median wall of ${RUNS}):`,
  );
  printTable(
    ["command", "wall (ms)", "× node -e 0"],
    [
      ["node -e 0", nodeMs.toFixed(0), "1.0×"],
      ["nix2dream render", renderMs.toFixed(0), `${(renderMs / nodeMs).toFixed(1)}×`],
    ],
  );
  printLoad();
}

if (process.argv[2] === "--child") await child(Number(process.argv[3]));
else main();
