/**
 * `@nix2dream/manage-local`: the built-in supervisor that runs the procfile render on this machine.
 *
 * The root export is what a config needs (`local()`), and stays light: the supervisor itself
 * and the control-socket client are under `@nix2dream/manage-local/supervisor`.
 */

export type {
  ControlLogLine,
  ControlRequest,
  ControlResponse,
} from "./control.js";
export { LocalManagerError } from "./errors.js";
export { default, type LocalManagerOptions, local } from "./manager.js";
export { psTable } from "./ps-table.js";
export type {
  PlanChange,
  ProcessHealth,
  ProcessState,
  ProcessStatus,
  SupervisorEvents,
  SupervisorOptions,
  SupervisorResult,
} from "./supervisor.js";
