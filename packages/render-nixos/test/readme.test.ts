import { readFileSync } from "node:fs";
import { evaluateDeployment, ref } from "@nix2dream/core";
import { describe, expect, it } from "vitest";
import nixos from "../src/index.js";

/** The README's usage example, run with `defineDeployment` as the identity it is for data. */
function readmeExample(): unknown {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  const body = code
    .split("\n")
    .filter((l) => !l.startsWith("import ") && !l.startsWith("//"))
    .join("\n")
    .replace("export default", "return");
  return new Function("defineDeployment", "ref", "nixos", body)((d: unknown) => d, ref, nixos);
}

describe("the README", () => {
  it("has a usage example that renders without diagnostics", () => {
    const { deployment, renderers } = evaluateDeployment(readmeExample() as never, {
      file: "nix2dream.config.ts",
    });
    const { artifacts, diagnostics } = (renderers[0] as ReturnType<typeof nixos>).render(
      deployment,
    );
    expect(diagnostics).toEqual([]);
    expect(artifacts.map((a) => a.path)).toEqual(["nix2dream-shop.nix"]);
  });
});
