/**
 * What the aspect functions of render-systemd read: the deployment, the renderer's options,
 * the target's name, a reference resolver for units on one host, and one list of diagnostics
 * made with core's `diagnostic()` (so each names the file that defined its option).
 */
import { type Diagnostic, diagnostic, type EvaluatedDeployment, type Ref } from "@nix2dream/core";
import type { SystemdRefResolver } from "@nix2dream/core/systemd";
import type { SystemdRendererDeploymentOptions } from "./options.js";

/** Options of the {@link systemd} renderer function. */
export interface SystemdRenderOptions {
  /** Shell for generated ExecStartPre/ExecStartPost scripts and the secrets wrapper. Default `/bin/sh`. */
  shell?: string;
  /** Write `RestartSteps=`/`RestartMaxDelaySec=` for exponential backoff (needs systemd ≥ 254). Default false. */
  restartSteps?: boolean;
}

/** Name of the unit file of service `svc` in deployment `deployment`. */
export function serviceUnitName(deployment: string, svc: string): string {
  return `${deployment}-${svc}.service`;
}

/** Name of the target grouping the deployment's services. */
export function targetUnitName(deployment: string): string {
  return `${deployment}.target`;
}

const DEFAULT_DEPLOYMENT_OPTIONS: SystemdRendererDeploymentOptions = {
  override: {},
  targetOverride: {},
  wantedBy: ["default.target"],
};

/** The render-wide context of the systemd target. */
export interface SystemdContext {
  deployment: EvaluatedDeployment;
  opts: SystemdRenderOptions;
  /** `renderers.systemd` with defaults. */
  options: SystemdRendererDeploymentOptions;
  /** The deployment's target unit. */
  target: string;
  diagnostics: Diagnostic[];
  /** Reports on a full option path. */
  warn: (option: string, message: string, severity?: Diagnostic["severity"]) => void;
  /** Resolves references for units of this deployment on one host. */
  resolve: SystemdRefResolver;
}

/** The context of a render of `d`. */
export function systemdContextFor(
  d: EvaluatedDeployment,
  opts: SystemdRenderOptions,
): SystemdContext {
  const diagnostics: Diagnostic[] = [];
  return {
    deployment: d,
    opts,
    options: {
      ...DEFAULT_DEPLOYMENT_OPTIONS,
      ...(d.renderers as { systemd?: SystemdRendererDeploymentOptions }).systemd,
    },
    target: targetUnitName(d.name),
    diagnostics,
    warn: (option, message, severity = "warning") =>
      diagnostics.push(diagnostic(d, { option, message, severity })),
    resolve: hostRefResolver(d),
  };
}

/**
 * All services run on this host: hosts are 127.0.0.1, volumes are their state (`%S`) or
 * runtime (`%t`) directories, files are under the service's runtime directory.
 */
function hostRefResolver(d: EvaluatedDeployment): SystemdRefResolver {
  /** `%S/<dep>/<svc>/<vol>` for persistent volumes, `%t/…` (runtime) otherwise. */
  const volumeDir = (svc: string, vol: string): string => {
    const v = d.services[svc]?.volumes[vol];
    return `${v?.persistent === false ? "%t" : "%S"}/${d.name}/${svc}/${vol}`;
  };
  const fileDir = (svc: string) => `%t/${d.name}/${svc}/files`;
  return (r: Ref) => {
    const s = d.services[r.service];
    switch (r.kind) {
      case "host":
        return "127.0.0.1";
      case "port":
        return String(s?.ports[r.port]?.port ?? "");
      case "address":
        return `127.0.0.1:${s?.ports[r.port]?.port ?? ""}`;
      case "volume":
        return { unit: volumeDir(r.service, r.volume) };
      case "file":
        return { unit: `${fileDir(r.service)}${r.path.startsWith("/") ? "" : "/"}${r.path}` };
    }
  };
}
