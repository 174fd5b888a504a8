import { defineConfig } from "tsup";

// One build, two entries: the library (`nix2dream`) and the CLI (`bin`), sharing one chunk.
// The CLI's `#!/usr/bin/env node` line is in src/cli.ts; esbuild keeps an entry's hashbang.
export default defineConfig({
  entry: { index: "src/index.ts", cli: "src/cli.ts" },
  format: ["esm"],
  dts: { entry: { index: "src/index.ts" } },
  clean: true,
  sourcemap: true,
  target: "node20",
});
