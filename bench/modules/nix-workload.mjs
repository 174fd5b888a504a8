#!/usr/bin/env node
// The "N services" workload that is also written as Nix modules (issue 12): 12 options of mixed
// types per service (bool, str defaulting to the attribute name, port, enum, nullOr,
// ints.between, listOf, attrsOf, a readOnly option computed from two others), three defining
// modules using mkDefault, mkForce, mkAfter and mkIf, and two top-level options computed from
// every service. Our own implementation of the approach of ../shared/bench/modules-workload.
//
//   node bench/modules/nix-workload.mjs                 whole-process table (N=1000,10000)
//   node bench/modules/nix-workload.mjs --write N DIR   writes DIR/{services,defs-a,defs-b,defs-c,eval}.nix
//
// Each run is a fresh `node` process timed from outside (start, import, build the modules,
// evalModules, force, JSON), as `nix-instantiate --eval --strict --json` is. When a nixpkgs
// `lib` is reachable (NIX_LIB=/path/to/nixpkgs/lib, and nix-instantiate on PATH) the Nix side is
// generated, run side by side and compared value for value; otherwise the figures recorded on
// this machine's kind are printed as the anchor, marked as recorded.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, printLoad, printTable } from "../lib.mjs";
import { handWritten } from "./hand-written.mjs";

