/**
 * `@nix2dream/manage-local/supervisor`: the supervisor as a library — run a plan in this
 * process, or talk to a running `up` through its control socket. Kept off the root export, which
 * every config that lists `local()` loads.
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
export { readPlan } from "./plan.js";
export { psTable } from "./ps-table.js";
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
