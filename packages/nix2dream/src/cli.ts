#!/usr/bin/env node
import { fileURLToPath } from "node:url";
import { runsThroughLauncher } from "./flags.js";

const argv = process.argv.slice(2);
// Stack traces (shown with --debug) point into the TypeScript sources rather than dist/; the
// CLI is imported afterwards because source maps apply only to modules loaded once enabled.
if (argv.includes("--debug")) process.setSourceMapsEnabled(true);

// `--version` alone answers before anything else is loaded.
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  const { readFileSync } = await import("node:fs");
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  process.stdout.write(`${pkg.version}\n`);
} else if (runsThroughLauncher(argv, process.env)) {
  // A foreground `up`: the config is loaded in a child, and only the supervisor stays here.
  const { launch } = await import("./launcher.js");
  launch(fileURLToPath(import.meta.url), argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`nix2dream: internal error: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
} else {
  const { runCli } = await import("./main.js");
  runCli(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      // runCli reports its own errors; this is the last resort for a bug in the reporter itself.
      process.stderr.write(`nix2dream: internal error: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
