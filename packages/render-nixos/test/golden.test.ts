import { goldenTests } from "@nix2dream/testkit";
import { describe } from "vitest";
import nixos from "../src/index.js";
import { shop } from "./fixtures/shop.js";

/** Expected render of `fixtures/shop.ts`, reviewed like code. `UPDATE_GOLDEN=1` rewrites it. */
const GOLDEN = new URL("./fixtures/golden/", import.meta.url);

describe("golden render of the shop deployment", () => {
  const { artifacts, diagnostics } = nixos().render(shop());
  const files = new Map([
    ["nix2dream-shop.nix", artifacts[0]?.content as string],
    ["diagnostics.json", `${JSON.stringify(diagnostics, null, 2)}\n`],
  ]);
  goldenTests(GOLDEN, files, { exactSet: false });
});
