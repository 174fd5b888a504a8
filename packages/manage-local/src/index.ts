/**
 * `@nix2dream/manage-local`: the built-in supervisor that runs the procfile render on this machine.
 */

export {
  AlreadyRunningError,
  type ControlLogLine,
  type ControlRequest,
  type ControlResponse,
  controlRequest,
  decodeLogLine,
  NotRunningError,
  socketPathFor,
} from "./control.js";
export { LocalManagerError } from "./errors.js";
export { default, type LocalManagerOptions, local, psTable } from "./manager.js";
export { readPlan } from "./plan.js";
export {
  InvalidPlanError,
  type PlanChange,
  type ProcessHealth,
  type ProcessState,
  type ProcessStatus,
  Supervisor,
  type SupervisorEvents,
  type SupervisorOptions,
  type SupervisorResult,
  UnknownProcessError,
} from "./supervisor.js";
