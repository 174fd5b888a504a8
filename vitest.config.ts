import { defineConfig } from "vitest/config";

/**
 * Tests tagged (`@module-tag <tool>` at the top of a file, or `{ tags: [...] }` on a describe/it)
 * need a system tool that scripts/setup.sh installs; `npm run test:fast` leaves them out.
 */
const TOOLS = {
  docker: "a Docker engine (docker.io, started by scripts/setup.sh) and busybox-static",
  foreman: "ruby foreman (ruby-foreman)",
  nix: "nix-instantiate (nix-bin)",
  systemd: "systemd-analyze or a systemd user manager (systemd)",
  kubectl: "the kubectl client",
  servers: "Debian's postgresql, redis-server and nginx-light, run on loopback",
  graphviz: "Graphviz's dot (graphviz)",
};

export default defineConfig({
  test: {
    include: [
      "packages/*/test/**/*.test.ts",
      "examples/*/test/**/*.test.ts",
      "scripts/test/**/*.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ["packages/testkit/src/vitest/global-setup.ts"],
    reporters: ["default", "./packages/testkit/src/vitest/skips-reporter.ts"],
    tags: Object.entries(TOOLS).map(([name, description]) => ({ name, description })),
  },
});
