import { readFileSync } from "node:fs";
import { evaluateDeployment, type Renderer, ref } from "@nix2dream/core";
import { describe, expect, it } from "vitest";
import nixosVm from "../src/index.js";

/** The README's usage example, run with `defineDeployment` as the identity it is for data. */
function readmeExample(): unknown {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  const body = code
    .split("\n")
    .filter((l) => !l.startsWith("import ") && !l.startsWith("//"))
    .join("\n")
    .replace("export default", "return");
  // The manager of the example is not this package's: a stand-in with its name and renderer.
  const vm = () => ({ name: "nixos-vm", renderer: "nixos-vm", actions: {} });
  return new Function("defineDeployment", "ref", "nixosVm", "vm", body)(
    (d: unknown) => d,
    ref,
    nixosVm,
    vm,
  );
}

describe("the README", () => {
  it("has a usage example that renders without diagnostics", () => {
    const { deployment, renderers } = evaluateDeployment(readmeExample() as never, {
      file: "nix2dream.config.ts",
    });
    const { artifacts, diagnostics } = (renderers[0] as Renderer).render(deployment);
    expect(diagnostics).toEqual([]);
    expect(artifacts.map((a) => a.path)).toContain("flake.nix");
  });
});
