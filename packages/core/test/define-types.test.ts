import { describe, expect, expectTypeOf, it } from "vitest";
import type {
  DeploymentDefinition,
  DeploymentManagers,
  DeploymentRenderers,
  ServiceRenderers,
} from "../src/index.js";

// Type tests, checked by `tsc -p packages/core` (this program has no renderer or manager
// package installed: its renderers.test.ts, which has one, is checked by tsconfig.plugins.json).
// A `@ts-expect-error` whose line type-checks fails the typecheck.

describe("plugin options with no plugin declaring any", () => {
  it("is the case under test: nothing merged into the plugin interfaces", () => {
    expectTypeOf<keyof ServiceRenderers>().toEqualTypeOf<never>();
    expectTypeOf<keyof DeploymentRenderers>().toEqualTypeOf<never>();
    expectTypeOf<keyof DeploymentManagers>().toEqualTypeOf<never>();
  });

  it("rejects options for a renderer or manager that declares none", () => {
    const deployment: DeploymentDefinition = {
      name: "shop",
      // @ts-expect-error no renderer named `nonsense` declares options (tsc checks this line)
      renderers: { nonsense: {} },
      // @ts-expect-error no manager named `nonsense` declares options (tsc checks this line)
      managers: { nonsense: {} },
      // @ts-expect-error no renderer named `nonsense` declares service options (tsc checks this line)
      services: { api: { renderers: { nonsense: {} } } },
    };
    expect(deployment.name).toBe("shop");
  });

  it("accepts empty plugin options", () => {
    const deployment: DeploymentDefinition = {
      name: "shop",
      renderers: {},
      managers: {},
      services: { api: { renderers: {} } },
    };
    expect(deployment.renderers).toEqual({});
  });
});
