import type { OptionTypesAgree } from "@nix2dream/core";
import { describe, expectTypeOf, it } from "vitest";
import type { ComposeManagerSettings, moduleWith } from "../src/manager.js";

// Type tests, checked by `tsc -p packages/manage-compose` (the repository's typecheck): the interfaces
// this package merges into core must describe what its option declarations deliver, key for
// key (core's OptionTypesAgree). A field typed `number` beside a declaration of `types.str`, a
// field missing on either side, or a module typed only as `Module` fails the typecheck.
describe("the option interfaces", () => {
  it("ComposeManagerSettings is what the declarations of `managers.compose` deliver", () => {
    expectTypeOf<
      OptionTypesAgree<ReturnType<typeof moduleWith>, ComposeManagerSettings>
    >().toEqualTypeOf<true>();
  });
});
