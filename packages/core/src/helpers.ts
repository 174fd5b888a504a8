/** Small helpers every renderer needs, written once for all targets. */
import { ModuleError } from "@nix2dream/modules";
import type { Artifact, Diagnostic, HostFileArtifact } from "./contracts.js";
import { definitionFilesByKey } from "./definition-files.js";
import type { EvaluatedDeployment, EvaluatedService, ServicePort } from "./deployment.js";

/** The names in an option path; a JSON-quoted name (`files."/etc/app.conf"`) is one name. */
function optionPathParts(option: string): string[] {
  return (option.match(/"(?:[^"\\]|\\.)*"|[^.]+/g) ?? []).map((part) => {
    if (!part.startsWith('"')) return part;
    try {
      return JSON.parse(part) as string;
    } catch {
      return part;
    }
  });
}

/**
 * The files that defined `option`, or the nearest enclosing option that has any
 * (`services.api.env.X` falls back to `services.api.env`, then `services.api`). A name with
 * dots may be JSON-quoted (`services.api.files."/etc/app.conf".source`).
 */
export function definitionFilesOf(
  deployment: Pick<EvaluatedDeployment, "definitionFiles">,
  option: string,
): string[] {
  if (!option.includes('"') && !/^\.|\.\.|\.$/.test(option)) {
    // A plain dotted path (the usual case, one lookup per diagnostic of every renderer): each
    // enclosing option is a prefix of the string, so no split and join per level.
    for (let end = option.length; end > 0; end = option.lastIndexOf(".", end - 1)) {
      const files = definitionFilesByKey(deployment, option.slice(0, end));
      if (files && files.length > 0) return [...files];
    }
    return [];
  }
  const parts = optionPathParts(option);
  for (let n = parts.length; n > 0; n--) {
    const files = definitionFilesByKey(deployment, parts.slice(0, n).join("."));
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
 * A {@link HostFileArtifact}: the writer copies the host file `source` (absolute) to `path` of the
 * render, and names `option` and the files that defined it when `source` cannot be read.
 */
export function hostFileArtifact(
  deployment: Pick<EvaluatedDeployment, "definitionFiles">,
  a: { path: string; source: string; option: string; mode?: number },
): HostFileArtifact {
  const files = definitionFilesOf(deployment, a.option);
  const out: HostFileArtifact = {
    path: a.path,
    source: a.source,
    origin: files.length > 0 ? { option: a.option, files } : { option: a.option },
  };
  if (a.mode !== undefined) out.mode = a.mode;
  return out;
}

/** True when `a` names a host file to copy rather than holding its content. */
export function isHostFileArtifact(a: Artifact): a is HostFileArtifact {
  return typeof a.source === "string";
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
