/**
 * `@nix2dream/core`: the contract (renderers, managers, artifacts, diagnostics, the evaluated
 * deployment), evaluation, references and their resolvers, and the helpers every plugin needs.
 * Our own target code is behind subpaths: `@nix2dream/core/systemd`, `/oci`, `/nix`, `/shell`,
 * `/entrypoint` (and `/errors`, `UserError` alone for callers that must start fast).
 */
export { type Module, ModuleError, type ModuleErrorCode } from "@nix2dream/modules";
export { type CommandResult, type RunOptions, runCommand } from "./command.js";
export type * from "./contracts.js";
export { DEFAULT_BASE_IMAGE } from "./default-image.js";
export {
  type DeepDefinition,
  type Def,
  type DeploymentDefinition,
  type DeploymentExtensionsDefinition,
  defineManager,
  defineRenderer,
  type FileDefinition,
  type HealthcheckDefinition,
  isManager,
  isRenderer,
  type PackageDefinition,
  type Plugin,
  type PortDefinition,
  type ResourcesDefinition,
  type RestartDefinition,
  type SecretDefinition,
  type ServiceDefinition,
  type ServiceExtensionsDefinition,
  type ServiceModule,
  type ServiceRenderersDefinition,
  type StopDefinition,
  type VolumeDefinition,
} from "./define.js";
export { definitionFilesAt, definitionFilesView } from "./definition-files.js";
export type * from "./deployment.js";
export { type Duration, parseDuration } from "./duration.js";
export { UserError, type UserErrorOptions } from "./errors.js";
export { type EvaluateOptions, type Evaluation, evaluateDeployment } from "./evaluate.js";
export { dependencyOrder, findDependencyCycle } from "./graph.js";
export {
  definitionFilesOf,
  diagnostic,
  hostFileArtifact,
  isHostFileArtifact,
  publishedHostPort,
  resolvePort,
} from "./helpers.js";
export { deepMerge } from "./merge.js";
export type { DeclaredOptions, OptionTypesAgree } from "./option-agreement.js";
export { deploymentModule } from "./options/deployment.js";
export { deploymentOptionsModule, serviceOptionsModule } from "./options/extensions.js";
export { SERVICE_DEFAULTS, serviceModule } from "./options/service.js";
export { coercedTo } from "./options/types.js";
export * from "./refs.js";
export { checkedRenderResult, unresolvedRefDiagnostics } from "./render-check.js";
export {
  containerRefResolver,
  LOCAL_HOST,
  LOCAL_STATE_DIR,
  type LocalRefResolverOptions,
  localRefResolver,
  localStatePath,
  refReporter,
} from "./resolvers.js";
export type { RefResolver, ResolvedRef, ShellExpansion } from "./shell.js";
export * from "./text.js";
