import type { OptionTypesAgree } from "@nix2dream/core";
import type { NixosServiceOptions } from "@nix2dream/render-nixos";
import { describe, expectTypeOf, it } from "vitest";
import type {
  NixosVmDeploymentOptions,
  nixosVmDeploymentModuleWith,
  nixosVmServiceModule,
} from "../src/options.js";

// Type tests, checked by `tsc -p packages/render-nixos-vm` (the repository's typecheck): the interfaces
// this package merges into core must describe what its option declarations deliver, key for
// key (core's OptionTypesAgree). A field typed `number` beside a declaration of `types.str`, a
// field missing on either side, or a module typed only as `Module` fails the typecheck.
describe("the option interfaces", () => {
  it("NixosServiceOptions is what the declarations of `services.<svc>.renderers.nixos-vm` deliver", () => {
    expectTypeOf<
      OptionTypesAgree<typeof nixosVmServiceModule, NixosServiceOptions>
    >().toEqualTypeOf<true>();
  });
  it("NixosVmDeploymentOptions is what the declarations of `renderers.nixos-vm` deliver", () => {
    expectTypeOf<
      OptionTypesAgree<ReturnType<typeof nixosVmDeploymentModuleWith>, NixosVmDeploymentOptions>
    >().toEqualTypeOf<true>();
  });
});
