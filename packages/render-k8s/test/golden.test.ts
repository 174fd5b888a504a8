import { evaluateDeployment } from "@nix2dream/core";
import { goldenFiles, goldenTests } from "@nix2dream/testkit";
import { describe } from "vitest";
import k8s from "../src/index.js";
import { everything } from "./fixtures/everything.js";

/** Expected render of `fixtures/everything.ts`, reviewed like code. `UPDATE_GOLDEN=1` rewrites it. */
const GOLDEN = new URL("./fixtures/golden/everything/", import.meta.url);

describe("golden render of the everything deployment", () => {
  const { deployment } = evaluateDeployment(everything, { file: "nix2dream.config.ts" });
  const { artifacts, diagnostics } = k8s({ namespace: "shop-ns" }).render(deployment);
  goldenTests(GOLDEN, goldenFiles(artifacts, diagnostics));
});
