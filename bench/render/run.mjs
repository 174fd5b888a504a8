#!/usr/bin/env node
// bench/render: every renderer on deployments of the realistic shape bench/core uses
// (bench/realistic.mjs), at several sizes, each size in a fresh child process. The deployment is
// evaluated once per size with all seven renderers in `use`; each renderer's `render()` is then
// timed alone (one warm-up, then the median of BENCH_RUNS). Prints a table of medians and, per renderer, the time at the
// largest size divided by the time at the smallest (linear growth from 100 to 5000 is 50×).
// Then `nix2dream render` with all seven renderers on BENCH_CLI_SIZE services (wall and CPU time
// of the whole process, beside a bare `node -e 0`, alternating), and the CLI against the API on
// BENCH_API_SIZE services: the same evaluation, renders and files, CPU time and peak RSS of
// each process (the target: the CLI at most 1.3× the API in both).
//   npm run bench -- render          builds and runs it; after a build: node bench/render/run.mjs
// Then, as a separate table, each renderer ALONE: a fresh process per renderer with only that
// renderer in `use` evaluates BENCH_ALONE_SIZE services once and renders them (the first render,
// then the median of BENCH_RUNS more): what a user with one renderer gets. The main table renders
// every renderer in one process, where a renderer's time also depends on the renderers before
// it (they share core's code, its JIT state and the heap).
// BENCH_SIZES=100,1000,5000, BENCH_RUNS=3, BENCH_CLI_SIZE=1000, BENCH_API_SIZE=5000,
// BENCH_API_RUNS=3, BENCH_ALONE_SIZE=the largest of BENCH_SIZES (the defaults); a size of 0
// skips that part.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  ALL_RENDERERS,
  measureProcess,
  median,
  printLoad,
  printTable,
  realisticConfigSource,
  runChildren,
} from "../lib.mjs";
import { enabledCount, realisticDefinition } from "../realistic.mjs";

const here = fileURLToPath(import.meta.url);
const root = join(dirname(here), "..", "..");
const SIZES = (process.env.BENCH_SIZES ?? "100,1000,5000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CLI_SIZE = Number(process.env.BENCH_CLI_SIZE ?? 1000);
const API_SIZE = Number(process.env.BENCH_API_SIZE ?? 5000);
const API_RUNS = Number(process.env.BENCH_API_RUNS ?? 3);
const ALONE_SIZE = Number(process.env.BENCH_ALONE_SIZE ?? SIZES[SIZES.length - 1]);
const ALL = ALL_RENDERERS;
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
    const cpu = [];
    let bytes = 0;
    renderer.render(deployment); // warm-up, so the JIT has seen the code at every size
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const c = process.cpuUsage();
      const { artifacts } = renderer.render(deployment);
      const used = process.cpuUsage(c);
      times.push(performance.now() - t);
      cpu.push((used.user + used.system) / 1000);
      bytes = artifacts.reduce((sum, a) => sum + a.content.length, 0);
    }
    if (bytes === 0) throw new Error(`${renderer.name} rendered nothing`);
    renders[renderer.name] = { medianMs: median(times), cpuMs: median(cpu), bytes };
  }
  process.stdout.write(JSON.stringify({ n, evaluateMs, renders }));
}

/**
 * One renderer alone in this process (only it in `use`): `n` services evaluated once, then the
 * CPU time of the first render and the median of RUNS more.
 */
async function alone(n, name) {
  const { evaluateDeployment, ref } = await import(dist("core"));
  const { mkDefault, mkForce } = await import(dist("modules"));
  const renderer = (await import(dist(`render-${name}`))).default();
  const { deployment } = evaluateDeployment(
    realisticDefinition(n, { ref, mkDefault, mkForce }, [renderer]),
    { file: "bench/nix2dream.config.ts" },
  );
  const cpu = [];
  for (let i = 0; i <= RUNS; i++) {
    const c = process.cpuUsage();
    renderer.render(deployment);
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
  }
  process.stdout.write(JSON.stringify({ firstCpuMs: cpu[0], cpuMs: median(cpu.slice(1)) }));
}

function printAlone() {
  const lines = RENDERERS.map((name) => {
    const r = JSON.parse(
      execFileSync(process.execPath, [here, "--alone", String(ALONE_SIZE), name], {
        encoding: "utf8",
      }),
    );
    return [name, r.firstCpuMs.toFixed(1), r.cpuMs.toFixed(1)];
  });
  console.log(
    `\nEach renderer ALONE, N=${ALONE_SIZE}: a fresh process per renderer, only it in \`use\`, one evaluation; CPU of its first render and median of ${RUNS} more (one process each: read with the load):`,
  );
  printTable(["renderer", "first render CPU (ms)", `median of ${RUNS} after it, CPU (ms)`], lines);
}

/** Medians of `runs` alternating runs of each command (a, b, b, a, ...), so load hits both alike. */
function paired(commands, runs, cwd) {
  const results = commands.map(() => []);
  for (let i = 0; i < runs; i++) {
    const order = i % 2 ? [...commands.keys()].reverse() : [...commands.keys()];
    for (const k of order) results[k].push(measureProcess(commands[k], cwd));
  }
  return results.map((rs) => ({
    wallMs: median(rs.map((r) => r.wallMs)),
    cpuMs: median(rs.map((r) => r.cpuMs)),
    maxRssMiB: median(rs.map((r) => r.maxRssMiB)),
  }));
}

