#!/usr/bin/env node
// The README's two commands go through here, so a fresh machine with only Node 20 + npm works:
//   npm start  -> install deps (first run), build, render examples/quickstart, run it with manage-local
//   npm test   -> install deps (first run), build, run every test
// pnpm comes from the version pinned in package.json's packageManager: the one on PATH when it
// matches, else `npx pnpm@<version>` (no global install, no corepack).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const pnpmVersion = String(pkg.packageManager).replace(/^pnpm@/, "");

function pnpmCommand() {
  try {
    const v = execFileSync("pnpm", ["--version"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    if (v === pnpmVersion) return ["pnpm"];
  } catch {}
  return ["npx", "--yes", `pnpm@${pnpmVersion}`];
}

function run(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: "inherit", ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function installIfNeeded(pnpm) {
  const marker = join(root, "node_modules", ".modules.yaml");
  const lock = join(root, "pnpm-lock.yaml");
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  run([...pnpm, "install", "--frozen-lockfile"]);
}

const [task, ...rest] = process.argv.slice(2);
const pnpm = pnpmCommand();
installIfNeeded(pnpm);
run([...pnpm, "exec", "turbo", "run", "build", "--output-logs=errors-only"]);

if (task === "test") {
  run([...pnpm, "exec", "vitest", "run", ...rest]);
} else if (task === "start") {
  // Hand the terminal to the CLI: Ctrl-C reaches the supervisor, which stops every service.
  const child = spawn(
    process.execPath,
    [join(root, "packages/nix2dream/dist/cli.js"), "up", ...rest],
    { cwd: join(root, "examples/quickstart"), stdio: "inherit" },
  );
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => {});
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
} else {
  console.error(`usage: node scripts/dev.mjs test|start [args…]`);
  process.exit(1);
}
