#!/usr/bin/env node
// Supervisor benchmark: @nix2dream/manage-local side by side with concurrently, node-foreman
// (nf), ruby foreman and supervisord. Not a test. `npm run bench -- supervisor` builds and
// runs it; after a build and `npm install --prefix bench/supervisor`:
//
//   node bench/supervisor/run.mjs [--runs N] [--only a,b] [--lines N]
//
// Scenarios (each peer runs the same children, started through its own config format):
//   (a) log throughput: 4 children x 200k lines; lines/s over the supervisor's stdout, lines lost
//       (missing, split or interleaved lines all count as lost)
//   (b) time until 50 children have printed "ready"
//   (c) shutdown time after SIGTERM with 20 children that each have a grandchild, and survivors
//   (d) RSS of the supervisor process, idle, with 20 children (and with the helper processes it
//       keeps, such as manage-local's watchdog `sh`; the children's own processes are not counted)
import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  constants as fsConstants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const RUNS = Number(opt("runs", "1"));
const LINES = Number(opt("lines", "200000"));
const ONLY = opt("only", null)?.split(",");
const SCENARIOS = opt("scenarios", "a,b,c,d").split(",");
const NODE = process.execPath;
const repo = path.join(here, "../..");

// ---------------------------------------------------------------- peers

/** Each peer: how to run a set of named shell commands. Returns argv (+ cwd) for the supervisor. */
const peers = {
  "manage-local": {
    available: () => existsSync(path.join(here, "../../packages/manage-local/dist/index.js")),
    install: "npm run build",
    launch(dir, procs) {
      const plan = {
        version: 1,
        deployment: "bench",
        processes: procs.map(([name, cmd]) => ({
          name,
          service: name,
          replica: 1,
          command: ["sh", "-c", cmd],
          execPrefix: [],
          env: {},
          dependsOn: {},
          probe: null,
          restart: { policy: "no", maxRetries: null, backoff: { initial: 1, factor: 2, max: 30 } },
          stop: { signal: "SIGTERM", gracePeriod: 5 },
          ports: {},
        })),
      };
      writeFileSync(path.join(dir, "processes.json"), JSON.stringify(plan));
      return [
        NODE,
        path.join(here, "manage-local-driver.mjs"),
        path.join(dir, "processes.json"),
        dir,
        path.join(dir, "state"),
      ];
    },
  },
  // The floor: node with 20 pipes and nothing else (see bare-node.mjs). No Node supervisor
  // can idle below it.
  "bare node": {
    available: () => true,
    install: "",
    launch(dir, procs) {
      const [node, , planFile] = peers["manage-local"].launch(dir, procs);
      return [node, path.join(here, "bare-node.mjs"), planFile];
    },
  },
  // What `nix2dream up -d` leaves running: the background supervisor, which loads only the
  // supervisor and the plan (no config loader, module system or core).
  "up -d supervisor": {
    available: () => existsSync(path.join(repo, "packages/manage-local/dist/daemon.js")),
    install: "npm run build",
    launch(dir, procs) {
      const [node, , planFile, renderDir, stateDir] = peers["manage-local"].launch(dir, procs);
      void planFile;
      const config = JSON.stringify({ renderDir, stateDir, timestamps: false });
      return [node, path.join(repo, "packages/manage-local/dist/daemon.js"), config];
    },
  },
  // The path users run: the CLI loads nix2dream.config.ts and renders the Procfile in a
  // short-lived child, then supervises in the process started here (the hand-off).
  "nix2dream up": {
    available: () => existsSync(path.join(repo, "packages/nix2dream/dist/cli.js")),
    install: "npm run build",
    launch(dir, procs) {
      const pkg = (name) => JSON.stringify(path.join(repo, "packages", name, "dist/index.js"));
      const services = procs.map(
        ([name, cmd]) =>
          `${JSON.stringify(name)}: { command: ["sh", "-c", ${JSON.stringify(cmd)}], restart: "no", stop: { gracePeriod: "5s" } }`,
      );
      writeFileSync(
        path.join(dir, "nix2dream.config.ts"),
        `import local from ${pkg("manage-local")};
import procfile from ${pkg("render-procfile")};
import { defineDeployment } from ${pkg("nix2dream")};
export default defineDeployment({ name: "bench", use: [procfile(), local()], services: { ${services.join(",\n")} } });
`,
      );
      return [NODE, path.join(repo, "packages/nix2dream/bin/nix2dream.js"), "up"];
    },
  },
  concurrently: {
    available: () => existsSync(path.join(here, "node_modules/concurrently")),
    install: "npm install --prefix bench/supervisor",
    launch(_dir, procs) {
      const bin = realpathSync(path.join(here, "node_modules/.bin/concurrently"));
      return [
        NODE,
        bin,
        "--no-color",
        "-n",
        procs.map(([n]) => n).join(","),
        ...procs.map(([, c]) => c),
      ];
    },
  },
  "node-foreman": {
    available: () => existsSync(path.join(here, "node_modules/foreman")),
    install: "npm install --prefix bench/supervisor",
    launch(dir, procs) {
      writeFileSync(path.join(dir, "Procfile"), procs.map(([n, c]) => `${n}: ${c}\n`).join(""));
      const bin = realpathSync(path.join(here, "node_modules/.bin/nf"));
      return [NODE, bin, "start", "-j", path.join(dir, "Procfile")];
    },
  },
  "ruby foreman": {
    available: () => spawnSync("foreman", ["version"]).status === 0,
    install: "apt-get install -y ruby-foreman",
    launch(dir, procs) {
      writeFileSync(path.join(dir, "Procfile"), procs.map(([n, c]) => `${n}: ${c}\n`).join(""));
      return ["foreman", "start", "--no-timestamp", "-f", path.join(dir, "Procfile")];
    },
  },
  supervisord: {
    available: () => spawnSync("supervisord", ["--version"]).status === 0,
    install: "apt-get install -y supervisor",
    launch(dir, procs) {
      const conf = [
        "[supervisord]",
        "nodaemon=true",
        `logfile=${dir}/supervisord.log`,
        `pidfile=${dir}/supervisord.pid`,
        `childlogdir=${dir}`,
        "loglevel=warn",
        ...procs.flatMap(([n, c]) => [
          `[program:${n}]`,
          `command=sh -c '${c}'`,
          "autorestart=false",
          "startsecs=0",
          "redirect_stderr=true",
          "stdout_logfile=/dev/stdout",
          "stdout_logfile_maxbytes=0",
        ]),
      ].join("\n");
      writeFileSync(path.join(dir, "supervisord.conf"), `${conf}\n`);
      return ["supervisord", "-c", path.join(dir, "supervisord.conf")];
    },
  },
};

