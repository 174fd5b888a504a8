import { goldenFiles, goldenTests } from "@nix2dream/testkit";
import { describe } from "vitest";
import nixosVm from "../src/index.js";
import { shop } from "./fixtures/shop.js";

/** Expected render of `fixtures/shop.ts`, reviewed like code. `UPDATE_GOLDEN=1` rewrites it. */
const GOLDEN = new URL("./fixtures/golden/", import.meta.url);

describe("golden render of the shop VM", () => {
  const { artifacts, diagnostics } = nixosVm().render(
    shop({}, { "nixos-vm": { nixpkgsRev: "0123456789abcdef0123456789abcdef01234567" } }),
  );
  goldenTests(GOLDEN, goldenFiles(artifacts, diagnostics), { exactSet: false });
});
