#!/usr/bin/env node
import { runCli } from "./main.js";

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // runCli reports its own errors; this is the last resort for a bug in the reporter itself.
    process.stderr.write(`nix2dream: internal error: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
