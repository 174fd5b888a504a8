import type { OptionTypesAgree } from "@nix2dream/core";
import { describe, expectTypeOf, it } from "vitest";
import type {
  SystemdRendererDeploymentOptions,
  SystemdRendererServiceOptions,
  systemdDeploymentModule,
  systemdServiceModule,
} from "../src/options.js";

// Type tests, checked by `tsc -p packages/render-systemd` (the repository's typecheck): the interfaces
// this package merges into core must describe what its option declarations deliver, key for
// key (core's OptionTypesAgree). A field typed `number` beside a declaration of `types.str`, a
// field missing on either side, or a module typed only as `Module` fails the typecheck.
describe("the option interfaces", () => {
  it("SystemdRendererServiceOptions is what the declarations of `services.<svc>.renderers.systemd` deliver", () => {
    expectTypeOf<
      OptionTypesAgree<typeof systemdServiceModule, SystemdRendererServiceOptions>
    >().toEqualTypeOf<true>();
  });
  it("SystemdRendererDeploymentOptions is what the declarations of `renderers.systemd` deliver", () => {
    expectTypeOf<
      OptionTypesAgree<typeof systemdDeploymentModule, SystemdRendererDeploymentOptions>
    >().toEqualTypeOf<true>();
  });
});
