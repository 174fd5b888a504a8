import { readFileSync } from "node:fs";
import { evaluateDeployment, ref } from "@nix2dream/core";
import nixosVm from "@nix2dream/render-nixos-vm";
import { describe, expect, it } from "vitest";
import vm from "../src/index.js";

/** The README's usage example, run with `defineDeployment` as the identity it is for data. */
function readmeExample(): unknown {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  const body = code
    .split("\n")
    .filter((l) => !l.startsWith("import ") && !l.startsWith("//"))
    .join("\n")
    .replace("export default", "return");
  return new Function("defineDeployment", "ref", "nixosVm", "vm", body)(
    (d: unknown) => d,
    ref,
    nixosVm,
    vm,
  );
}

describe("the README", () => {
  it("has a usage example that evaluates with this manager in use", () => {
    const { managers } = evaluateDeployment(readmeExample() as never, {
      file: "nix2dream.config.ts",
    });
    expect(managers.map((m) => [m.name, m.renderer])).toEqual([["nixos-vm", "nixos-vm"]]);
  });
});