const cli = join(root, "packages/nix2dream/bin/nix2dream.js");

/** A project directory with the config of `n` services; removed after `f`. */
function withProject(n, f) {
  const dir = mkdtempSync(join(tmpdir(), "n2d-bench-render-"));
  try {
    writeFileSync(join(dir, "nix2dream.config.mjs"), realisticConfigSource(root, n));
    return f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printCliRender() {
  const [node, render] = withProject(CLI_SIZE, (dir) =>
    paired(
      [
        ["-e", "0"],
        [cli, "render"],
      ],
      RUNS,
      dir,
    ),
  );
  console.log(
    `\n\`nix2dream render\`, all ${ALL.length} renderers, ${CLI_SIZE} services (medians of ${RUNS}, alternating):`,
  );
  printTable(
    ["command", "wall (ms)", "CPU (ms)", "× node -e 0 (wall)", "target"],
    [
      ["node -e 0", node.wallMs.toFixed(0), node.cpuMs.toFixed(0), "1.0×", ""],
      [
        "nix2dream render",
        render.wallMs.toFixed(0),
        render.cpuMs.toFixed(0),
        `${(render.wallMs / node.wallMs).toFixed(1)}×`,
        `≤ 5000 ms wall (quiet machine): ${render.wallMs <= 5000 ? "met" : "not met"}`,
      ],
    ],
  );
}

/**
 * The same work through the API (this script with --api: the config's definition evaluated,
 * every renderer's render(), every file written with writeFileSync, no manifest) and through
 * `nix2dream render` (atomic writes, manifest), in fresh processes.
 */
function printCliVersusApi() {
  const [api, render] = withProject(API_SIZE, (dir) =>
    paired(
      [
        [here, "--api", join(dir, "api-out")],
        [cli, "render"],
      ],
      API_RUNS,
      dir,
    ),
  );
  console.log(
    `\nCLI against API, all ${ALL.length} renderers, ${API_SIZE} services (medians of ${API_RUNS}, alternating):`,
  );
  const row = (name, m) => [
    name,
    m.wallMs.toFixed(0),
    m.cpuMs.toFixed(0),
    m.maxRssMiB.toFixed(0),
    `${(m.cpuMs / api.cpuMs).toFixed(2)}×`,
    `${(m.maxRssMiB / api.maxRssMiB).toFixed(2)}×`,
  ];
  printTable(
    ["path", "wall (ms)", "CPU (ms)", "peak RSS (MiB)", "CPU ÷ API", "RSS ÷ API"],
    [row("API (evaluate, render, writeFileSync)", api), row("nix2dream render", render)],
  );
  const met = (r) => (r <= 1.3 ? "met" : "not met");
  const cpu = render.cpuMs / api.cpuMs;
  const rss = render.maxRssMiB / api.maxRssMiB;
  console.log(
    `target ≤ 1.3× the API: CPU ${cpu.toFixed(2)}× ${met(cpu)}, RSS ${rss.toFixed(2)}× ${met(rss)}`,
  );
}

/** The API path of {@link printCliVersusApi}, run in its own process. */
async function apiRender(out) {
  const { default: definition } = await import(
    pathToFileURL(join(process.cwd(), "nix2dream.config.mjs")).href
  );
  const { evaluateDeployment } = await import(dist("core"));
  const { deployment, renderers } = evaluateDeployment(definition, {
    file: join(process.cwd(), "nix2dream.config.mjs"),
  });
  const results = renderers.map((r) => ({ name: r.name, result: r.render(deployment) }));
  for (const { name, result } of results) {
    for (const a of result.artifacts) {
      const file = join(out, name, a.path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, a.content, { mode: a.mode ?? 0o644 });
    }
  }
}

function main() {
  const rows = runChildren(here, SIZES);
  const first = rows[0];
  const last = rows[rows.length - 1];
  const head = [
    "renderer",
    ...rows.map((r) => `N=${r.n} wall (ms)`),
    ...rows.map((r) => `N=${r.n} CPU (ms)`),
    `N=${last.n} ÷ N=${first.n} (CPU)`,
    `output at N=${last.n} (MB)`,
  ];
  const lines = RENDERERS.map((name) => [
    name,
    ...rows.map((r) => r.renders[name].medianMs.toFixed(1)),
    ...rows.map((r) => r.renders[name].cpuMs.toFixed(1)),
    `${(last.renders[name].cpuMs / first.renders[name].cpuMs).toFixed(1)}×`,
    (last.renders[name].bytes / 1e6).toFixed(1),
  ]);
  lines.push([
    "(evaluate, once)",
    ...rows.map((r) => r.evaluateMs.toFixed(0)),
    ...rows.map(() => ""),
    "",
    "",
  ]);
  console.log(
    `render() medians of ${RUNS} runs (wall, and CPU time of the process: the machine may be shared); linear growth from N=${first.n} to N=${last.n} is ${last.n / first.n}×\n`,
  );
  printTable(head, lines);
  if (ALONE_SIZE !== 0) printAlone();
  if (CLI_SIZE !== 0) printCliRender();
  if (API_SIZE !== 0) printCliVersusApi();
  printLoad();
}

if (process.argv[2] === "--child") await child(Number(process.argv[3]));
else if (process.argv[2] === "--api") await apiRender(process.argv[3]);
else if (process.argv[2] === "--alone") await alone(Number(process.argv[3]), process.argv[4]);
else main();
