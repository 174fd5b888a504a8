#!/usr/bin/env node
// Benchmark of @nix2dream/modules (issue 2 §6): a generated deployment of N services, forced
// completely. `npm run bench -- modules` builds and runs it; after a build,
//   node bench/modules/run.mjs
// Each N runs in a fresh child process so the peak RSS is that N's alone.
// BENCH_SIZES=1000,3000,10000 and BENCH_RUNS=5 (the defaults) choose the sizes and runs per size.
// Then bench/modules/nix-workload.mjs: the workload that also exists as Nix modules, whole process
// against Nix (BENCH_NIX_SIZES=1000,10000).
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, printGrowth, printLoad, printTable, runChildren, timings } from "../lib.mjs";

const here = fileURLToPath(import.meta.url);
const SIZES = (process.env.BENCH_SIZES ?? "1000,3000,10000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
// Quoted from issue 2 (Nix 2.8 evaluating the NixOS module system on this machine); not measured here.
const NIX_QUOTED = { 1000: 0.43, 10000: 10.3 };
const TARGET_MS = { 1000: 60, 10000: 600 };

async function child(n) {
  const { evalModules, forceDeep, mkAfter, mkDefault, mkForce, mkIf, mkOption, types } =
    await import("../../packages/modules/dist/index.js");
  const names = Array.from({ length: n }, (_, i) => `svc${i}`);
  const health = types.submodule({
    options: {
      path: mkOption({ type: types.str, default: "/health" }),
      interval: mkOption({ type: types.int, default: 10 }),
    },
  });
  const service = types.submodule(({ name }) => ({
    options: {
      description: mkOption({ type: types.str, default: "" }),
      user: mkOption({ type: types.str, default: name }),
      replicas: mkOption({ type: types.int, default: 1 }),
      enable: mkOption({ type: types.bool, default: true }),
      restart: mkOption({ type: types.enum(["no", "on-failure", "always"]), default: "no" }),
      port: mkOption({ type: types.port }),
      args: mkOption({ type: types.listOf(types.str), default: [] }),
      env: mkOption({ type: types.attrsOf(types.str), default: {} }),
      upstream: mkOption({ type: types.nullOr(types.str), default: null }),
      script: mkOption({ type: types.lines, default: "" }),
      health: mkOption({ type: health, default: {} }),
      debug: mkOption({ type: types.bool, default: false }),
    },
  }));
  const declare = {
    file: "bench/options.ts",
    options: { services: mkOption({ type: types.attrsOf(service), default: {} }) },
  };
  const base = {
    file: "bench/base.ts",
    config: {
      services: Object.fromEntries(
        names.map((name, i) => [
          name,
          {
            description: `service ${name}`,
            port: mkDefault(10000 + i),
            replicas: mkDefault(2),
            restart: "on-failure",
            args: ["--name", name],
            env: { SERVICE: name, MODE: mkDefault("prod") },
            script: "echo start",
            health: { interval: mkDefault(5) },
          },
        ]),
      ),
    },
  };
  const overrides = {
    file: "bench/overrides.ts",
    config: {
      services: Object.fromEntries(
        names.map((name, i) => [
          name,
          {
            replicas: mkForce(3),
            args: mkAfter(["--verbose"]),
            script: mkAfter("echo started"),
            env: { MODE: "dev" },
            enable: i % 10 !== 0,
          },
        ]),
      ),
    },
  };
  const cross = ({ config }) => ({
    file: "bench/cross.ts",
    config: {
      services: Object.fromEntries(
        names.map((name, i) => {
          const next = names[(i + 1) % n];
          return [
            name,
            {
              debug: mkIf(() => config.services[name].enable, true),
              get upstream() {
                return `${next}:${config.services[next].port}`;
              },
            },
          ];
        }),
      ),
    },
  });
  const times = [];
  const cpu = [];
  let last;
  let rssAfterFirst = 0;
  for (let r = 0; r < RUNS; r++) {
    last = undefined;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const { config } = evalModules({ modules: [declare, base, overrides, cross] });
    last = forceDeep(config);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    // Peak RSS of one evaluation (later runs only add garbage the GC has not returned yet).
    if (r === 0) rssAfterFirst = process.resourceUsage().maxRSS / 1024;
  }
  const s = last.services;
  if (
    Object.keys(s).length !== n ||
    s.svc1.upstream !== `svc2:${10002}` ||
    s.svc0.debug !== false
  ) {
    throw new Error("benchmark produced a wrong config");
  }
  process.stdout.write(
    JSON.stringify({
      n,
      ...timings(times),
      cpuMs: median(cpu),
      maxRssMiB: rssAfterFirst,
    }),
  );
}

async function main() {
  const rows = runChildren(here, SIZES);
  const head = [
    "N",
    "first run (ms)",
    `median of ${RUNS} (ms)`,
    `best of ${RUNS} (ms)`,
    "CPU, median (ms)",
    "peak RSS, 1st run (MiB)",
    "best ms / 1000 svc",
    "target",
    "Nix 2.8 (quoted)",
    "speed-up vs quoted",
  ];
  const lines = [];
  for (const r of rows) {
    const quoted = NIX_QUOTED[r.n];
    lines.push([
      String(r.n),
      r.firstMs.toFixed(1),
      r.medianMs.toFixed(1),
      r.bestMs.toFixed(1),
      r.cpuMs.toFixed(0),
      r.maxRssMiB.toFixed(0),
      ((r.bestMs / r.n) * 1000).toFixed(1),
      TARGET_MS[r.n] ? `< ${TARGET_MS[r.n]} ms` : "linear",
      quoted ? `${quoted} s` : "—",
      quoted ? `${((quoted * 1000) / r.bestMs).toFixed(1)}×` : "—",
    ]);
  }
  printTable(head, lines);
  printGrowth(rows, "bestMs");
  console.log("Nix numbers are quoted from issue 2 (Nix 2.8, same machine), not measured here.");
  printLoad();
  console.log("\nThe workload also written as Nix modules (bench/modules/nix-workload.mjs):");
  execFileSync(process.execPath, [join(dirname(here), "nix-workload.mjs")], { stdio: "inherit" });
}

if (process.argv[2] === "--child") await child(Number(process.argv[3]));
else await main();
