import { describe, expect, it } from "vitest";
import { defineDeployment, mkDefault, ref } from "../src/index.js";

// A renderer package adds its per-service options by declaration merging; `tsc` checks the uses
// below (`pnpm exec tsc --noEmit -p packages/nix2dream`).
declare module "@nix2dream/core" {
  interface ServiceRenderers {
    testfiles: { extension: string };
  }
}

describe("defineDeployment", () => {
  it("returns the definition it is given", () => {
    const definition = { name: "shop", services: { api: { command: ["node", "api.mjs"] } } };
    expect(defineDeployment(definition)).toBe(definition);
  });

  it("types core options, references, mk* wrappers and merged renderer options", () => {
    const d = defineDeployment({
      name: "shop",
      services: {
        db: { command: "postgres", ports: { pg: 5432 } },
        api: {
          command: ["node", "api.mjs"],
          env: { DATABASE_URL: `postgres://${ref.db?.host}:${ref.db?.ports.pg}/shop` },
          replicas: mkDefault(2),
          renderers: { testfiles: { extension: ".txt" } },
        },
      },
    });
    expect(Object.keys(d.services ?? {})).toEqual(["db", "api"]);
  });

  it("rejects a misspelt option at compile time", () => {
    const d = defineDeployment({
      name: "shop",
      // @ts-expect-error `comand` is not an option (tsc checks this line)
      services: { api: { comand: ["node"] } },
    });
    expect(d.name).toBe("shop");
  });

  it("rejects a wrongly typed merged renderer option at compile time", () => {
    const d = defineDeployment({
      name: "shop",
      // @ts-expect-error `extension` is a string (tsc checks this line)
      services: { api: { renderers: { testfiles: { extension: 1 } } } },
    });
    expect(d.name).toBe("shop");
  });
});