const here = fileURLToPath(import.meta.url);
const SIZES = (process.env.BENCH_NIX_SIZES ?? "1000,10000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
// Evaluations after the first in one process; the steady state is the median of the last three.
const WARM = Math.max(3, Number(process.env.BENCH_WARM ?? 6));
// Recorded, not measured in this run: Nix 2.8 with nixpkgs lib, whole process, quiet 2-core
// machine of this kind (../shared/bench/modules-workload/README.md, issue 12).
const NIX_RECORDED = { 1000: { wallS: 0.51, rssMiB: 280 }, 10000: { wallS: 8.52, rssMiB: 1665 } };
const TARGETS = {
  1000: { evalMs: 30, speedup: 4 },
  10000: { evalMs: 250, speedup: 20, rssMiB: 250 },
};

const svcName = (i) => `svc-${String(i).padStart(5, "0")}`;

/**
 * The definitions of the three defining modules, as data: per module, per service, per option
 * path (dotted), `{ value, prio?, order?, if? }`.
 */
export function workloadSpec(n) {
  const a = {};
  const b = {};
  const c = {};
  for (let i = 0; i < n; i++) {
    const s = svcName(i);
    a[s] = {
      command: { value: `/bin/${s}` },
      args: { value: ["--id", String(i)] },
      "env.SERVICE_ID": { value: String(i) },
      port: { value: 10000 + (i % 50000), prio: "mkDefault" },
    };
    const bs = {};
    if (i % 2 === 0) bs.port = { value: 20000 + (i % 40000) };
    bs.restart = { value: "always", prio: "mkDefault" };
    bs["env.ROLE"] = { value: "worker" };
    bs.args = { value: ["--verbose"], order: "mkAfter" };
    if (i % 3 === 0) bs.user = { value: `u${i}` };
    b[s] = bs;
    const cs = {};
    if (i % 10 === 0) {
      cs.enable = { value: false, prio: "mkForce" };
      cs.replicas = { value: 3, prio: "mkForce" };
      cs.host = { value: "0.0.0.0", prio: "mkForce" };
    }
    cs["env.LOG"] = { value: "info", prio: "mkDefault" };
    if (i > 0) cs.dependsOn = { value: [svcName(i - 1)] };
    cs["env.ODD"] = { value: "yes", if: i % 2 === 1 };
    c[s] = cs;
  }
  return { a, b, c };
}

/** The workload as modules of `lib` (@nix2dream/modules). */
export function workloadModules(spec, lib) {
  const { mkAfter, mkDefault, mkForce, mkIf, mkOption, types } = lib;
  const service = types.submodule(({ name, config }) => ({
    options: {
      enable: mkOption({ type: types.bool, default: true }),
      name: mkOption({ type: types.str, default: name }),
      host: mkOption({ type: types.str, default: "127.0.0.1" }),
      port: mkOption({ type: types.port, default: 8000 }),
      command: mkOption({ type: types.str }),
      args: mkOption({ type: types.listOf(types.str), default: [] }),
      env: mkOption({ type: types.attrsOf(types.str), default: {} }),
      restart: mkOption({
        type: types.enum(["always", "on-failure", "no"]),
        default: "on-failure",
      }),
      user: mkOption({ type: types.nullOr(types.str), default: null }),
      replicas: mkOption({ type: types.ints.between(1, 100), default: 1 }),
      dependsOn: mkOption({ type: types.listOf(types.str), default: [] }),
      url: mkOption({ type: types.str, readOnly: true }),
    },
    config: {
      get url() {
        return `http://${config.host}:${config.port}`;
      },
    },
  }));
  const declarations = ({ config }) => ({
    file: "services.ts",
    options: {
      services: mkOption({ type: types.attrsOf(service), default: {} }),
      enabledCount: mkOption({ type: types.int }),
      ports: mkOption({ type: types.listOf(types.port) }),
    },
    config: {
      get enabledCount() {
        return Object.values(config.services).filter((s) => s.enable).length;
      },
      get ports() {
        return Object.values(config.services).map((s) => s.port);
      },
    },
  });
  const wrap = (d) => {
    let v = d.order === "mkAfter" ? mkAfter(d.value) : d.value;
    if (d.prio === "mkDefault") v = mkDefault(v);
    else if (d.prio === "mkForce") v = mkForce(v);
    return d.if === undefined ? v : mkIf(d.if, v);
  };
  // Builds each service's definitions in place (no copy per key), as a module file is one
  // literal: the harness should not cost more than what it measures.
  const defining = (file, byService) => {
    const services = {};
    for (const svc in byService) {
      const defs = byService[svc];
      const out = {};
      for (const key in defs) {
        const dot = key.indexOf(".");
        if (dot < 0) out[key] = wrap(defs[key]);
        else {
          const head = key.slice(0, dot);
          if (out[head] === undefined) out[head] = {};
          out[head][key.slice(dot + 1)] = wrap(defs[key]);
        }
      }
      services[svc] = out;
    }
    return { file, config: { services } };
  };
  return [
    declarations,
    defining("defs-a.ts", spec.a),
    defining("defs-b.ts", spec.b),
    defining("defs-c.ts", spec.c),
  ];
}

// ---- the Nix side (written only when a nixpkgs lib is reachable, or with --write) ----------

const nixStr = (s) => JSON.stringify(s); // plain ASCII here: JSON quoting is Nix quoting
const nixValue = (v) =>
  Array.isArray(v)
    ? `[ ${v.map(nixValue).join(" ")} ]`
    : typeof v === "string"
      ? nixStr(v)
      : String(v);
const nixDef = (d) => {
  let v = d.order === "mkAfter" ? `(mkAfter ${nixValue(d.value)})` : nixValue(d.value);
  if (d.prio) v = `(${d.prio} ${v})`;
  return d.if === undefined ? v : `(mkIf ${d.if} ${v})`;
};

/** Writes the same workload as Nix modules (and `eval.nix`) into `dir`. */
export function writeNixWorkload(spec, dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "services.nix"), NIX_DECLARATIONS);
  for (const m of ["a", "b", "c"]) {
    const lines = Object.entries(spec[m]).map(
      ([svc, defs]) =>
        `  services.${nixStr(svc)} = { ${Object.entries(defs)
          .map(([k, d]) => `${k} = ${nixDef(d)};`)
          .join(" ")} };`,
    );
    writeFileSync(
      join(dir, `defs-${m}.nix`),
      `{ lib, ... }:\nlet inherit (lib) mkDefault mkForce mkAfter mkIf; in\n{\n${lines.join("\n")}\n}\n`,
    );
  }
  writeFileSync(
    join(dir, "eval.nix"),
    "{ lib }:\n(lib.evalModules { modules = [ ./services.nix ./defs-a.nix ./defs-b.nix ./defs-c.nix ]; }).config\n",
  );
}

