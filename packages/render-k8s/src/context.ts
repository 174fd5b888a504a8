/**
 * What the aspect functions of render-k8s read: the deployment-wide settings
 * ({@link RenderContext}) and, per service, its names, labels, workload kind and a reference
 * resolver ({@link ServiceContext}). Diagnostics are made with core's `diagnostic()`, so each
 * one names the file that defined its option.
 */
import {
  type Diagnostic,
  definitionFilesAt,
  describeRef,
  diagnostic,
  type EvaluatedDeployment,
  type EvaluatedService,
  type Ref,
  resolveRefs,
} from "@nix2dream/core";
import { emptyRecord } from "@nix2dream/core/record";
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import {
  DEFAULT_WAIT_IMAGE,
  dnsLabel,
  labelsFor,
  selectorFor,
  serviceDnsName,
} from "./builders.js";
import type { ExposeAs, K8sDeploymentOptions, K8sServiceOptions, WorkloadKind } from "./options.js";

/** Factory options of the renderer: defaults for what `renderers.k8s.*` leaves null. */
export interface K8sOptions {
  /** Namespace of every object; default: the deployment's name. */
  namespace?: string;
  /** Render the Namespace object; default true. */
  createNamespace?: boolean;
  /** Service type for exposed ports; default `NodePort`. */
  exposeAs?: ExposeAs;
  /** Wait for `dependsOn` with init containers; default true. */
  waitForDependencies?: boolean;
  /** Image of the wait init containers; default `busybox:1.36`. */
  waitImage?: string;
  /** argv of the wait init containers (sees `WAIT_HOST`, `WAIT_PORT`, `WAIT_URL`). */
  waitCommand?: string[];
  /** Secret that secret variables come from by default; default `<deployment>-secrets`. */
  defaultSecretName?: string;
}

/** Appends a diagnostic about `option` (a full option path) to a render's list. */
export type Report = (
  severity: Diagnostic["severity"],
  option: string,
  message: string,
  service?: string,
) => void;

/** Deployment-wide settings every service's objects need. */
export interface RenderContext {
  deployment: EvaluatedDeployment;
  options: K8sDeploymentOptions;
  namespace: string;
  createNamespace: boolean;
  defaultExpose: ExposeAs;
  defaultWait: boolean;
  waitImage: string;
  waitCommand: string[] | null;
  defaultSecret: string;
  /** `app.kubernetes.io/part-of` of every object. */
  partOf: string;
  /** Services another service waits for with `completed`. */
  awaited: ReadonlySet<string>;
  /** True when the user defined `services.<service>.restart` (or an option under it). */
  restartDefined: (service: string) => boolean;
  /** Rendered services and their object names (DNS labels). */
  names: ReadonlyMap<string, string>;
  /** The in-cluster DNS name of a service. */
  fqdn: (service: string) => string;
}

/** One service's view: its names, labels, workload kind, diagnostics and reference resolver. */
export interface ServiceContext extends RenderContext {
  service: EvaluatedService;
  /** The service's key in `services`. */
  name: string;
  /** Its objects' name (a DNS label). */
  objName: string;
  k8s: K8sServiceOptions;
  kind: WorkloadKind;
  labels: Record<string, string>;
  selector: Record<string, string>;
  annotations: Record<string, string>;
  diagnostics: Diagnostic[];
  warn: (option: string, message: string) => void;
  error: (option: string, message: string) => void;
  /** `value` of `option` with its references resolved for a pod of this service. */
  res: (value: string, option: string) => string;
  /** Metadata of an object of this service named `name`. */
  meta: (name: string) => ObjectMeta;
}

const DEPLOYMENT_OPTION_DEFAULTS: K8sDeploymentOptions = {
  namespace: null,
  createNamespace: null,
  exposeAs: null,
  waitForDependencies: null,
  waitImage: null,
  waitCommand: null,
  defaultSecretName: null,
  override: {},
  manifests: [],
};

