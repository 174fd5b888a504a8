import { defineConfig } from "tsup";

export default defineConfig({
  // The root is the contract; our own target code is behind subpaths (`@nix2dream/core/systemd`,
  // `/oci`, `/nix`, `/shell`, `/entrypoint`, `/record`, `/json`). `errors` is its own entry (`@nix2dream/core/errors`):
  // `UserError` without the option modules and zod, for callers that must start fast (`--help`).
  entry: [
    "src/index.ts",
    "src/errors.ts",
    "src/systemd.ts",
    "src/oci.ts",
    "src/nix.ts",
    "src/shell.ts",
    "src/entrypoint.ts",
    "src/record.ts",
    "src/json.ts",
  ],
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
});
