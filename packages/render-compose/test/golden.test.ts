import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import compose from "../src/index.js";
import { shop } from "./fixtures/shop.js";

/** Expected render of `fixtures/shop.ts`, reviewed like code. `UPDATE_GOLDEN=1` rewrites it. */
const GOLDEN = fileURLToPath(new URL("./fixtures/golden/shop/", import.meta.url));

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((p) => statSync(join(dir, p)).isFile())
    .map((p) => relative(dir, join(dir, p)))
    .sort();
}

describe("golden render of the shop deployment", () => {
  const { artifacts, diagnostics } = compose().render(shop);
  const expected = new Map<string, string>(
    artifacts.map((a) => [a.path, typeof a.content === "string" ? a.content : ""]),
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