const SERVICE_OPTION_DEFAULTS: K8sServiceOptions = {
  workload: null,
  image: null,
  exposeAs: null,
  liveness: false,
  waitForDependencies: null,
  signalViaPreStop: true,
  secrets: {},
  override: {},
};

/** A {@link Report} that appends to `diagnostics` through core's `diagnostic()`. */
export function reporterFor(deployment: EvaluatedDeployment, diagnostics: Diagnostic[]): Report {
  return (severity, option, message, service) =>
    diagnostics.push(
      diagnostic(deployment, { severity, option, message, ...(service ? { service } : {}) }),
    );
}

/** Names of the services another service waits for with `completed`. */
export function awaitedServices(deployment: Pick<EvaluatedDeployment, "services">): Set<string> {
  const out = new Set<string>();
  for (const s of Object.values(deployment.services)) {
    for (const [dep, condition] of Object.entries(s.dependsOn)) {
      if (condition === "completed") out.add(dep);
    }
  }
  return out;
}

/**
 * Whether `services.<service>.restart` has a definition (a definition of an option under it is
 * one of `restart`), asked by path array: a service named `api.restart` is not `api`'s restart.
 */
function restartDefinedIn(deployment: EvaluatedDeployment): (service: string) => boolean {
  return (service) => definitionFilesAt(deployment, ["services", service, "restart"]).length > 0;
}

/**
 * Object names per service, as DNS labels; two services that would share one are an error and
 * the second is not rendered.
 */
function objectNames(deployment: EvaluatedDeployment, report: Report): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Map<string, string>();
  for (const name of Object.keys(deployment.services)) {
    const label = dnsLabel(name);
    const other = taken.get(label);
    if (other !== undefined) {
      report(
        "error",
        `services.${name}`,
        `The service names \`${other}\` and \`${name}\` both become the Kubernetes name \`${label}\`; rename one. \`${name}\` is not rendered.`,
      );
      continue;
    }
    if (label !== name) {
      report(
        "warning",
        `services.${name}`,
        `The service name \`${name}\` is not a DNS label; its objects are named \`${label}\`.`,
      );
    }
    taken.set(label, name);
    names.set(name, label);
  }
  return names;
}

/** The deployment-wide context; reports a namespace or service name it had to change. */
export function renderContextFor(
  d: EvaluatedDeployment,
  opts: K8sOptions,
  report: Report,
): RenderContext {
  const dr: K8sDeploymentOptions = { ...DEPLOYMENT_OPTION_DEFAULTS, ...d.renderers.k8s };
  const wanted = dr.namespace ?? opts.namespace ?? d.name;
  const namespace = dnsLabel(wanted);
  if (namespace !== wanted) {
    report(
      "warning",
      "renderers.k8s.namespace",
      `The namespace ${JSON.stringify(wanted)} is not a DNS label; using \`${namespace}\`.`,
    );
  }
  return {
    deployment: d,
    options: dr,
    namespace,
    createNamespace: dr.createNamespace ?? opts.createNamespace ?? true,
    defaultExpose: dr.exposeAs ?? opts.exposeAs ?? "NodePort",
    defaultWait: dr.waitForDependencies ?? opts.waitForDependencies ?? true,
    waitImage: dr.waitImage ?? opts.waitImage ?? DEFAULT_WAIT_IMAGE,
    waitCommand: dr.waitCommand ?? opts.waitCommand ?? null,
    defaultSecret: dr.defaultSecretName ?? opts.defaultSecretName ?? `${dnsLabel(d.name)}-secrets`,
    partOf: dnsLabel(d.name),
    awaited: awaitedServices(d),
    restartDefined: restartDefinedIn(d),
    names: objectNames(d, report),
    fqdn: (service) => serviceDnsName(service, namespace),
  };
}

