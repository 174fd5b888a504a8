import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import nixosVm from "../src/index.js";
import { shop } from "./fixtures/shop.js";

/** Expected render of `fixtures/shop.ts`, reviewed like code. `UPDATE_GOLDEN=1` rewrites it. */
const GOLDEN = fileURLToPath(new URL("./fixtures/golden/", import.meta.url));

describe("golden render of the shop VM", () => {
  const { artifacts, diagnostics } = nixosVm().render(
    shop({}, { "nixos-vm": { nixpkgsRev: "0123456789abcdef0123456789abcdef01234567" } }),
  );
  const files: Record<string, string> = Object.fromEntries(
    artifacts.map((a) => [a.path, a.content as string]),
  );
  files["diagnostics.json"] = `${JSON.stringify(diagnostics, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(GOLDEN, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(GOLDEN, name), content);
  }

  it.each(Object.keys(files).sort())("renders %s byte for byte", (name) => {
    expect(files[name]).toBe(readFileSync(join(GOLDEN, name), "utf8"));
  });
});