// ---------------------------------------------------------------- process helpers

function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: f[0], ppid: Number(f[1]) };
  } catch {
    return null;
  }
}

/** Alive and not a zombie (PID 1 here does not reap orphans, so killed orphans stay zombies). */
function alive(pid) {
  const s = procStat(pid);
  return s !== null && s.state !== "Z" && s.state !== "X";
}

function descendants(root) {
  const children = new Map();
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    const s = procStat(e);
    if (!s) continue;
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push(Number(e));
  }
  const out = [];
  const walk = (p) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a supervisor; `onLine` sees each stdout line (as a latin1 string, bytes preserved).
 * Everything it leaves behind is SIGKILLed by `cleanup`.
 */
function start(argv, dir, onLine) {
  // A real pipe (a FIFO), not Node's socketpair: supervisord cannot open /dev/stdout on a socket,
  // and a shell pipeline is what a user's terminal would give every peer.
  const fifo = path.join(dir, "stdout.fifo");
  spawnSync("mkfifo", [fifo]);
  const writeFd = openSync(fifo, fsConstants.O_RDWR);
  const stdout = new net.Socket({
    fd: openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK),
    readable: true,
    writable: false,
  });
  const child = spawn(argv[0], argv.slice(1), {
    cwd: dir,
    stdio: ["ignore", writeFd, "pipe"],
    detached: true,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", TERM: "dumb" },
  });
  closeSync(writeFd);
  let rest = "";
  stdout.setEncoding("latin1");
  stdout.on("error", () => {});
  stdout.on("data", (d) => {
    const text = rest + d;
    const lines = text.split("\n");
    rest = lines.pop();
    for (const l of lines) onLine(l);
  });
  child.stderr.resume();
  const exited = new Promise((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const known = new Set();
  const remember = () => {
    for (const p of descendants(child.pid)) known.add(p);
  };
  const cleanup = async () => {
    remember();
    stdout.destroy();
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    for (const p of known) {
      try {
        process.kill(p, "SIGKILL");
      } catch {}
    }
    await Promise.race([exited, sleep(2000)]);
  };
  return { child, exited, cleanup, remember };
}

function waitUntil(predicate, timeoutMs, poll = 5) {
  return new Promise((resolve) => {
    const began = performance.now();
    const tick = () => {
      if (predicate()) return resolve(true);
      if (performance.now() - began > timeoutMs) return resolve(false);
      setTimeout(tick, poll);
    };
    tick();
  });
}

// ---------------------------------------------------------------- scenarios

async function throughput(peer, dir) {
  const writer = path.join(dir, "writer.cjs");
  writeFileSync(
    writer,
    `const id = process.argv[2], n = ${LINES}; let i = 0; const pad = "x".repeat(40);
     function more() { while (i < n) { let s = ""; for (let k = 0; k < 1000 && i < n; k++, i++) s += id + ":" + i + ":" + pad + "\\n"; if (!process.stdout.write(s)) return process.stdout.once("drain", more); } setInterval(() => {}, 1e6); }
     more();`,
  );
  const ids = ["w1", "w2", "w3", "w4"];
  const seen = ids.map(() => new Uint8Array(LINES));
  let good = 0;
  let bad = 0;
  let first = 0;
  let last = 0;
  const re = /(w[1-4]):(\d+):x{40}$/;
  const argv = peer.launch(
    dir,
    ids.map((id) => [id, `exec ${NODE} ${writer} ${id}`]),
  );
  const t0 = performance.now();
  const run = start(argv, dir, (line) => {
    const m = re.exec(line);
    if (!m || line.indexOf(":x", m.index + 1) !== line.lastIndexOf(":x")) {
      if (/w[1-4]:\d/.test(line)) bad++;
      return;
    }
    const w = Number(m[1][1]) - 1;
    const i = Number(m[2]);
    if (i < LINES && seen[w][i] === 0) {
      seen[w][i] = 1;
      good++;
      if (first === 0) first = performance.now();
      last = performance.now();
    }
  });
  // Done when every line arrived, or nothing new came for 5 s.
  let lastGood = -1;
  let stalledSince = performance.now();
  await waitUntil(
    () => {
      if (good === LINES * ids.length) return true;
      if (good !== lastGood) {
        lastGood = good;
        stalledSince = performance.now();
      }
      return performance.now() - stalledSince > 5000;
    },
    300_000,
    20,
  );
  const seconds = (last - t0) / 1000;
  await run.cleanup();
  return { linesPerSec: good / seconds, lost: LINES * ids.length - good, corrupt: bad, seconds };
}

async function readiness(peer, dir) {
  const n = 50;
  const procs = Array.from({ length: n }, (_, i) => [`r${i}`, "echo ready; exec sleep 100000"]);
  let ready = 0;
  const argv = peer.launch(dir, procs);
  const t0 = performance.now();
  let at = 0;
  const run = start(argv, dir, (line) => {
    if (/ready\s*$/.test(line) && ++ready === n) at = performance.now();
  });
  const ok = await waitUntil(() => ready >= n, 60_000);
  await run.cleanup();
  return { seconds: ok ? (at - t0) / 1000 : Number.NaN, ready };
}

async function shutdown(peer, dir) {
  const n = 20;
  const procs = Array.from({ length: n }, (_, i) => [
    `s${i}`,
    `sleep 100000 & echo "pids $$ $!"; wait`,
  ]);
  const pids = [];
  const argv = peer.launch(dir, procs);
  const run = start(argv, dir, (line) => {
    const m = /pids (\d+) (\d+)/.exec(line);
    if (m) pids.push(Number(m[1]), Number(m[2]));
  });
  const ok = await waitUntil(() => pids.length >= 2 * n, 60_000);
  if (!ok) {
    await run.cleanup();
    return { seconds: Number.NaN, survivors: Number.NaN };
  }
  await sleep(300);
  run.remember();
  const t0 = performance.now();
  process.kill(run.child.pid, "SIGTERM");
  const exit = await Promise.race([run.exited, sleep(60_000).then(() => null)]);
  const seconds = exit ? (exit.at - t0) / 1000 : Number.NaN;
  await sleep(500);
  const survivors = pids.filter(alive).length;
  await run.cleanup();
  return { seconds, survivors };
}

async function idleRss(peer, dir) {
  const n = 20;
  const procs = Array.from({ length: n }, (_, i) => [`i${i}`, "echo ready; exec sleep 100000"]);
  let ready = 0;
  const argv = peer.launch(dir, procs);
  const run = start(argv, dir, (line) => {
    if (/ready\s*$/.test(line)) ready++;
  });
  await waitUntil(() => ready >= n, 60_000);
  await sleep(2000);
  const main = rssKiB(run.child.pid);
  // Helpers a peer keeps per child (e.g. a `sh -c` wrapper) count as overhead; the sleeps do not.
  const helpers = descendants(run.child.pid).filter((p) => comm(p) !== "sleep");
  const tree = main + helpers.reduce((sum, p) => sum + rssKiB(p), 0);
  await run.cleanup();
  return { mainMiB: main / 1024, treeMiB: tree / 1024, helpers: helpers.length };
}

// ---------------------------------------------------------------- main

const median = (xs) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)];
};

