import { evaluateDeployment, type Renderer, ref } from "@nix2dream/core";
import { readmeExample } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import nixosVm from "../src/index.js";

const README = new URL("../README.md", import.meta.url);

// The manager of the example is not this package's: a stand-in with its name and renderer.
const vm = () => ({ name: "nixos-vm", renderer: "nixos-vm", actions: {} });

describe("the README", () => {
  it("has a usage example that renders without diagnostics", () => {
    const { deployment, renderers } = evaluateDeployment(
      readmeExample(README, { ref, nixosVm, vm }) as never,
      {
        file: "nix2dream.config.ts",
      },
    );
    const { artifacts, diagnostics } = (renderers[0] as Renderer).render(deployment);
    expect(diagnostics).toEqual([]);
    expect(artifacts.map((a) => a.path)).toContain("flake.nix");
  });
});
