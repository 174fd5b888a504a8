/** The root README's example config is real: `nix2dream check --strict` accepts it as printed. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readmeBlocks, runCli } from "@nix2dream/testkit";
import { expect, it } from "vitest";

const example = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(example, "../..");

it("the root README's nix2dream.config.ts evaluates and renders without a diagnostic", () => {
  const config = readmeBlocks(join(root, "README.md")).find((b) =>
    b.startsWith("// nix2dream.config.ts\n"),
  );
  expect(config, "README.md has a ```ts block starting with // nix2dream.config.ts").toBeTruthy();
  // Inside the example so `nix2dream` and the plugins resolve from its node_modules.
  const dir = mkdtempSync(join(example, ".test-run-readme-"));
  try {
    writeFileSync(join(dir, "nix2dream.config.ts"), config as string);
    const r = runCli(["check", "--strict"], { cwd: dir, env: { NO_COLOR: "1" } });
    expect(r.stderr + r.stdout).toContain("0 warnings");
    expect(r.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
