/**
 * A service's objects on Kubernetes, composed from the aspects in `pod.ts`: the container, its
 * pod template, the Services in front of it, the workload (Deployment, StatefulSet or Job), the
 * service's overrides and the checks of Kubernetes' own limits on what was made.
 */

import { emptyRecord, packedMap } from "@nix2dream/core/record";
import type { DeploymentSpec, StatefulSetSpec } from "kubernetes-types/apps/v1.js";
import type { JobSpec } from "kubernetes-types/batch/v1.js";
import type {
  Container,
  ServicePort as K8sServicePort,
  PersistentVolumeClaim,
  PodSpec,
  PodTemplateSpec,
  Service,
} from "kubernetes-types/core/v1.js";
import { resourcesFor } from "./builders.js";
import type { ServiceContext } from "./context.js";
import { strategicMerge } from "./merge.js";
import {
  addServiceLabels,
  DNS_SUBDOMAIN,
  dependencyWaitsOf,
  envOf,
  filesOf,
  imageOf,
  isLabelValue,
  type JobRestart,
  lifecycleOf,
  type NamedPort,
  portsOf,
  probesOf,
  protocolOf,
  restartOf,
  securityOf,
  volumesOf,
} from "./pod.js";
import type { GeneratedObject } from "./render.js";

/** Runs `preStart` in the container's shell, then `exec`s the program. */
export const PRESTART_SCRIPT = 'eval "$1"; shift; exec "$@"';

/**
 * Every object of one service, in the order they are written, with the service's overrides
 * applied. `kindOf` gives the workload kind of another service (for dependency waits).
 */
export function serviceObjects(
  ctx: ServiceContext,
  kindOf: (service: string) => string,
): GeneratedObject[] {
  addServiceLabels(ctx);
  const image = imageOf(ctx);
  const ports = portsOf(ctx);
  const env = envOf(ctx);
  const files = filesOf(ctx);
  const volumes = volumesOf(ctx, image);
  const probes = probesOf(ctx, ports);
  const security = securityOf(ctx);
  const lifecycle = lifecycleOf(ctx);
  const job = restartOf(ctx);
  const waits = dependencyWaitsOf(ctx, kindOf);
  const mounts = [...files.mounts, ...volumes.mounts];
  const container = containerOf(ctx, { image, ports, env: env.env, mounts, probes, lifecycle });
  const initContainers = [...volumes.initContainers, ...waits];
  for (const c of initContainers) {
    if (c.image === image && env.env.length > 0 && !c.env) c.env = env.env;
  }
  // Keys are added one by one below: an emptyRecord stays fast (see core's record.ts).
  const pod = emptyRecord() as unknown as PodSpec;
  if (job) pod.restartPolicy = job.restartPolicy;
  pod.terminationGracePeriodSeconds = Math.ceil(ctx.service.stop.gracePeriod);
  if (security) pod.securityContext = security;
  if (initContainers.length > 0) pod.initContainers = packedMap(initContainers, forKubelet);
  pod.containers = [forKubelet(container)];
  const podVolumes = [...files.volumes, ...volumes.volumes];
  if (podVolumes.length > 0) pod.volumes = podVolumes;
  const metadata: PodTemplateSpec["metadata"] & object = { labels: { ...ctx.labels } };
  if (Object.keys(files.podAnnotations).length > 0) metadata.annotations = files.podAnnotations;
  const template: PodTemplateSpec = { metadata, spec: pod };
  const objects = [
    ...env.objects,
    ...files.objects,
    ...volumes.objects,
    ...servicesOf(ctx, ports),
    workloadOf(ctx, template, job, volumes.claimTemplates),
  ];
  const overridden = withServiceOverrides(ctx, objects);
  checkLimits(ctx, overridden);
  return overridden;
}

