/**
 * `local()`: the manager object a config lists in `use`. It is all a `render` or `check` of
 * such a config loads from this package: the actions, and the supervisor behind them (most of
 * the package), are imported when an action runs.
 */
import type { Manager } from "@nix2dream/core";

/** Options of {@link local}. */
export interface LocalManagerOptions {
  /** Prefix log lines with the time by default (the `--timestamps` flag also turns it on). */
  timestamps?: boolean;
  /** Lines of each log shown by `logs` before following; `null` for all. Default 100. */
  tail?: number | null;
}

const actions = () => import("./actions.js");

/**
 * The built-in manager: runs the procfile render on this machine with the built-in supervisor
 * (`Supervisor` of `@nix2dream/manage-local/supervisor`).
 * `up` runs in the foreground until interrupted (or `--detach`); `ps`, `logs`, `restart`,
 * `stop` and `down` talk to a running `up` through its control socket.
 */
export default function local(opts: LocalManagerOptions = {}): Manager<"local"> {
  return {
    name: "local",
    renderer: "procfile",
    flags: {
      "wait-timeout": {
        type: "string",
        description: "how long `up --wait` waits for every process to be ready (default 60s)",
      },
    },
    descriptions: {
      up: "Run every process in the foreground with the built-in supervisor (Ctrl-C stops; -d runs it in the background; --wait also waits until every process is healthy or completed; -t adds timestamps).",
      down: "Stop every process of a running `up`, in reverse dependency order.",
      ps: "Show each process: state, health, pid, restarts, uptime, ports (--json for data).",
      logs: "Show the logs of every process or of the named ones (--follow/-f to keep streaming, --tail N).",
      restart: "Restart a service (all its replicas) or one process.",
      stop: "Stop a service (all its replicas) or one process, leaving the others running.",
      status: "Same as ps.",
    },
    actions: {
      up: async (ctx) => (await actions()).up(ctx, opts),
      down: async (ctx) => (await actions()).down(ctx),
      ps: async (ctx) => (await actions()).ps(ctx),
      logs: async (ctx) => (await actions()).logs(ctx, opts),
      restart: async (ctx) => (await actions()).control(ctx, "restart"),
      stop: async (ctx) => (await actions()).control(ctx, "stop"),
      status: async (ctx) => (await actions()).ps(ctx),
    },
  };
}

export { local };
