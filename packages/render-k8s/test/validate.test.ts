/**
 * Every object rendered from every example in `examples/` and from `fixtures/everything.ts`
 * against the Kubernetes schemas (kubernetes-models validation plus an unknown-field walk over
 * @kubernetes/client-node's type metadata) and the real kubectl client: `kubectl kustomize`
 * builds the output directory and `kubectl set selector --local` decodes every file into
 * kubectl's typed API objects. No API server can run here (see VALIDATION.md).
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DeploymentDefinition, evaluateDeployment, type RenderResult } from "@nix2dream/core";
import { artifact, writeArtifacts } from "@nix2dream/testkit";
import { afterAll, describe, expect, it } from "vitest";
import k8s from "../src/index.js";
import { everything, HOSTILE } from "./fixtures/everything.js";
import { decodeProblems, kubectl, parseStream, tempDir } from "./helpers.js";
import { kubeletView } from "./kubelet.js";
import { schemaProblems, unknownFields } from "./validate.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/", import.meta.url));
const exampleNames = readdirSync(EXAMPLES)
  .filter((n) => existsSync(join(EXAMPLES, n, "nix2dream.config.ts")))
  .sort();

const temps: Array<() => void> = [];
afterAll(() => {
  for (const remove of temps) remove();
});

async function renderExample(name: string): Promise<RenderResult> {
  const file = join(EXAMPLES, name, "nix2dream.config.ts");
  const def = (await import(file)).default as DeploymentDefinition;
  const others = (def.use ?? []).filter((p) => p.name !== "k8s");
  const { deployment } = evaluateDeployment({ ...def, use: [...others, k8s()] }, { file });
  return k8s().render(deployment);
}

function renderEverything(): RenderResult {
  const { deployment } = evaluateDeployment(everything, { file: "nix2dream.config.ts" });
  return k8s({ namespace: "shop-ns" }).render(deployment);
}

const cases: Array<[string, () => Promise<RenderResult> | RenderResult]> = [
  ["the everything fixture", renderEverything],
  ...exampleNames.map((n): [string, () => Promise<RenderResult>] => [
    `examples/${n}`,
    () => renderExample(n),
  ]),
];

describe.each(cases)("the render of %s", (_label, renderIt) => {
  it("validates every object against the Kubernetes OpenAPI schema with unknown fields rejected", async () => {
    const { artifacts } = await renderIt();
    const objects = await parseStream(artifact(artifacts, "all.yaml"));
    expect(objects.length).toBeGreaterThan(1);
    expect(objects.flatMap((o) => schemaProblems(o))).toEqual([]);
  });

  it("is built by `kubectl kustomize` into the same objects as all.yaml", {
    tags: ["kubectl"],
  }, async () => {
    const { artifacts } = await renderIt();
    const { dir, remove } = tempDir("kustomize");
    temps.push(remove);
    writeArtifacts(dir, artifacts);
    const built = await parseStream(kubectl(["kustomize", dir]));
    const all = await parseStream(artifact(artifacts, "all.yaml"));
    const id = (o: Record<string, unknown>) => `${o.kind}/${(o.metadata as { name: string }).name}`;
    expect(built.map(id).sort()).toEqual(all.map(id).sort());
  });

  it("decodes every file into kubectl's typed API objects", { tags: ["kubectl"] }, async () => {
    const { artifacts } = await renderIt();
    const { dir, remove } = tempDir("decode");
    temps.push(remove);
    writeArtifacts(dir, artifacts);
    for (const a of artifacts) {
      if (a.path === "kustomization.yaml") continue;
      const problems = decodeProblems(join(dir, a.path));
      expect(problems, a.path).toEqual([]);
    }
  });
});

describe("YAML quoting as kubectl reads it", () => {
  it("keeps hostile and YAML 1.1 look-alike values byte for byte through kubectl's decoder", {
    tags: ["kubectl"],
  }, async () => {
    const values = [
      "y",
      "n",
      "yes",
      "No",
      "on",
      "OFF",
      "~",
      "null",
      "0644",
      "0x1F",
      "1e3",
      "12:30",
      ".5",
      "-",
      "- x",
      "#c",
      "a: b",
      "",
      " lead",
      "trail ",
      "a\n",
      "\n",
      HOSTILE,
      "{x}",
      "[1]",
      "*a",
      "&b",
      "!t",
      "%p",
      "@q",
      "`r`",
      "'",
      '"',
      "é😀\u200b",
    ];
    const env = Object.fromEntries(values.map((v, i) => [`V${i}`, v]));
    const { deployment } = evaluateDeployment({
      name: "q",
      use: [k8s()],
      services: { a: { package: { image: "y" }, env, args: values } },
    });
    const { artifacts } = k8s().render(deployment);
    const { dir, remove } = tempDir("quote");
    temps.push(remove);
    writeArtifacts(dir, artifacts);
    const out = JSON.parse(
      kubectl([
        "set",
        "env",
        "--local",
        "-f",
        join(dir, "deployment-a.yaml"),
        "-o",
        "json",
        "N2D_CHECK=1",
      ]),
    );
    // What kubectl decoded, as the program then gets it from kubelet.
    const c = kubeletView(out.spec.template.spec.containers[0]);
    expect(c.image).toBe("y");
    expect(c.args).toEqual(values);
    const decoded = Object.fromEntries(
      c.env
        .filter((e: { name: string }) => e.name !== "N2D_CHECK")
        .map((e: { name: string; value?: string }) => [e.name, e.value ?? ""]),
    );
    expect(decoded).toEqual(env);
  });
});

describe("the schema checks themselves", () => {
  it("report a file kubectl cannot decode into its typed objects", { tags: ["kubectl"] }, () => {
    const { dir, remove } = tempDir("bad");
    temps.push(remove);
    writeArtifacts(dir, [
      {
        path: "bad.yaml",
        content:
          'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: "2"}\n',
      },
    ]);
    expect(decodeProblems(join(dir, "bad.yaml")).join("\n")).toContain(
      "cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas",
    );
  });

  it("reject a field the Kubernetes API does not define", () => {
    expect(
      unknownFields(
        { spec: { replicass: 2, template: { spec: { containers: [{ name: "a", imag: "x" }] } } } },
        "V1Deployment",
      ),
    ).toEqual([
      ".spec.replicass: unknown field of V1DeploymentSpec",
      ".spec.template.spec.containers[0].imag: unknown field of V1Container",
    ]);
  });

  it("reject a wrong type through kubernetes-models", () => {
    expect(
      schemaProblems({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "a" },
        spec: { replicas: "2", selector: {}, template: {} },
      } as never),
    ).not.toEqual([]);
  });
});
