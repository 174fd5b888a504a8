import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { shop } from "./fixtures/shop.js";
import { render } from "./helpers.js";

/** Expected render of `fixtures/shop.ts`, reviewed like code. `UPDATE_GOLDEN=1` rewrites it. */
const GOLDEN = fileURLToPath(new URL("./fixtures/golden/shop/", import.meta.url));

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((p) => statSync(join(dir, p)).isFile())
    .map((p) => relative(dir, join(dir, p)))
    .sort();
}

describe("golden render of the shop deployment", () => {
  const { artifacts, diagnostics } = render(shop);
  const expected = new Map(artifacts.map((a) => [a.path, String(a.content)]));
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

  for (const [path, content] of expected) {
    it(`renders ${path} byte for byte as the golden file`, () => {
      expect(content).toBe(readFileSync(join(GOLDEN, path), "utf8"));
    });
  }
});
