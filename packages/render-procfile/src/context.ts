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
  LOCAL_HOST,
  LOCAL_STATE_DIR,
  localRefResolver,
  localStatePath,
  type RefResolver,
  refsIn,
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
export const HOST = LOCAL_HOST;
/** The state dir as the launcher sees it (a shell word). */
export const STATE = LOCAL_STATE_DIR;
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
export const relocated = localStatePath;

/** The key of a service's file in {@link ProcfileContext.referenced}. */
export const fileKey = (service: string, path: string) => `${service}\u0000${path}`;

/** Every `ref.<svc>.files[path]` used anywhere in the deployment's strings, as `fileKey`s. */
function referencedFiles(d: EvaluatedDeployment): Set<string> {
  const found = new Set<string>();
  for (const r of refsIn(d.services)) if (r.kind === "file") found.add(fileKey(r.service, r.path));
  return found;
}

/**
 * Resolves references for the launcher of `from` with core's `localRefResolver`: hosts are
 * local, volumes and files live under the state directory; a reference that cannot be resolved
 * is an error, once.
 */
export function resolverFor(ctx: ProcfileContext, from: string): RefResolver {
  const seen = new Set<string>();
  return localRefResolver(ctx.deployment, {
    stateDir: STATE,
    runsHere: (service) => {
      const target = ctx.deployment.services[service];
      return target !== undefined && ctx.rendered.has(target);
    },
    report: (r, why) => {
      const key = describeRef(r);
      if (seen.has(key)) return;
      seen.add(key);
      ctx.report("error", from, "", `\`${key}\` cannot be resolved: ${why}.`);
    },
  });
}
