import type { OptionTypesAgree } from "@nix2dream/core";
import { describe, expectTypeOf, it } from "vitest";
import type {
  K8sDeploymentOptions,
  K8sServiceOptions,
  k8sDeploymentModule,
  k8sServiceModule,
} from "../src/options.js";

// Type tests, checked by `tsc -p packages/render-k8s` (the repository's typecheck): the interfaces
// this package merges into core must describe what its option declarations deliver, key for
// key (core's OptionTypesAgree). A field typed `number` beside a declaration of `types.str`, a
// field missing on either side, or a module typed only as `Module` fails the typecheck.
describe("the option interfaces", () => {
  it("K8sServiceOptions is what the declarations of `services.<svc>.renderers.k8s` deliver", () => {
    expectTypeOf<
      OptionTypesAgree<typeof k8sServiceModule, K8sServiceOptions>
    >().toEqualTypeOf<true>();
  });
  it("K8sDeploymentOptions is what the declarations of `renderers.k8s` deliver", () => {
    expectTypeOf<
      OptionTypesAgree<typeof k8sDeploymentModule, K8sDeploymentOptions>
    >().toEqualTypeOf<true>();
  });
});