/** The service's container: image, argv (with `preStart` in front), env, ports, probes. */
function containerOf(
  ctx: ServiceContext,
  parts: {
    image: string;
    ports: NamedPort[];
    env: Container["env"] & object;
    mounts: Container["volumeMounts"] & object;
    probes: Partial<Container>;
    lifecycle: Container["lifecycle"];
  },
): Container {
  const s = ctx.service;
  const command = packedMap(s.command, (c) => ctx.res(c, "command"));
  const args = packedMap(s.args, (a) => ctx.res(a, "args"));
  const container: Container = { name: ctx.objName, image: parts.image };
  if (s.preStart) {
    if (s.command.length === 0) {
      ctx.error(
        "preStart",
        "`preStart` needs `command` on Kubernetes: the image's entrypoint is not known to render-k8s.",
      );
    } else {
      const preStart = ctx.res(s.preStart, "preStart");
      container.command = ["/bin/sh", "-ec", PRESTART_SCRIPT, "sh", preStart, ...command, ...args];
    }
  } else if (s.command.length > 0) {
    container.command = command;
    if (s.args.length > 0) container.args = args;
  } else if (s.args.length > 0) {
    container.args = args;
  }
  if (s.workingDir !== null) container.workingDir = ctx.res(s.workingDir, "workingDir");
  if (parts.env.length > 0) container.env = parts.env;
  if (parts.ports.length > 0) {
    container.ports = packedMap(parts.ports, (p) => ({
      name: p.name,
      containerPort: p.port,
      protocol: protocolOf(p),
    }));
  }
  if (parts.mounts.length > 0) container.volumeMounts = parts.mounts;
  const resources = resourcesFor(s.resources);
  if (resources) container.resources = resources;
  Object.assign(container, parts.probes);
  if (parts.lifecycle) container.lifecycle = parts.lifecycle;
  return container;
}

/**
 * The Services of a service: a ClusterIP one for every port (headless for a StatefulSet without
 * ports), and `<name>-public` of the exposed type for the exposed ports.
 */
function servicesOf(ctx: ServiceContext, ports: NamedPort[]): GeneratedObject[] {
  const out: GeneratedObject[] = [];
  const selector = () => ({ ...ctx.selector });
  if (ports.length > 0 || ctx.kind === "StatefulSet") {
    const spec: Service["spec"] = { selector: selector() };
    if (ports.length > 0) {
      spec.type = "ClusterIP";
      spec.ports = packedMap(ports, (p) => ({
        name: p.name,
        port: p.port,
        targetPort: p.name,
        protocol: protocolOf(p),
      }));
    } else {
      spec.clusterIP = "None";
    }
    out.push({ apiVersion: "v1", kind: "Service", metadata: ctx.meta(ctx.objName), spec });
  }
  const exposed = ports.filter((p) => p.expose || p.hostPort !== null);
  if (exposed.length === 0) return out;
  const exposeAs = ctx.k8s.exposeAs ?? ctx.defaultExpose;
  const svcPorts = packedMap(exposed, (p): K8sServicePort => {
    const port: K8sServicePort = {
      name: p.name,
      port: p.port,
      targetPort: p.name,
      protocol: protocolOf(p),
    };
    if (p.hostPort === null) return port;
    if (exposeAs === "LoadBalancer") port.port = p.hostPort;
    else if (p.hostPort >= 30000 && p.hostPort <= 32767) port.nodePort = p.hostPort;
    else {
      ctx.warn(
        `ports.${p.key}.hostPort`,
        `A NodePort must be in 30000-32767; hostPort ${p.hostPort} is not rendered and Kubernetes picks one (or set \`renderers.k8s.exposeAs = "LoadBalancer"\`).`,
      );
    }
    return port;
  });
  out.push({
    apiVersion: "v1",
    kind: "Service",
    metadata: ctx.meta(`${ctx.objName}-public`),
    spec: { type: exposeAs, selector: selector(), ports: svcPorts },
  });
  return out;
}

/** The workload object: a Job, a StatefulSet (with its claim templates) or a Deployment. */
function workloadOf(
  ctx: ServiceContext,
  template: PodTemplateSpec,
  job: JobRestart | undefined,
  claimTemplates: PersistentVolumeClaim[],
): GeneratedObject {
  const s = ctx.service;
  const metadata = ctx.meta(ctx.objName);
  const matchLabels = { ...ctx.selector };
  if (ctx.kind === "Job") {
    // Keys one by one into an emptyRecord (core's record.ts), in the order they are written.
    const spec = emptyRecord() as unknown as JobSpec;
    if (s.replicas !== 1) {
      spec.completions = s.replicas;
      spec.parallelism = s.replicas;
    }
    spec.backoffLimit = job?.backoffLimit ?? 0;
    spec.template = template;
    return { apiVersion: "batch/v1", kind: "Job", metadata, spec };
  }
  if (ctx.kind === "StatefulSet") {
    const spec: StatefulSetSpec = {
      serviceName: ctx.objName,
      replicas: s.replicas,
      selector: { matchLabels },
      template,
    };
    if (claimTemplates.length > 0) spec.volumeClaimTemplates = claimTemplates;
    return { apiVersion: "apps/v1", kind: "StatefulSet", metadata, spec };
  }
  // A ReadWriteOnce claim cannot be mounted by the old and the new pod at once.
  const persistent = Object.values(s.volumes).some((v) => v.persistent);
  // `template` after `strategy`, the order they are written in.
  const spec = { replicas: s.replicas, selector: { matchLabels } } as DeploymentSpec;
  if (persistent) spec.strategy = { type: "Recreate" };
  spec.template = template;
  return { apiVersion: "apps/v1", kind: "Deployment", metadata, spec };
}