const names = Object.keys(peers).filter((n) => !ONLY || ONLY.includes(n));
const results = {};
const runsOf = {};
const loadAtStart = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
for (const name of names) {
  if (peers[name].available()) runsOf[name] = { a: [], b: [], c: [], d: [] };
  else console.error(`skipping ${name}: not installed (${peers[name].install})`);
}
// Runs outermost, peers inside: on a shared machine whose load drifts, every peer sees each
// phase of it, so the ratios stay fair even when the absolute figures move.
for (let r = 0; r < RUNS; r++) {
  for (const [key, fn] of [
    ["a", throughput],
    ["b", readiness],
    ["c", shutdown],
    ["d", idleRss],
  ]) {
    if (!SCENARIOS.includes(key)) continue;
    for (const name of Object.keys(runsOf)) {
      const dir = mkdtempSync(path.join(tmpdir(), "svbench-"));
      try {
        const res = await fn(peers[name], dir);
        runsOf[name][key].push(res);
        console.error(`${name} ${key} run ${r + 1}: ${JSON.stringify(res)}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
}
/** The largest value, or NaN for a scenario that did not run. */
const most = (xs) => (xs.length === 0 ? Number.NaN : Math.max(...xs));
for (const [name, runs] of Object.entries(runsOf)) {
  results[name] = {
    linesPerSec: median(runs.a.map((x) => x.linesPerSec)),
    lost: most(runs.a.map((x) => x.lost)),
    corrupt: most(runs.a.map((x) => x.corrupt)),
    ready: median(runs.b.map((x) => x.seconds)),
    shutdown: median(runs.c.map((x) => x.seconds)),
    survivors: most(runs.c.map((x) => x.survivors)),
    rss: median(runs.d.map((x) => x.mainMiB)),
    tree: median(runs.d.map((x) => x.treeMiB)),
  };
}

const ours = results["manage-local"];
const fmt = (x, digits = 2) => (Number.isNaN(x) ? "n/a" : x.toFixed(digits));
const ratio = (mine, theirs, higherIsBetter) => {
  if (!ours || Number.isNaN(mine) || Number.isNaN(theirs) || theirs === 0 || mine === 0) return "";
  const r = higherIsBetter ? mine / theirs : theirs / mine;
  return ` (${r.toFixed(2)}x)`;
};
const rows = [
  [
    "supervisor",
    "(a) lines/s",
    "(a) lost",
    "(b) 50 ready, s",
    "(c) shutdown, s",
    "(c) survivors",
    "(d) RSS, MiB",
    "(d) with helpers, MiB",
  ],
];
for (const [name, r] of Object.entries(results)) {
  const mine = name === "manage-local";
  rows.push([
    name,
    `${Number.isNaN(r.linesPerSec) ? "n/a" : Math.round(r.linesPerSec).toLocaleString("en")}${mine ? "" : ratio(ours?.linesPerSec, r.linesPerSec, true)}`,
    Number.isNaN(r.lost) ? "n/a" : `${r.lost}${r.corrupt ? ` (+${r.corrupt} corrupt)` : ""}`,
    `${fmt(r.ready, 3)}${mine ? "" : ratio(ours?.ready, r.ready, false)}`,
    `${fmt(r.shutdown, 3)}${mine ? "" : ratio(ours?.shutdown, r.shutdown, false)}`,
    Number.isNaN(r.survivors) ? "n/a" : String(r.survivors),
    `${fmt(r.rss, 1)}${mine ? "" : ratio(ours?.rss, r.rss, false)}`,
    fmt(r.tree, 1),
  ]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
const line = (row) => `| ${row.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
console.log(line(rows[0]));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const row of rows.slice(1)) console.log(line(row));
console.log(
  `\n${RUNS} run(s), median; ${LINES.toLocaleString("en")} lines per child; ratios are manage-local's advantage over the peer (>1: manage-local is better). Node ${process.version}, ${
    readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .filter((l) => l.startsWith("processor")).length
  } CPUs; load average ${loadAtStart} at the start, ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")} at the end.`,
);
mkdirSync(path.join(here, "results"), { recursive: true });
writeFileSync(path.join(here, "results", "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
