import { evaluateDeployment, ref } from "@nix2dream/core";
import { readmeExample } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import nixos from "../src/index.js";

const README = new URL("../README.md", import.meta.url);

describe("the README", () => {
  it("has a usage example that renders without diagnostics", () => {
    const { deployment, renderers } = evaluateDeployment(
      readmeExample(README, { ref, nixos }) as never,
      {
        file: "nix2dream.config.ts",
      },
    );
    const { artifacts, diagnostics } = (renderers[0] as ReturnType<typeof nixos>).render(
      deployment,
    );
    expect(diagnostics).toEqual([]);
    expect(artifacts.map((a) => a.path)).toEqual(["nix2dream-shop.nix"]);
  });
});
