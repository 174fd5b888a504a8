/**
 * What the aspect functions of render-procfile read: the deployment, the renderer's options,
 * the services that are rendered, and one list of diagnostics made with core's `diagnostic()`
 * (so each names the file that defined its option).
 */
import {
  type Diagnostic,
  describeRef,
  diagnostic,
  type EvaluatedDeployment,
  type EvaluatedService,
  parseRefs,
  type Ref,
  type RefResolver,
  type ResolvedRef,
  STATE_DIR_VAR,
  shellQuote,
} from "@nix2dream/core";

/** Options of {@link procfile}. */
export interface ProcfileOptions {
  /**
   * Also report what a plain Procfile runner such as foreman ignores: `dependsOn`,
   * `healthcheck`, `restart`, `stop`. Off by default, because manage-local reads them from
   * `processes.json`.
   */
  foreman?: boolean;
}

/** The host every reference to another service resolves to: all run on this machine. */
export const HOST = "127.0.0.1";
/** The state dir as the launcher sees it (a shell word). */
export const STATE = `"\${${STATE_DIR_VAR}}"`;
/** Foreman's process-name grammar (`Foreman::Procfile#parse`). */
const PROCESS_NAME = /^[A-Za-z0-9_-]+$/;

/** The render-wide context of the Procfile target. */
export interface ProcfileContext {
  deployment: EvaluatedDeployment;
  opts: ProcfileOptions;
  /** The services rendered, sorted by name. */
  services: EvaluatedService[];
  /** The same, for lookups by reference and dependency (a set, not a scan of every service). */
  rendered: ReadonlySet<EvaluatedService>;
  /** Every `ref.<svc>.files[path]` used anywhere, as {@link fileKey}s. */
  referenced: ReadonlySet<string>;
  /** Services another service waits for with `completed`: jobs, meant to exit. */
  awaitedJobs: ReadonlySet<string>;
  diagnostics: Diagnostic[];
  /** Reports on `services.<service>.<option>` (the service itself when `option` is empty). */
  report: (
    severity: Diagnostic["severity"],
    service: string,
    option: string,
    message: string,
  ) => void;
  warn: (service: string, option: string, message: string) => void;
}

/** The context of a render of `d`; reports service names a Procfile cannot carry. */
export function procfileContextFor(d: EvaluatedDeployment, opts: ProcfileOptions): ProcfileContext {
  const diagnostics: Diagnostic[] = [];
  const report: ProcfileContext["report"] = (severity, service, option, message) =>
    diagnostics.push(
      diagnostic(d, {
        severity,
        service,
        option: `services.${service}${option ? `.${option}` : ""}`,
        message,
      }),
    );
  const services = renderedServices(d, report);
  return {
    deployment: d,
    opts,
    services,
    rendered: new Set(services),
    referenced: referencedFiles(d),
    awaitedJobs: new Set(
      services.flatMap((x) =>
        Object.entries(x.dependsOn)
          .filter(([, condition]) => condition === "completed")
          .map(([dep]) => dep),
      ),
    ),
    diagnostics,
    report,
    warn: (service, option, message) => report("warning", service, option, message),
  };
}

/** The enabled services whose names are Procfile process names, sorted by name. */
function renderedServices(
  d: EvaluatedDeployment,
  report: ProcfileContext["report"],
): EvaluatedService[] {
  const names = Object.keys(d.services)
    .filter((n) => d.services[n]?.enable !== false)
    .sort();
  const services: EvaluatedService[] = [];
  for (const name of names) {
    if (!PROCESS_NAME.test(name)) {
      report(
        "error",
        name,
        "",
        `The service name ${JSON.stringify(name)} cannot be a Procfile process name (letters, digits, _ and - only); it is not rendered.`,
      );
      continue;
    }
    services.push(d.services[name] as EvaluatedService);
  }
  return services;
}

/** Under the state dir: a relative path with no `.`/`..` segments, or undefined. */
export function relocated(path: string): string | undefined {
  const segments = path.split("/").filter((x) => x !== "" && x !== ".");
  if (segments.length === 0 || segments.includes("..")) return undefined;
  return segments.join("/");
}

/** The key of a service's file in {@link ProcfileContext.referenced}. */
export const fileKey = (service: string, path: string) => `${service}\u0000${path}`;

/** Every `ref.<svc>.files[path]` used anywhere in the deployment's strings, as `fileKey`s. */
function referencedFiles(d: EvaluatedDeployment): Set<string> {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      for (const p of parseRefs(v)) {
        if (typeof p !== "string" && p.kind === "file") found.add(fileKey(p.service, p.path));
      }
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(d.services);
  return found;
}

/**
 * Resolves references for the launcher of `from`: hosts are local, volumes and files live
 * under the state directory; a reference that cannot be resolved is an error, once.
 */
export function resolverFor(ctx: ProcfileContext, from: string): RefResolver {
  const seen = new Set<string>();
  const missing = (r: Ref, why: string): ResolvedRef => {
    const key = describeRef(r);
    if (!seen.has(key)) {
      seen.add(key);
      ctx.report("error", from, "", `\`${key}\` cannot be resolved: ${why}.`);
    }
    return "";
  };
  return (r) => {
    const target = ctx.deployment.services[r.service];
    if (!target || !ctx.rendered.has(target)) {
      return missing(r, `service \`${r.service}\` is not in the rendered deployment`);
    }
    switch (r.kind) {
      case "host":
        return HOST;
      case "port":
      case "address": {
        const p = target.ports[r.port];
        if (!p) return missing(r, `service \`${r.service}\` has no port \`${r.port}\``);
        return r.kind === "port" ? String(p.port) : `${HOST}:${p.port}`;
      }
      case "volume": {
        if (!target.volumes[r.volume]) {
          return missing(r, `service \`${r.service}\` has no volume \`${r.volume}\``);
        }
        return { shell: `${STATE}/${shellQuote(`${r.service}/volumes/${r.volume}`)}` };
      }
      case "file": {
        const place = target.files[r.path] ? relocated(r.path) : undefined;
        if (place === undefined) {
          return missing(r, `service \`${r.service}\` has no file \`${r.path}\``);
        }
        return { shell: `${STATE}/${shellQuote(`${r.service}/files/${place}`)}` };
      }
    }
  };
}
