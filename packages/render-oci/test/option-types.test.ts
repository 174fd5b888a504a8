import type { OptionTypesAgree } from "@nix2dream/core";
import { describe, expectTypeOf, it } from "vitest";
import type {
  OciDeploymentOptions,
  OciServiceOptions,
  ociDeploymentModule,
  ociServiceModule,
} from "../src/options.js";

// Type tests, checked by `tsc -p packages/render-oci` (the repository's typecheck): the interfaces
// this package merges into core must describe what its option declarations deliver, key for
// key (core's OptionTypesAgree). A field typed `number` beside a declaration of `types.str`, a
// field missing on either side, or a module typed only as `Module` fails the typecheck.
describe("the option interfaces", () => {
  it("OciServiceOptions is what the declarations of `services.<svc>.renderers.oci` deliver", () => {
    expectTypeOf<
      OptionTypesAgree<typeof ociServiceModule, OciServiceOptions>
    >().toEqualTypeOf<true>();
  });
  it("OciDeploymentOptions is what the declarations of `renderers.oci` deliver", () => {
    expectTypeOf<
      OptionTypesAgree<typeof ociDeploymentModule, OciDeploymentOptions>
    >().toEqualTypeOf<true>();
  });
});
