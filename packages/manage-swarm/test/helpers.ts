/** Rendering a deployment with render-compose into a directory, as the CLI would, for the swarm manager. */
import { join } from "node:path";
import { type DeploymentDefinition, evaluateDeployment } from "@nix2dream/core";
import compose from "@nix2dream/render-compose";
import { managerContext, type TestManagerContext, writeArtifacts } from "@nix2dream/testkit";

/** Evaluates `definition`, renders it with render-compose into `dir/render` and returns a context on it. */
export function rendered(
  definition: DeploymentDefinition,
  dir: string,
  baseImage: string,
): TestManagerContext & { diagnostics: string[] } {
  const { deployment } = evaluateDeployment(definition, { file: join(dir, "nix2dream.config.ts") });
  const { artifacts, diagnostics } = compose({ baseImage }).render(deployment);
  const renderDir = join(dir, "render");
  writeArtifacts(renderDir, artifacts);
  const c = managerContext({ deployment, artifactsDir: renderDir, stateDir: join(dir, "state") });
  return { ...c, diagnostics: diagnostics.map((d) => `${d.option}: ${d.message}`) };
}
