import type { OptionTypesAgree } from "@nix2dream/core";
import { describe, expectTypeOf, it } from "vitest";
import type {
  ComposeDeploymentOptions,
  ComposeServiceOptions,
  composeDeploymentModule,
  composeServiceModule,
} from "../src/options.js";

// Type tests, checked by `tsc -p packages/render-compose` (the repository's typecheck): the interfaces
// this package merges into core must describe what its option declarations deliver, key for
// key (core's OptionTypesAgree). A field typed `number` beside a declaration of `types.str`, a
// field missing on either side, or a module typed only as `Module` fails the typecheck.
describe("the option interfaces", () => {
  it("ComposeServiceOptions is what the declarations of `services.<svc>.renderers.compose` deliver", () => {
    expectTypeOf<
      OptionTypesAgree<typeof composeServiceModule, ComposeServiceOptions>
    >().toEqualTypeOf<true>();
  });
  it("ComposeDeploymentOptions is what the declarations of `renderers.compose` deliver", () => {
    expectTypeOf<
      OptionTypesAgree<ReturnType<typeof composeDeploymentModule>, ComposeDeploymentOptions>
    >().toEqualTypeOf<true>();
  });
});
