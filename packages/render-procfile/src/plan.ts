/**
 * The process plan: a machine-readable companion of the Procfile (`processes.json`), with what a
 * Procfile cannot say (dependencies, healthchecks, restart and stop settings). manage-local runs it;
 * foreman ignores it. Paths are relative to the render directory; everything is resolved for
 * this machine (hosts are 127.0.0.1, ports are numbers).
 */
import type { DependencyCondition, RestartSettings, StopSettings } from "@nix2dream/core";

export const PLAN_FILE = "processes.json";
export const PLAN_VERSION = 1;

/** A probe resolved for this machine. Timing in seconds. */
export type PlannedProbe = (
  | { type: "exec"; command: string[] }
  | { type: "http"; host: string; port: number; path: string; scheme: "http" | "https" }
  | { type: "tcp"; host: string; port: number }
) & { interval: number; timeout: number; retries: number; startPeriod: number };

export interface PlannedProcess {
  /** Procfile process name; replicas beyond the first are `<service>.<n>` as foreman names them. */
  name: string;
  service: string;
  /** 1-based replica index. */
  replica: number;
  /** argv run from the render directory, e.g. `["sh", "launchers/api.sh"]`. */
  command: string[];
  /**
   * argv prefix that runs a command inside the service's environment (env, secrets, working dir):
   * `[...execPrefix, "curl", "-f", "..."]`. Used for exec probes.
   */
  execPrefix: string[];
  /** Extra environment for this process (e.g. `PORT`); secrets are never here. */
  env: Record<string, string>;
  /** Keyed by service name: every replica of that service must meet the condition. */
  dependsOn: Record<string, DependencyCondition>;
  probe: PlannedProbe | null;
  restart: RestartSettings;
  stop: StopSettings;
  /** Port name → port number this replica listens on. */
  ports: Record<string, number>;
  /**
   * The service's `user` (a name or uid), absent when unset: manage-local runs the process as
   * this user when it runs as root. foreman ignores it.
   */
  user?: string;
  /** The service's `group` (a name or gid), absent when unset; applied together with `user`. */
  group?: string;
  /** Files whose change restarts the process under `up --watch`; absent or null: none. */
  watch?: PlannedWatch | null;
}

/** A service's `watch` resolved for this machine: absolute paths, debounce in seconds. */
export interface PlannedWatch {
  paths: string[];
  /** Globs relative to each watched directory (`node_modules`, `**\/*.log`). */
  ignore: string[];
  debounce: number;
}

export interface ProcessPlan {
  version: typeof PLAN_VERSION;
  deployment: string;
  /** Sorted by name. */
  processes: PlannedProcess[];
}