const NIX_DECLARATIONS = `{ lib, config, ... }:
let
  inherit (lib) mkOption types;
  service = { name, config, ... }: {
    options = {
      enable = mkOption { type = types.bool; default = true; };
      name = mkOption { type = types.str; default = name; };
      host = mkOption { type = types.str; default = "127.0.0.1"; };
      port = mkOption { type = types.port; default = 8000; };
      command = mkOption { type = types.str; };
      args = mkOption { type = types.listOf types.str; default = [ ]; };
      env = mkOption { type = types.attrsOf types.str; default = { }; };
      restart = mkOption { type = types.enum [ "always" "on-failure" "no" ]; default = "on-failure"; };
      user = mkOption { type = types.nullOr types.str; default = null; };
      replicas = mkOption { type = types.ints.between 1 100; default = 1; };
      dependsOn = mkOption { type = types.listOf types.str; default = [ ]; };
      url = mkOption { type = types.str; readOnly = true; };
    };
    config.url = "http://\${config.host}:\${toString config.port}";
  };
in
{
  options.services = mkOption { type = types.attrsOf (types.submodule service); default = { }; };
  options.enabledCount = mkOption { type = types.int; };
  options.ports = mkOption { type = types.listOf types.port; };
  config.enabledCount = lib.length (lib.filter (s: s.enable) (lib.attrValues config.services));
  config.ports = lib.mapAttrsToList (_: s: s.port) config.services;
}
`;

/** A copy with object keys sorted, as Nix prints attribute sets. */
const sortedKeys = (v) =>
  Array.isArray(v)
    ? v.map(sortedKeys)
    : v !== null && typeof v === "object"
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sortedKeys(v[k])]),
        )
      : v;

// ---- one whole process ---------------------------------------------------------------------

async function child(n, out, warmRuns) {
  const t0 = performance.now();
  const lib = await import("../../packages/modules/dist/index.js");
  const tImport = performance.now();
  const modules = workloadModules(workloadSpec(n), lib);
  const tBuild = performance.now();
  const result = lib.forceDeep(lib.evalModules({ modules }).config);
  const tEval = performance.now();
  const json = JSON.stringify(sortedKeys(result));
  if (out) writeFileSync(out, json);
  const tJson = performance.now();
  const s = result.services[svcName(2)];
  if (result.enabledCount !== n - Math.ceil(n / 10) || s.url !== "http://127.0.0.1:20002") {
    throw new Error("the workload produced a wrong config");
  }
  const cpu = process.cpuUsage();
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  // The same evaluation again in this process, each on a module set built before its clock
  // starts: what a long-lived caller pays once V8 has optimized the engine's code. The first
  // few are still partly unoptimized (and collect the garbage of the one before), so the steady
  // state is the median of the last three.
  const warm = [];
  for (let r = 0; r < warmRuns; r++) {
    const fresh = workloadModules(workloadSpec(n), lib);
    const a = performance.now();
    lib.forceDeep(lib.evalModules({ modules: fresh }).config);
    warm.push(performance.now() - a);
  }
  process.stdout.write(
    JSON.stringify({
      importMs: tImport - t0,
      buildMs: tBuild - tImport,
      evalForceMs: tEval - tBuild,
      jsonMs: tJson - tEval,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssMiB,
      warmMs: warmRuns ? median(warm.slice(-3)) : undefined,
    }),
  );
}

/**
 * The hand-written evaluator (hand-written.mjs) in a fresh process: its first run, timed as the
 * engine's eval + force is (the spec is built before the clock starts). With `compare`, it also
 * evaluates the workload with the engine and says whether the two configs are equal.
 */
