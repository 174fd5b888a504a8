import { defineConfig } from "tsup";

export default defineConfig({
  // `errors` is its own entry (`@nix2dream/core/errors`): `UserError` without the option
  // modules and zod, for callers that must start fast (the CLI's `--help`).
  entry: ["src/index.ts", "src/errors.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
});