/** `objects` with the service's overrides, by kind (`Service`) or kind and name (`Service/api-public`). */
function withServiceOverrides(ctx: ServiceContext, objects: GeneratedObject[]): GeneratedObject[] {
  const out = [...objects];
  for (const [key, patch] of Object.entries(ctx.k8s.override)) {
    const [kind, name] = key.split("/", 2);
    const matches = (o: GeneratedObject) =>
      o.kind === kind && (name === undefined || o.metadata?.name === name);
    if (!out.some(matches)) {
      ctx.warn(
        `renderers.k8s.override.${key}`,
        `\`${ctx.name}\` has no ${key}; this override is not used.`,
      );
    }
    for (let i = 0; i < out.length; i++) {
      const o = out[i] as GeneratedObject;
      if (matches(o)) out[i] = strategicMerge(o, patch);
    }
  }
  return out;
}

/**
 * Workload kinds whose name ends up in a label value of their pods (at most 63 characters):
 * a StatefulSet's pods get `controller-revision-hash: <name>-<10-character hash>`
 * (kubernetes/kubernetes#64023). (A Job's pods get `job-name: <name>`, but service names, and so
 * object names, are at most 63 characters already.)
 */
const POD_LABEL_NAME_LIMIT: Record<string, { max: number; why: string }> = {
  StatefulSet: {
    max: 52,
    why: "Kubernetes labels each pod of a StatefulSet `controller-revision-hash: <name>-<10-character hash>`",
  },
};

/**
 * Errors for what the API server would refuse: object names that are not DNS-1123 subdomains
 * of at most 253 characters (a Service's name is a DNS-1035 label of at most 63), label values
 * over 63 characters, workload names that make a pod's label value over 63 (those the API server
 * accepts, but whose pods the controller could never create), (the 1 MiB limit of a ConfigMap or
 * Secret is checked where they are made).
 */
function checkLimits(ctx: ServiceContext, objects: GeneratedObject[]): void {
  for (const o of objects) {
    const name = o.metadata?.name ?? "";
    const serviceName = o.kind === "Service";
    if (
      serviceName
        ? name.length > 63 || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name)
        : name.length > 253 || !DNS_SUBDOMAIN.test(name)
    ) {
      ctx.error(
        "",
        `The ${o.kind} name \`${name}\` is not valid on Kubernetes (${serviceName ? "a Service name is a DNS label of at most 63 characters starting with a letter" : "an object name is a DNS subdomain of at most 253 characters"}); shorten the service name.`,
      );
    }
    const podNameLimit = POD_LABEL_NAME_LIMIT[o.kind ?? ""];
    if (podNameLimit !== undefined && name.length > podNameLimit.max) {
      ctx.error(
        "",
        `The ${o.kind} name \`${name}\` has ${name.length} characters; ${podNameLimit.why}, at most 63 characters, so its pods could never be created. Shorten the service name to make the ${o.kind} name at most ${podNameLimit.max} characters.`,
      );
    }
    for (const [key, value] of Object.entries(o.metadata?.labels ?? {})) {
      if (!isLabelValue(value)) {
        ctx.error(
          "",
          `The label \`${key}\` of the ${o.kind} \`${name}\` would be \`${value}\`, not a valid Kubernetes label value (at most 63 characters).`,
        );
      }
    }
  }
}

/**
 * `value` as kubelet must receive it to pass it on unchanged: kubelet expands `$(VAR)` in a
 * container's command, args and env values and turns `$$` into `$`, so every `$` is doubled
 * (`sh -c 'kill -TERM $$'` would otherwise arrive as `kill -TERM $`).
 */
export function kubeletLiteral(value: string): string {
  return value.replaceAll("$", "$$$$");
}

/** A container whose command, args and env values kubelet will pass on exactly as written. */
function forKubelet(c: Container): Container {
  // Most containers hold no `$`: they are passed on as they are, with no copy.
  const hasDollar = (v: string | undefined) => v?.includes("$") === true;
  if (
    !c.command?.some(hasDollar) &&
    !c.args?.some(hasDollar) &&
    !c.env?.some((e) => hasDollar(e.value))
  ) {
    return c;
  }
  const out: Container = { ...c };
  if (c.command) out.command = packedMap(c.command, kubeletLiteral);
  if (c.args) out.args = packedMap(c.args, kubeletLiteral);
  if (c.env) {
    out.env = packedMap(c.env, (e) =>
      e.value === undefined ? e : { ...e, value: kubeletLiteral(e.value) },
    );
  }
  return out;
}