async function handChild(n, compare) {
  const spec = workloadSpec(n);
  const t0 = performance.now();
  const result = handWritten(spec);
  const ms = performance.now() - t0;
  let equal;
  if (compare) {
    const lib = await import("../../packages/modules/dist/index.js");
    const engine = lib.forceDeep(lib.evalModules({ modules: workloadModules(spec, lib) }).config);
    equal = JSON.stringify(sortedKeys(engine)) === JSON.stringify(sortedKeys(result));
  }
  process.stdout.write(JSON.stringify({ ms, equal }));
}

/**
 * The hand-written evaluator's whole process, timed from outside as the engine's is: start,
 * build the spec, evaluate, key-sorted JSON. No node program doing this workload's work can be
 * faster; a whole-process target below it cannot be met by any engine.
 */
function handWhole(n) {
  const spec = workloadSpec(n);
  const json = JSON.stringify(sortedKeys(handWritten(spec)));
  if (json.length === 0) throw new Error("the hand-written evaluator gave nothing");
}

function handWholeNode(n) {
  const t0 = performance.now();
  execFileSync(process.execPath, [here, "--hand-whole", String(n)]);
  return performance.now() - t0;
}

function handNode(n, compare = false) {
  const argv = [here, "--hand", String(n), compare ? "compare" : ""];
  return JSON.parse(execFileSync(process.execPath, argv, { encoding: "utf8" }));
}

function timedNode(n, out, warmRuns = 0) {
  const t0 = performance.now();
  const argv = [here, "--child", String(n), out ?? "", String(warmRuns)];
  const stdout = execFileSync(process.execPath, argv, {
    encoding: "utf8",
  });
  return { wallMs: performance.now() - t0, ...JSON.parse(stdout) };
}

/** Nix's whole process on the same workload, when a nixpkgs lib is reachable; else undefined. */
function timedNix(n, dir) {
  const lib = process.env.NIX_LIB;
  if (!lib || !existsSync(join(lib, "modules.nix"))) return undefined;
  const probe = spawnSync("nix-instantiate", ["--version"]);
  if (probe.status !== 0) return undefined;
  writeNixWorkload(workloadSpec(n), dir);
  const t0 = performance.now();
  const r = spawnSync(
    "/usr/bin/env",
    [
      "nix-instantiate",
      "--eval",
      "--strict",
      "--json",
      join(dir, "eval.nix"),
      "--arg",
      "lib",
      `import ${lib}`,
    ],
    { encoding: "utf8", maxBuffer: 1 << 30 },
  );
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`nix-instantiate failed:\n${r.stderr}`);
  return { wallMs, json: r.stdout.trim() };
}

/**
 * Wall time and CPU time of a bare node that does nothing (`node -e 0`, reporting its CPU as our
 * children do): no whole process of ours can be faster.
 */
