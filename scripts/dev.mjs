#!/usr/bin/env node
// Every root script goes through here, so a fresh machine with only Node 20 + npm works (no
// global pnpm, no corepack):
//   npm start            install (first run), build, render examples/quickstart, run it with manage-local
//   npm test             install, build, run every test (the tests that need system tools included)
//   npm run test:fast    the same without the tests tagged as needing docker, foreman, nix,
//                        systemd, kubectl, servers or graphviz; says how many it skipped
//   npm run build | typecheck | lint | format | bench | changeset
// pnpm is the version pinned in package.json's packageManager: the one on PATH when it matches,
// else `npx pnpm@<version>`. turbo needs a `pnpm` binary on PATH; under `pnpm exec` it has one.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const pnpmVersion = String(pkg.packageManager).replace(/^pnpm@/, "");

/** The tags (see vitest.config.ts) of tests that need a system tool `scripts/setup.sh` installs. */
const TOOL_TAGS = ["docker", "foreman", "nix", "systemd", "kubectl", "servers", "graphviz"];

// Quiet, reproducible tool runs: no telemetry banner, no update notices.
const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: "1",
  DO_NOT_TRACK: "1",
  NPM_CONFIG_UPDATE_NOTIFIER: "false",
  // The system tools the tests run (nginx, dockerd, ip, runuser) live in sbin, which a CI job's
  // or a non-root shell's PATH may lack; scripts/setup.sh adds the same.
  PATH: withSbin(process.env.PATH ?? ""),
};

/** `path` with the sbin directories appended where it lacks them. */
function withSbin(path) {
  const dirs = path.split(":").filter(Boolean);
  for (const d of ["/usr/local/sbin", "/usr/sbin", "/sbin"]) if (!dirs.includes(d)) dirs.push(d);
  return dirs.join(":");
}

function pnpmCommand() {
  try {
    const v = execFileSync("pnpm", ["--version"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      env,
    }).trim();
    if (v === pnpmVersion) return ["pnpm"];
  } catch {}
  return ["npx", "--yes", `pnpm@${pnpmVersion}`];
}

function run(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: "inherit", env, ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function installIfNeeded(pnpm) {
  const marker = join(root, "node_modules", ".modules.yaml");
  const lock = join(root, "pnpm-lock.yaml");
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  run([...pnpm, "install", "--frozen-lockfile"]);
}

const turbo = (pnpm, ...args) => [...pnpm, "exec", "turbo", "run", ...args];
const build = (pnpm) => run(turbo(pnpm, "build", "--output-logs=errors-only"));

function start(pnpm, args) {
  // NIX2DREAM_START_DIR runs a copy of the example instead, without building: the tests run one
  // on a free port while other tests read the built packages.
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: read by this script only, never by a turbo task
  const copy = process.env.NIX2DREAM_START_DIR;
  if (!copy) build(pnpm);
  // Hand the terminal to the CLI: Ctrl-C reaches the supervisor, which stops every service.
  const child = spawn(
    process.execPath,
    [join(root, "packages/nix2dream/dist/cli.js"), "up", ...args],
    { cwd: copy || join(root, "examples/quickstart"), stdio: "inherit", env },
  );
  // A terminal's signal goes to the whole process group, the CLI included: passing it on would
  // make it the supervisor's second one (which kills at once). So only note it.
  let signalled = false;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => (signalled = true));
  // npm passes no signal on to its script: `kill <npm pid>` (or a process manager stopping
  // `npm start`) ends npm alone and leaves this process to init. Then stop the services, unless
  // a group signal is already stopping them (it may be handled after the parent is gone).
  const parent = process.ppid;
  const orphaned = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(orphaned);
    setTimeout(() => signalled || child.kill("SIGTERM"), 500);
  }, 250);
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
}

function test(pnpm, args) {
  build(pnpm);
  const fast = args.includes("--fast");
  const rest = args.filter((a) => a !== "--fast");
  const filter = fast ? ["--tags-filter", TOOL_TAGS.map((t) => `!${t}`).join(" && ")] : [];
  // A run that selects tests by name or tag skips the others on purpose; any other run must
  // skip none (the skips reporter fails it otherwise).
  const selects = rest.some((a) => /^(-t|--testNamePattern|--tags-filter)(=|$)/.test(a));
  run([...pnpm, "exec", "vitest", "run", ...filter, ...rest], {
    env: {
      ...env,
      NIX2DREAM_TEST_FAST: fast ? TOOL_TAGS.join(",") : "",
      NIX2DREAM_TEST_NO_SKIPS: fast || selects ? "" : "1",
    },
  });
}

const tasks = {
  start,
  test,
  build: (pnpm) => build(pnpm),
  typecheck: (pnpm, args) => run(turbo(pnpm, "typecheck", ...args)),
  lint: (pnpm, args) => run([...pnpm, "exec", "biome", "check", ".", ...args]),
  format: (pnpm, args) => run([...pnpm, "exec", "biome", "format", "--write", ".", ...args]),
  bench: (pnpm, args) => {
    build(pnpm);
    run([process.execPath, join(root, "bench/run.mjs"), ...args]);
  },
  changeset: (pnpm, args) => run([...pnpm, "exec", "changeset", ...args]),
};

const [task, ...rest] = process.argv.slice(2);
if (!Object.hasOwn(tasks, task ?? "")) {
  console.error(`usage: node scripts/dev.mjs ${Object.keys(tasks).join("|")} [args…]`);
  process.exit(1);
}
const pnpm = pnpmCommand();
installIfNeeded(pnpm);
tasks[task](pnpm, rest);