/** The context of the service `name`, whose workload is a `kind`. */
export function serviceContextFor(
  ctx: RenderContext,
  name: string,
  objName: string,
  kind: WorkloadKind,
): ServiceContext {
  const d = ctx.deployment;
  const service = d.services[name] as EvaluatedService;
  const diagnostics: Diagnostic[] = [];
  const report = reporterFor(d, diagnostics);
  const at = (option: string) => `services.${name}${option ? `.${option}` : ""}`;
  const warn = (option: string, message: string) => report("warning", at(option), message, name);
  const error = (option: string, message: string) => report("error", at(option), message, name);
  const labels = labelsFor(d.name, name);
  const annotations = emptyRecord<string>();
  // The deployment-wide fields one by one, not `...ctx`: a spread into a literal with more keys
  // is a slow copy, made once per service.
  const sc: ServiceContext = {
    deployment: ctx.deployment,
    options: ctx.options,
    namespace: ctx.namespace,
    createNamespace: ctx.createNamespace,
    defaultExpose: ctx.defaultExpose,
    defaultWait: ctx.defaultWait,
    waitImage: ctx.waitImage,
    waitCommand: ctx.waitCommand,
    defaultSecret: ctx.defaultSecret,
    partOf: ctx.partOf,
    awaited: ctx.awaited,
    restartDefined: ctx.restartDefined,
    names: ctx.names,
    fqdn: ctx.fqdn,
    service,
    name,
    objName,
    k8s: { ...SERVICE_OPTION_DEFAULTS, ...service.renderers.k8s },
    kind,
    labels,
    selector: selectorFor(d.name, name),
    annotations,
    diagnostics,
    warn,
    error,
    res: () => "",
    meta: (objectName) => {
      const meta: ObjectMeta = {
        name: objectName,
        namespace: ctx.namespace,
        labels: { ...labels },
      };
      if (Object.keys(annotations).length > 0) meta.annotations = { ...annotations };
      return meta;
    },
  };
  const resolver = refResolverFor(sc);
  sc.res = (value, option) => resolveRefs(value, (r) => resolver(r, option));
  return sc;
}

/**
 * Resolves a reference inside a pod of the context's service; a reference that cannot work
 * there is reported once per reference and message.
 */
function refResolverFor(ctx: ServiceContext): (r: Ref, option: string) => string {
  const seen = new Set<string>();
  const { name, deployment: d } = ctx;
  return (r, option) => {
    const target = d.services[r.service];
    const once = (message: string) => {
      const key = `${describeRef(r)}:${message}`;
      if (!seen.has(key)) {
        seen.add(key);
        ctx.warn(option, message);
      }
    };
    if (!target || !ctx.names.has(r.service)) {
      if (!seen.has(describeRef(r))) {
        seen.add(describeRef(r));
        ctx.error(
          option,
          `\`${describeRef(r)}\` cannot be resolved: service \`${r.service}\` is not rendered.`,
        );
      }
      return "";
    }
    // A service reaches itself inside its own pod on localhost: its Service routes only to
    // ready pods, so a readiness probe through it could never pass.
    const host = r.service === name ? "127.0.0.1" : ctx.fqdn(r.service);
    switch (r.kind) {
      case "host":
        return host;
      case "port":
      case "address": {
        const p = target.ports[r.port];
        if (!p) {
          ctx.error(option, `\`${describeRef(r)}\` cannot be resolved: no such port.`);
          return "";
        }
        return r.kind === "port" ? String(p.port) : `${host}:${p.port}`;
      }
      case "volume": {
        const v = target.volumes[r.volume];
        if (!v) return "";
        if (r.service !== name) {
          once(
            `\`${describeRef(r)}\` is the path inside \`${r.service}\`'s pods; pods of \`${name}\` do not share that volume on Kubernetes.`,
          );
        }
        return v.path;
      }
      case "file":
        if (r.service !== name) {
          once(
            `\`${describeRef(r)}\` is a path inside \`${r.service}\`'s pods; pods of \`${name}\` do not have that file.`,
          );
        }
        return r.path;
    }
  };
}
