import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { evaluateDeployment } from "@nix2dream/core";
import { describe, expect, it, vi } from "vitest";
import k8s from "../src/index.js";
import { everything } from "./fixtures/everything.js";
import { artifact } from "./helpers.js";

vi.mock("@nix2dream/core", async (o) => (await import("./helpers.js")).coreOrSources(o));

/** Expected render of `fixtures/everything.ts`, reviewed like code. `UPDATE_GOLDEN=1` rewrites it. */
const GOLDEN = fileURLToPath(new URL("./fixtures/golden/everything/", import.meta.url));

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((p) => statSync(join(dir, p)).isFile())
    .map((p) => relative(dir, join(dir, p)))
    .sort();
}

describe("golden render of the everything deployment", () => {
  const { deployment } = evaluateDeployment(everything, { file: "nix2dream.config.ts" });
  const { artifacts, diagnostics } = k8s({ namespace: "shop-ns" }).render(deployment);
  const expected = new Map<string, string>(
    artifacts.map((a) => [a.path, artifact(artifacts, a.path)]),
  );
  expected.set("diagnostics.json", `${JSON.stringify(diagnostics, null, 2)}\n`);

  if (process.env.UPDATE_GOLDEN) {
    for (const [path, content] of expected) {
      mkdirSync(dirname(join(GOLDEN, path)), { recursive: true });
      writeFileSync(join(GOLDEN, path), content);
    }
  }

  it("renders exactly the golden set of files", () => {
    expect(listFiles(GOLDEN)).toEqual([...expected.keys()].sort());
  });

  it.each([...expected.keys()].sort())("renders %s byte for byte", (path) => {
    expect(expected.get(path)).toBe(readFileSync(join(GOLDEN, path), "utf8"));
  });
});
