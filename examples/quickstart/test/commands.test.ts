/**
 * The examples' documented commands work right after an install, as their READMEs say:
 * `npx nix2dream …` finds the bin linked into each example's node_modules (pnpm links it at
 * install, before the build, so it is a file outside dist/), and the npm scripts run it.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const examples = fileURLToPath(new URL("../../", import.meta.url));
const version = JSON.parse(
  spawnSync("node", ["-p", "JSON.stringify(require('nix2dream/package.json').version)"], {
    cwd: join(examples, "quickstart"),
    encoding: "utf8",
  }).stdout,
) as string;

describe.each(["quickstart", "containers"])("examples/%s", (name) => {
  const dir = join(examples, name);

  it("has the nix2dream bin linked into its node_modules", () => {
    expect(existsSync(join(dir, "node_modules", ".bin", "nix2dream"))).toBe(true);
  });

  it("runs `npx nix2dream --version` with the workspace's CLI, never one from the registry", () => {
    const r = spawnSync("npx", ["--no", "--", "nix2dream", "--version"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it("runs `npm run render`, its documented script", () => {
    const r = spawnSync("npm", ["run", "--silent", "render", "--", "--out", ".nix2dream-test"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    try {
      expect(r.status, r.stderr).toBe(0);
    } finally {
      spawnSync("rm", ["-rf", join(dir, ".nix2dream-test")]);
    }
  });
});
