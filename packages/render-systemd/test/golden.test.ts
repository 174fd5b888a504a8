import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import systemd from "../src/index.js";
import { shop } from "./fixtures/shop.js";
import { artifact } from "./helpers.js";

/** Expected render of `fixtures/shop.ts`, reviewed like code. `UPDATE_GOLDEN=1` rewrites it. */
const GOLDEN = fileURLToPath(new URL("./fixtures/golden/shop/", import.meta.url));

describe("golden render of the shop deployment", () => {
  const { artifacts, diagnostics } = systemd().render(shop());
  const expected = new Map<string, string>(
    artifacts.map((a) => [a.path, artifact(artifacts, a.path)]),
  );
  expected.set("diagnostics.json", `${JSON.stringify(diagnostics, null, 2)}\n`);

  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(GOLDEN, { recursive: true });
    for (const [path, content] of expected) writeFileSync(join(GOLDEN, path), content);
  }

  it("renders exactly the golden set of files", () => {
    expect(readdirSync(GOLDEN).sort()).toEqual([...expected.keys()].sort());
  });

  it.each([...expected.keys()].sort())("renders %s byte for byte", (path) => {
    expect(expected.get(path)).toBe(readFileSync(join(GOLDEN, path), "utf8"));
  });

  it("renders byte-identical output twice", () => {
    const again = systemd().render(shop());
    expect(again.artifacts).toEqual(artifacts);
    expect(again.diagnostics).toEqual(diagnostics);
  });
});
