import { evaluateDeployment, ref } from "@nix2dream/core";
import nixosVm from "@nix2dream/render-nixos-vm";
import { readmeExample } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import vm from "../src/index.js";

const README = new URL("../README.md", import.meta.url);

describe("the README", () => {
  it("has a usage example that evaluates with this manager in use", () => {
    const { managers } = evaluateDeployment(readmeExample(README, { ref, nixosVm, vm }) as never, {
      file: "nix2dream.config.ts",
    });
    expect(managers.map((m) => [m.name, m.renderer])).toEqual([["nixos-vm", "nixos-vm"]]);
  });
});
