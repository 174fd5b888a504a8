export { type Module, ModuleError, type ModuleErrorCode } from "@nix2dream/modules";
export { BUSYBOX_PROGRAMS, programNotInImage } from "./base-image.js";
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
export type * from "./deployment.js";
export { type Duration, parseDuration } from "./duration.js";
export * from "./entrypoint.js";
export { UserError, type UserErrorOptions } from "./errors.js";
export { type EvaluateOptions, type Evaluation, evaluateDeployment } from "./evaluate.js";
export { dependencyOrder, findDependencyCycle } from "./graph.js";
export { definitionFilesOf, diagnostic, publishedHostPort, resolvePort } from "./helpers.js";
export * from "./nix.js";
export * from "./oci.js";
export { deploymentModule } from "./options/deployment.js";
export { deploymentOptionsModule, serviceOptionsModule } from "./options/extensions.js";
export { SERVICE_DEFAULTS, serviceModule } from "./options/service.js";
export { coercedTo } from "./options/types.js";
export * from "./refs.js";
export { checkedRenderResult, unresolvedRefDiagnostics } from "./render-check.js";
export * from "./shell.js";
export * from "./systemd.js";
export * from "./text.js";
