import type { OptionTypesAgree } from "@nix2dream/core";
import { describe, expectTypeOf, it } from "vitest";
import type {
  NixosDeploymentOptions,
  NixosServiceOptions,
  nixosDeploymentModule,
  nixosServiceModule,
} from "../src/options.js";

// Type tests, checked by `tsc -p packages/render-nixos` (the repository's typecheck): the interfaces
// this package merges into core must describe what its option declarations deliver, key for
// key (core's OptionTypesAgree). A field typed `number` beside a declaration of `types.str`, a
// field missing on either side, or a module typed only as `Module` fails the typecheck.
describe("the option interfaces", () => {
  it("NixosServiceOptions is what the declarations of `services.<svc>.renderers.nixos` deliver", () => {
    expectTypeOf<
      OptionTypesAgree<typeof nixosServiceModule, NixosServiceOptions>
    >().toEqualTypeOf<true>();
  });
  it("NixosDeploymentOptions is what the declarations of `renderers.nixos` deliver", () => {
    expectTypeOf<
      OptionTypesAgree<typeof nixosDeploymentModule, NixosDeploymentOptions>
    >().toEqualTypeOf<true>();
  });
});