function bareNode() {
  const t0 = performance.now();
  const out = execFileSync(process.execPath, [
    "-e",
    "const c = process.cpuUsage(); process.stdout.write(String((c.user + c.system) / 1000))",
  ]);
  return { wallMs: performance.now() - t0, cpuMs: Number(out) };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), "n2d-nix-workload-"));
  try {
    const bare = Array.from({ length: RUNS }, bareNode);
    const floorMs = median(bare.map((r) => r.wallMs));
    const floorCpuMs = median(bare.map((r) => r.cpuMs));
    const lines = [];
    for (const n of SIZES) {
      const runs = Array.from({ length: RUNS }, () => timedNode(n));
      // Warm evaluations in a process of their own, so they never count in a whole-process time.
      const warmMs = timedNode(n, undefined, WARM).warmMs;
      const handMs = median(Array.from({ length: RUNS }, () => handNode(n).ms));
      const handWallMs = median(Array.from({ length: RUNS }, () => handWholeNode(n)));
      if (!handNode(n, true).equal)
        throw new Error(`hand-written.mjs and the engine differ at N=${n}`);
      const nix = timedNix(n, join(work, String(n)));
      let same = "not compared (Nix side not run)";
      if (nix) {
        const ours = join(work, `${n}.json`);
        timedNode(n, ours);
        const equal =
          JSON.stringify(sortedKeys(JSON.parse(nix.json))) === readFileSync(ours, "utf8");
        same = equal ? "equal" : "DIFFERENT";
      }
      const wall = median(runs.map((r) => r.wallMs));
      const evalMs = median(runs.map((r) => r.evalForceMs));
      const anchorS = nix ? nix.wallMs / 1000 : NIX_RECORDED[n]?.wallS;
      const t = TARGETS[n] ?? {};
      // The whole-process target in ms, and whether it is below what a bare node costs here.
      const targetWallMs = anchorS && t.speedup ? (anchorS * 1000) / t.speedup : undefined;
      lines.push([
        String(n),
        median(runs.map((r) => r.importMs)).toFixed(0),
        evalMs.toFixed(0) + (t.evalMs ? ` (≤ ${t.evalMs})` : ""),
        `${handMs.toFixed(0)} (engine ${(evalMs / handMs).toFixed(1)}×${t.evalMs ? `, target ${(t.evalMs / handMs).toFixed(1)}×` : ""})`,
        warmMs.toFixed(0),
        wall.toFixed(0),
        `${handWallMs.toFixed(0)} (engine +${(wall - handWallMs).toFixed(0)})`,
        median(runs.map((r) => r.cpuMs)).toFixed(0),
        median(runs.map((r) => r.rssMiB)).toFixed(0) + (t.rssMiB ? ` (≤ ${t.rssMiB})` : ""),
        anchorS ? `${anchorS.toFixed(2)} s ${nix ? "(measured)" : "(recorded)"}` : "—",
        anchorS
          ? `${((anchorS * 1000) / wall).toFixed(1)}×${t.speedup ? ` (≥ ${t.speedup}×)` : ""}`
          : "—",
        targetWallMs === undefined
          ? "—"
          : `≤ ${targetWallMs.toFixed(0)} ms (${
              targetWallMs < floorMs
                ? "below a bare node"
                : targetWallMs < handWallMs
                  ? "below the hand-written program"
                  : `hand-written +${(targetWallMs - handWallMs).toFixed(0)}`
            })`,
        same,
      ]);
    }
    printTable(
      [
        "N",
        "import (ms)",
        "eval + force (ms, target)",
        "hand-written, cold (ms)",
        `warm, steady (ms; runs ${WARM - 1}–${WARM + 1} in one process)`,
        "whole process wall (ms)",
        "hand-written whole process wall (ms)",
        "whole process CPU (ms)",
        "peak RSS (MiB, target)",
        "Nix 2.8 whole process",
        "speed-up (target)",
        "whole process target",
        "value for value",
      ],
      lines,
    );
    console.log(
      `floor: a bare \`node -e 0\` takes ${floorMs.toFixed(0)} ms wall, ${floorCpuMs.toFixed(0)} ms CPU here (median of ${RUNS}); a whole-process target below it cannot be met by any node program.`,
    );
    console.log(
      "hand-written: bench/modules/hand-written.mjs, a program for this one workload (no module system, no laziness), first run in a fresh process, its output equal to the engine's value for value; a lower bound for any general engine, not a peer. Its whole process (start, build the spec, evaluate, key-sorted JSON; no module set to build) is the floor of a whole-process target.",
    );
    console.log(
      `medians of ${RUNS} fresh processes; eval + force is the first evaluation in a fresh process (build of the module set not included); the whole process is timed from outside. "recorded": Nix 2.8 + nixpkgs lib on a quiet 2-core machine of this kind, NOT measured in this run (set NIX_LIB to a nixpkgs lib to measure it here).`,
    );
    printLoad();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] !== here) {
  // imported (by a profiling script): nothing runs
} else if (process.argv[2] === "--child")
  await child(Number(process.argv[3]), process.argv[4], Number(process.argv[5]));
else if (process.argv[2] === "--hand-whole") handWhole(Number(process.argv[3]));
else if (process.argv[2] === "--hand")
  await handChild(Number(process.argv[3]), process.argv[4] === "compare");
else if (process.argv[2] === "--write")
  writeNixWorkload(workloadSpec(Number(process.argv[3])), process.argv[4]);
else await main();
