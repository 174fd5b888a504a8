/**
 * `@nix2dream/manage-compose`: runs the compose render of a deployment with `docker compose`
 * (v2) or `docker-compose` (v1): up (build, start, wait until healthy), down, ps, logs, restart.
 */
export {
  type ComposeManagerOptions,
  type ComposeManagerSettings,
  type ContainerStatus,
  compose,
  composeManager,
  default,
  PROJECT_LABEL,
  projectContainers,
  projectNameOf,
  psTable,
  readiness,
} from "./manager.js";
export {
  ComposeManagerError,
  type ComposeTool,
  checkEngine,
  findCompose,
} from "./tool.js";
