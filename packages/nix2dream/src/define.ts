import type { DeploymentDefinition } from "@nix2dream/core";

/**
 * Declares a deployment for `nix2dream.config.ts`. Returns the definition unchanged; its value is
 * the typing: every core service option, plus the per-service options that installed renderer
 * packages add through declaration merging (`services.<svc>.renderers.<name>`), is checked and
 * completed by the editor.
 *
 * @example
 * export default defineDeployment({
 *   name: "shop",
 *   use: [procfile(), local()],
 *   services: { api: { command: ["node", "api.mjs"], ports: { http: { port: 8080 } } } },
 * });
 */
export function defineDeployment(definition: DeploymentDefinition): DeploymentDefinition {
  return definition;
}
