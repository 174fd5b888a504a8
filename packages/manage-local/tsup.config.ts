import { defineConfig } from "tsup";

export default defineConfig({
  // `supervisor` is the `./supervisor` subpath export (src/programmatic.ts: a name of its own,
  // src/supervisor.ts being the class).
  entry: {
    index: "src/index.ts",
    supervisor: "src/programmatic.ts",
    daemon: "src/daemon.ts",
    foreground: "src/foreground.ts",
  },
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
});
