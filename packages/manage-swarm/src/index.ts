/**
 * `@nix2dream/manage-swarm`: runs the compose render of a deployment as a Docker Swarm stack:
 * up (build, stack deploy, wait until converged), down, ps, status, logs, restart (rolling).
 */
export {
  type Convergence,
  checkSwarm,
  convergenceOf,
  type ServiceState,
  STACK_LABEL,
  type SwarmInfo,
  serviceTasks,
  stackServices,
  type TaskState,
} from "./engine.js";
export { SwarmManagerError } from "./errors.js";
export {
  default,
  type Judged,
  psTable,
  STACK_FILE,
  type SwarmManagerOptions,
  stackNameOf,
  statusTable,
  swarm,
  swarmManager,
} from "./manager.js";
export {
  DEFAULT_ROLLBACK,
  DEFAULT_UPDATE,
  type EndpointMode,
  type Placement,
  type SwarmManagerSettings,
  type SwarmModuleDefaults,
  type SwarmServiceSettings,
  swarmManagerModule,
  type UpdatePolicy,
} from "./options.js";
export { type ImageBuild, type StackFile, type StackInput, stackFileOf } from "./stack.js";
