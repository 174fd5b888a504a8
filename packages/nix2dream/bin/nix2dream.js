#!/usr/bin/env node
// The `nix2dream` command. It is a file of its own rather than dist/cli.js because package
// managers link a workspace package's bin when it is installed, before it is built: a bin
// inside dist/ would not exist yet and would never be linked.
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli.js", import.meta.url);
if (existsSync(cli)) {
  await import(cli.href);
} else {
  process.stderr.write("error: nix2dream is not built yet (dist/cli.js is missing).\n");
  process.stderr.write("hint: run `npm run build` at the root of the nix2dream repository.\n");
  process.exitCode = 1;
}
