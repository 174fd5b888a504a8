import { goldenFiles, goldenTests } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import systemd from "../src/index.js";
import { shop } from "./fixtures/shop.js";

/** Expected render of `fixtures/shop.ts`, reviewed like code. `UPDATE_GOLDEN=1` rewrites it. */
const GOLDEN = new URL("./fixtures/golden/shop/", import.meta.url);

describe("golden render of the shop deployment", () => {
  const { artifacts, diagnostics } = systemd().render(shop());
  goldenTests(GOLDEN, goldenFiles(artifacts, diagnostics));

  it("renders byte-identical output twice", () => {
    const again = systemd().render(shop());
    expect(again.artifacts).toEqual(artifacts);
    expect(again.diagnostics).toEqual(diagnostics);
  });
});
