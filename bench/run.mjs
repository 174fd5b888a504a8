#!/usr/bin/env node
// `npm run bench`: every benchmark under bench/, one after the other (never in parallel, so
// they do not skew each other). `npm run bench` (scripts/dev.mjs) builds first. Benchmarks are
// not tests: they print tables.
//   npm run bench                 all of them
//   npm run bench -- modules      only bench/modules
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const wanted = process.argv.slice(2);
const benches = readdirSync(here, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(here, e.name, "run.mjs")))
  .map((e) => e.name)
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort();

const run = (argv, cwd = root) => {
  const r = spawnSync(argv[0], argv.slice(1), { cwd, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

for (const name of benches) {
  // A bench with its own package.json installs its peers (from npm) outside the workspace.
  if (
    existsSync(join(here, name, "package.json")) &&
    !existsSync(join(here, name, "node_modules"))
  ) {
    run(["npm", "install", "--no-audit", "--no-fund", "--prefix", join(here, name)]);
  }
  console.log(`\n=== bench/${name} ===`);
  run([process.execPath, join(here, name, "run.mjs")]);
}
