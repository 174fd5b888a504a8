/**
 * Reference resolvers third-party renderers need, beside the ones every target writes for
 * itself: {@link containerRefResolver} (containers that reach each other by name on one
 * network) and {@link localRefResolver} (processes on this machine, with a state directory).
 */
import type { Diagnostic } from "./contracts.js";
import type { EvaluatedDeployment } from "./deployment.js";
import { STATE_DIR_VAR } from "./entrypoint/context.js";
import { diagnostic } from "./helpers.js";
import { describeRef, type Ref } from "./refs.js";
import { type RefResolver, type ResolvedRef, shellQuote } from "./shell.js";

/**
 * A {@link RefResolver} for services running as containers that reach each other by name on one
 * network: hosts are `hostOf(service)` (e.g. the service name in Compose), ports the container
 * ports, volumes and files their declared paths. A reference that does not point at anything is
 * passed to `report` (once per call site, by the caller's choice) and resolves to `""`.
 */
export function containerRefResolver(
  deployment: Pick<EvaluatedDeployment, "services">,
  hostOf: (service: string) => string,
  report?: (ref: Ref, why: string) => void,
): RefResolver {
  const missing = (r: Ref, why: string): ResolvedRef => {
    report?.(r, why);
    return "";
  };
  return (r) => {
    const target = deployment.services[r.service];
    if (!target) return missing(r, `service \`${r.service}\` is not in the deployment`);
    switch (r.kind) {
      case "host":
        return hostOf(r.service);
      case "port":
      case "address": {
        const p = target.ports[r.port];
        if (!p) return missing(r, `service \`${r.service}\` has no port \`${r.port}\``);
        return r.kind === "port" ? String(p.port) : `${hostOf(r.service)}:${p.port}`;
      }
      case "volume": {
        const v = target.volumes[r.volume];
        if (!v) return missing(r, `service \`${r.service}\` has no volume \`${r.volume}\``);
        return v.path;
      }
      case "file":
        if (!target.files[r.path]) {
          return missing(r, `service \`${r.service}\` has no file \`${r.path}\``);
        }
        return r.path;
    }
  };
}

/**
 * A resolver that reports each unresolvable reference once as an error diagnostic about
 * service `from`, for use with {@link containerRefResolver}'s `report`.
 */
export function refReporter(
  from: string,
  diagnostics: Diagnostic[],
  files?: Readonly<Record<string, string[]>>,
): (ref: Ref, why: string) => void {
  const seen = new Set<string>();
  return (r, why) => {
    const key = describeRef(r);
    if (seen.has(key)) return;
    seen.add(key);
    diagnostics.push(
      diagnostic(
        { definitionFiles: files ?? {} },
        {
          severity: "error",
          option: `services.${from}`,
          service: from,
          message: `\`${key}\` cannot be resolved: ${why}.`,
        },
      ),
    );
  };
}

/** The host local processes reach each other at: they all run on this machine. */
export const LOCAL_HOST = "127.0.0.1";

/**
 * Shell source of the state directory as a local launcher sees it: `"${NIX2DREAM_STATE_DIR}"`
 * (core's `entrypointScript` exports that variable when it is given a `stateDir`).
 */
export const LOCAL_STATE_DIR = `"\${${STATE_DIR_VAR}}"`;

/**
 * Where a service's file declared at `path` lives under its `files/` directory in the state
 * directory: the path relative, without `.` segments; undefined when it has `..` segments or
 * names nothing (it cannot be placed there).
 */
export function localStatePath(path: string): string | undefined {
  const segments = path.split("/").filter((x) => x !== "" && x !== ".");
  if (segments.length === 0 || segments.includes("..")) return undefined;
  return segments.join("/");
}

/** Options of {@link localRefResolver}. */
export interface LocalRefResolverOptions {
  /** Shell source of the state directory (one quoted word). Default {@link LOCAL_STATE_DIR}. */
  stateDir?: string;
  /** Whether `service` runs here (e.g. it is rendered). Default: every service of the deployment. */
  runsHere?: (service: string) => boolean;
  /** Told about each reference that points at nothing (which resolves to `""`). */
  report?: (ref: Ref, why: string) => void;
}

/**
 * A {@link RefResolver} for services running as local processes on one machine: hosts are the
 * loopback address, ports the ports the services listen on, volumes
 * `<stateDir>/<svc>/volumes/<name>` and files `<stateDir>/<svc>/files/<path>` (see
 * {@link localStatePath}) as shell expansions. A reference that does not point at anything is
 * passed to `report` and resolves to `""`.
 */
export function localRefResolver(
  deployment: Pick<EvaluatedDeployment, "services">,
  options: LocalRefResolverOptions = {},
): RefResolver {
  const stateDir = options.stateDir ?? LOCAL_STATE_DIR;
  const missing = (r: Ref, why: string): ResolvedRef => {
    options.report?.(r, why);
    return "";
  };
  return (r) => {
    const target = deployment.services[r.service];
    if (!target || (options.runsHere && !options.runsHere(r.service))) {
      return missing(r, `service \`${r.service}\` is not in the rendered deployment`);
    }
    switch (r.kind) {
      case "host":
        return LOCAL_HOST;
      case "port":
      case "address": {
        const p = target.ports[r.port];
        if (!p) return missing(r, `service \`${r.service}\` has no port \`${r.port}\``);
        return r.kind === "port" ? String(p.port) : `${LOCAL_HOST}:${p.port}`;
      }
      case "volume": {
        if (!target.volumes[r.volume]) {
          return missing(r, `service \`${r.service}\` has no volume \`${r.volume}\``);
        }
        return { shell: `${stateDir}/${shellQuote(`${r.service}/volumes/${r.volume}`)}` };
      }
      case "file": {
        const place = target.files[r.path] ? localStatePath(r.path) : undefined;
        if (place === undefined) {
          return missing(r, `service \`${r.service}\` has no file \`${r.path}\``);
        }
        return { shell: `${stateDir}/${shellQuote(`${r.service}/files/${place}`)}` };
      }
    }
  };
}
