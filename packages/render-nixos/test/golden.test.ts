import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import nixos from "../src/index.js";
import { shop } from "./fixtures/shop.js";

/** Expected render of `fixtures/shop.ts`, reviewed like code. `UPDATE_GOLDEN=1` rewrites it. */
const GOLDEN = fileURLToPath(new URL("./fixtures/golden/", import.meta.url));

describe("golden render of the shop deployment", () => {
  const { artifacts, diagnostics } = nixos().render(shop());
  const files: Record<string, string> = {
    "nix2dream-shop.nix": artifacts[0]?.content as string,
    "diagnostics.json": `${JSON.stringify(diagnostics, null, 2)}\n`,
  };
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(GOLDEN, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(GOLDEN, name), content);
  }

  it.each(Object.keys(files))("renders %s byte for byte", (name) => {
    expect(files[name]).toBe(readFileSync(join(GOLDEN, name), "utf8"));
  });
});
