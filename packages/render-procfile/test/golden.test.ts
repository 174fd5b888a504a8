import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import procfile from "../src/index.js";
import { shop } from "./fixtures/shop.js";
import { artifact } from "./helpers.js";

// Core's built package, or its sources while it is not built (see `coreOrSources`).
vi.mock("@nix2dream/core", async (importOriginal) =>
  (await import("./helpers.js")).coreOrSources(importOriginal),
);

/** Expected render of `fixtures/shop.ts`, reviewed like code. `UPDATE_GOLDEN=1` rewrites it. */
const GOLDEN = fileURLToPath(new URL("./fixtures/golden/shop/", import.meta.url));

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((p) => statSync(join(dir, p)).isFile())
    .map((p) => relative(dir, join(dir, p)))
    .sort();
}

describe("golden render of the shop deployment", () => {
  const { artifacts, diagnostics } = procfile().render(shop);
  const expected = new Map(artifacts.map((a) => [a.path, a]));
  expected.set("diagnostics.json", {
    path: "diagnostics.json",
    content: `${JSON.stringify(diagnostics, null, 2)}\n`,
  });

  if (process.env.UPDATE_GOLDEN) {
    for (const [path, a] of expected) {
      mkdirSync(dirname(join(GOLDEN, path)), { recursive: true });
      writeFileSync(join(GOLDEN, path), a.content);
    }
  }

  it("renders exactly the golden set of files", () => {
    expect(listFiles(GOLDEN)).toEqual([...expected.keys()].sort());
  });

  it.each([...expected.keys()].sort())("renders %s byte for byte", (path) => {
    const a = expected.get(path);
    const content =
      path === "diagnostics.json" ? (a?.content as string) : artifact(artifacts, path);
    expect(content).toBe(readFileSync(join(GOLDEN, path), "utf8"));
  });

  it("marks launchers executable and nothing else", () => {
    const modes = Object.fromEntries(artifacts.map((a) => [a.path, a.mode ?? 0o644]));
    expect(modes).toEqual({
      ".foreman": 0o644,
      Procfile: 0o644,
      "launchers/api.sh": 0o755,
      "launchers/db.sh": 0o755,
      "launchers/migrate.sh": 0o755,
      "launchers/worker.sh": 0o755,
      "processes.json": 0o644,
    });
  });
});
