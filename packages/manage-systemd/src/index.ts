/**
 * `@nix2dream/manage-systemd`: runs the systemd render with `systemctl` and `journalctl`.
 */
export {
  default,
  parseShow,
  passedVariablesOf,
  psTable,
  SystemdManagerError,
  type SystemdManagerModuleOptions,
  type SystemdManagerOptions,
  type SystemdManagerSettings,
  type SystemdScope,
  systemd,
  systemdManager,
  systemdManagerModule,
  type UnitState,
} from "./manager.js";
