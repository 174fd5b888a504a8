import { defineModule, mkOption, types } from "@nix2dream/modules";
import { describe, expect, expectTypeOf, it } from "vitest";
import { defineManager, defineRenderer, type OptionTypesAgree } from "../src/index.js";

// Type tests, checked by `tsc -p packages/core/tsconfig.plugins.json` (declaration merging is
// global, so plugins' interfaces are checked apart from core's other tests). A
// `@ts-expect-error` whose line type-checks fails the typecheck.

/** What the demo plugins declare: `port` is a string here, on purpose. */
const declared = defineModule("agreement-demo.ts", {
  options: {
    port: mkOption({ type: types.str, default: "8080" }),
    verbose: mkOption({ type: types.bool, default: false }),
  },
});

/** The interface next to it claims a number. */
interface DisagreeingOptions {
  port: number;
  verbose: boolean;
}
/** An interface that says what the declarations deliver. */
interface AgreeingOptions {
  port: string;
  verbose: boolean;
}

declare module "../src/index.js" {
  interface ServiceRenderers {
    "agreement-bad": DisagreeingOptions;
    "agreement-good": AgreeingOptions;
  }
  interface DeploymentManagers {
    "agreement-bad": DisagreeingOptions;
  }
}

const render = () => ({ artifacts: [], diagnostics: [] });

describe("option interfaces against option declarations", () => {
  it("tells an interface that fits the declarations from one that does not", () => {
    expectTypeOf<OptionTypesAgree<typeof declared, AgreeingOptions>>().toEqualTypeOf<true>();
    expectTypeOf<OptionTypesAgree<typeof declared, DisagreeingOptions>>().not.toEqualTypeOf<true>();
    // A missing key on either side disagrees too.
    expectTypeOf<OptionTypesAgree<typeof declared, { port: string }>>().not.toEqualTypeOf<true>();
    expectTypeOf<
      OptionTypesAgree<typeof declared, AgreeingOptions & { extra: string }>
    >().not.toEqualTypeOf<true>();
  });

  it("does not take a module whose type does not carry its declarations", () => {
    const untyped: import("@nix2dream/modules").Module = declared;
    expectTypeOf<OptionTypesAgree<typeof untyped, AgreeingOptions>>().not.toEqualTypeOf<true>();
  });

  it("makes defineRenderer and defineManager reject a module that disagrees", () => {
    const good = defineRenderer({ name: "agreement-good", serviceModule: declared, render });
    defineRenderer({
      name: "agreement-bad",
      // @ts-expect-error the interface says `port: number`, the declaration `types.str` (tsc checks this line)
      serviceModule: declared,
      render,
    });
    defineManager({
      name: "agreement-bad",
      renderer: "agreement-good",
      // @ts-expect-error the interface says `port: number`, the declaration `types.str` (tsc checks this line)
      module: declared,
      actions: {},
    });
    expect(good.name).toBe("agreement-good");
  });
});
