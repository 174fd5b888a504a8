/** Small helpers every renderer needs, written once for all targets. */
import { ModuleError } from "@nix2dream/modules";
import type { Diagnostic } from "./contracts.js";
import type { EvaluatedDeployment, EvaluatedService, ServicePort } from "./deployment.js";

/**
 * The files that defined `option`, or the nearest enclosing option that has any
 * (`services.api.env.X` falls back to `services.api.env`, then `services.api`).
 */
export function definitionFilesOf(
  deployment: Pick<EvaluatedDeployment, "definitionFiles">,
  option: string,
): string[] {
  const parts = option.split(".");
  for (let n = parts.length; n > 0; n--) {
    const files = deployment.definitionFiles[parts.slice(0, n).join(".")];
    if (files && files.length > 0) return [...files];
  }
  return [];
}

/**
 * Builds a diagnostic about `option`, filling `files` from the deployment's
 * `definitionFiles` and `service` from the option path (`services.<name>.…`).
 * Severity defaults to `warning`.
 */
export function diagnostic(
  deployment: Pick<EvaluatedDeployment, "definitionFiles">,
  d: { option: string; message: string; severity?: Diagnostic["severity"]; service?: string },
): Diagnostic {
  const service = d.service ?? /^services\.([^.]+)/.exec(d.option)?.[1];
  const out: Diagnostic = {
    severity: d.severity ?? "warning",
    option: d.option,
    message: d.message,
  };
  if (service !== undefined) out.service = service;
  const files = definitionFilesOf(deployment, d.option);
  if (files.length > 0) out.files = files;
  return out;
}

/**
 * The port named `name` of `service`.
 * @throws ModuleError `UNKNOWN_PORT` when the service has no such port (never for names
 * taken from an evaluated deployment's references or healthchecks, which are checked).
 */
export function resolvePort(service: EvaluatedService, name: string): ServicePort {
  const port = service.ports[name];
  if (!port) {
    const known = Object.keys(service.ports).sort().join(", ") || "none";
    throw new ModuleError(
      "UNKNOWN_PORT",
      `Service ${service.name} has no port ${name} (ports: ${known}).`,
      { optionPath: `services.${service.name}.ports` },
    );
  }
  return port;
}

/**
 * The host port a port is published on: `hostPort` when set, `port` when only `expose` is set,
 * otherwise null (not published).
 */
export function publishedHostPort(port: ServicePort): number | null {
  if (port.hostPort !== null) return port.hostPort;
  return port.expose ? port.port : null;
}
