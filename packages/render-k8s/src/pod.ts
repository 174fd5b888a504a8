/**
 * The pod-side aspects of a service on Kubernetes, one function each: labels, image, ports, env
 * and secrets, files, volumes, probes, security, stop, restart and dependency waits. Each takes
 * the {@link ServiceContext} and returns its part of the pod (and the objects it needs);
 * diagnostics go to the context.
 */
import { SERVICE_DEFAULTS, sha256Hex } from "@nix2dream/core";
import { emptyRecord, packedMap } from "@nix2dream/core/record";
import type {
  Container,
  EnvVar,
  PersistentVolumeClaim,
  PodSecurityContext,
  Volume,
  VolumeMount,
} from "kubernetes-types/core/v1.js";
import {
  dnsLabel,
  LABELS,
  MANAGED_BY,
  portName,
  probeSeconds,
  probesFor,
  securityContextFor,
  waitContainerFor,
} from "./builders.js";
import type { ServiceContext } from "./context.js";
import type { GeneratedObject } from "./render.js";

/** Init container script for volumes: `init` when the volume is empty, then `check`. */
export const VOLUME_SCRIPT =
  'cd -- "$1"; if [ -z "$(ls -A .)" ] && [ -n "$2" ]; then sh -ec "$2"; fi; if [ -n "$3" ]; then sh -ec "$3"; fi';

/** Prefix of the annotations render-k8s writes. */
export const ANNOTATION_PREFIX = "nix2dream.dev";
/** The pod annotation holding the hash of the service's files (a change rolls the pods). */
const FILES_SHA256 = `${ANNOTATION_PREFIX}/files-sha256`;

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
/** A DNS-1123 subdomain: the name of most Kubernetes objects (at most 253 characters). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The most data a ConfigMap or Secret may hold: 1 MiB, the API server's limit. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** `true` when `value` is a valid Kubernetes label value (at most 63 characters). */
export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/**
 * Puts the service's `labels` on its objects: valid Kubernetes labels as labels, the rest as
 * annotations (with a warning), plus its description as an annotation.
 */
export function addServiceLabels(ctx: ServiceContext): void {
  const { service: s, labels, annotations } = ctx;
  for (const [k, v] of Object.entries(s.labels)) {
    if (k in labels) {
      ctx.warn(
        `labels.${k}`,
        `The label \`${k}\` is set by render-k8s; the service's value is not used.`,
      );
    } else if (LABEL_KEY.test(k) && k.length <= 317 && isLabelValue(v)) {
      labels[k] = v;
    } else {
      ctx.warn(
        `labels.${k}`,
        `\`${k}\` = ${JSON.stringify(v)} is not a valid Kubernetes label; it is rendered as an annotation.`,
      );
      annotations[k] = v;
    }
  }
  if (s.description) annotations[`${ANNOTATION_PREFIX}/description`] = s.description;
}

/** The container image: `renderers.k8s.image`, `package.image`, else a named placeholder. */
export function imageOf(ctx: ServiceContext): string {
  const s = ctx.service;
  const image = ctx.k8s.image ?? s.package.image;
  if (image) return image;
  const placeholder = `${ctx.partOf}/${ctx.objName}:latest`;
  ctx.warn(
    "package",
    s.package.nix
      ? `The Nix package \`${s.package.nix}\` is not built into an image by render-k8s; the pod uses \`${placeholder}\` (build it, e.g. with render-oci, or set \`package.image\` / \`renderers.k8s.image\`).`
      : `No image: set \`package.image\` or \`renderers.k8s.image\`; the pod uses \`${placeholder}\`.`,
  );
  return placeholder;
}

/** A port of the service with its Kubernetes port name. */
export interface NamedPort {
  key: string;
  name: string;
  port: number;
  protocol: "tcp" | "udp";
  expose: boolean;
  hostPort: number | null;
}

/** The service's ports with unique Kubernetes port names (IANA service names). */
export function portsOf(ctx: ServiceContext): NamedPort[] {
  const used = new Set<string>();
  return packedMap(Object.entries(ctx.service.ports), ([key, p]) => {
    // Field by field: a spread of the evaluated port into a literal with more keys is a slow
    // copy, made for every port of every service.
    const port: NamedPort = {
      key,
      name: portName(key, p.port),
      port: p.port,
      protocol: p.protocol,
      expose: p.expose,
      hostPort: p.hostPort,
    };
    if (used.has(port.name)) port.name = `p${port.port}`;
    used.add(port.name);
    if (port.name !== port.key) {
      ctx.warn(
        `ports.${key}`,
        `The port name \`${key}\` is not a Kubernetes port name; it is \`${port.name}\` there.`,
      );
    }
    return port;
  });
}

/** `TCP` or `UDP`, as Kubernetes spells a port's protocol. */
export const protocolOf = (p: { protocol: "tcp" | "udp" }) =>
  p.protocol === "udp" ? "UDP" : "TCP";

/**
 * The container's env: plain values, then secrets as `secretKeyRef`s; plus the Secret objects
 * for secret values given in the configuration.
 */
export function envOf(ctx: ServiceContext): { env: EnvVar[]; objects: GeneratedObject[] } {
  const s = ctx.service;
  const env: EnvVar[] = packedMap(Object.entries(s.env), ([name, value]) => ({
    name,
    value: ctx.res(value, `env.${name}`),
  }));
  /** Explicit values by Secret name, then key. */
  const explicit = new Map<string, Record<string, string>>();
  for (const [name, src] of Object.entries(s.secrets)) {
    // Own keys only: a secret named `constructor` or `toString` must not find Object.prototype's.
    const o = Object.hasOwn(ctx.k8s.secrets, name) ? ctx.k8s.secrets[name] : undefined;
    if (src.fromFile !== null) {
      ctx.warn(
        `secrets.${name}.fromFile`,
        `\`fromFile\` is read on local targets only; on Kubernetes \`${name}\` comes from a Secret (\`renderers.k8s.secrets.${name}\`).`,
      );
    }
    const key = o?.key ?? name;
    const secretName = o?.name ?? (o?.value != null ? `${ctx.objName}-secrets` : ctx.defaultSecret);
    if (!secretKeyIsValid(ctx, name, key, secretName)) continue;
    if (o?.value != null) {
      explicit.set(secretName, { ...explicit.get(secretName), [key]: base64(o.value) });
      env.push({ name, valueFrom: { secretKeyRef: { name: secretName, key } } });
      continue;
    }
    const optional = src.required ? {} : { optional: true };
    env.push({ name, valueFrom: { secretKeyRef: { name: secretName, key, ...optional } } });
  }
  for (const name of Object.keys(ctx.k8s.secrets)) {
    if (!Object.hasOwn(s.secrets, name)) {
      ctx.error(
        `renderers.k8s.secrets.${name}`,
        `\`${name}\` is not a secret of \`${ctx.name}\`; declare it in \`services.${ctx.name}.secrets\` first.`,
      );
    }
  }
  return { env, objects: explicitSecrets(ctx, explicit) };
}

function secretKeyIsValid(ctx: ServiceContext, name: string, key: string, secret: string): boolean {
  if (!CONFIG_KEY.test(key)) {
    ctx.error(
      `renderers.k8s.secrets.${name}.key`,
      `The Secret key ${JSON.stringify(key)} may hold letters, digits, \`-\`, \`_\` and \`.\` only; \`${name}\` is not rendered.`,
    );
    return false;
  }
  if (!DNS_SUBDOMAIN.test(secret) || secret.length > 253) {
    ctx.error(
      `renderers.k8s.secrets.${name}.name`,
      `The Secret name ${JSON.stringify(secret)} is not a Kubernetes object name (lower-case letters, digits, \`-\` and \`.\`); \`${name}\` is not rendered.`,
    );
    return false;
  }
  return true;
}

/** Secret objects for values supplied in the configuration, sorted by name. */
function explicitSecrets(
  ctx: ServiceContext,
  explicit: Map<string, Record<string, string>>,
): GeneratedObject[] {
  if (explicit.size === 0) return [];
  for (const [name, data] of explicit) {
    const sizes = Object.keys(data).map((key) => ({
      option: `renderers.k8s.secrets`,
      bytes: Buffer.from(data[key] ?? "", "base64").length,
    }));
    checkDataSize(ctx, `Secret \`${name}\``, sizes);
  }
  const objects: GeneratedObject[] = [...explicit]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([secretName, data]) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: ctx.meta(secretName),
      type: "Opaque",
      data,
    }));
  ctx.warn(
    "renderers.k8s.secrets",
    "Secret values supplied in the configuration are rendered base64-encoded (not encrypted) into a Secret manifest: keep the render directory out of version control, or name an existing Secret instead.",
  );
  return objects;
}

/** The pod's volumes and the container's mounts. */
export interface Mounts {
  volumes: Volume[];
  mounts: VolumeMount[];
}

/**
 * The service's files as one ConfigMap mounted file by file (`subPath`); the pod annotation
 * carries its hash so that a change of a file rolls the pods.
 */
export function filesOf(
  ctx: ServiceContext,
): Mounts & { objects: GeneratedObject[]; podAnnotations: Record<string, string> } {
  const keys = new Set<string>();
  const data = emptyRecord<string>();
  const items: Array<{ key: string; path: string; mode: number }> = [];
  const mounts: VolumeMount[] = [];
  const sizes: Array<{ option: string; bytes: number }> = [];
  for (const [path, f] of Object.entries(ctx.service.files)) {
    if (f.text === null) {
      ctx.warn(
        `files.${path}`,
        `\`files.${JSON.stringify(path)}.source\` is not rendered: a renderer reads no files. Use \`text\`, or put the file into the image.`,
      );
      continue;
    }
    let key = path.replace(/^\/+/, "").replace(/[^-._a-zA-Z0-9]+/g, "_") || "file";
    if (key === "." || key === "..") key = "file";
    for (let i = 2; keys.has(key); i++) key = `${key.replace(/-\d+$/, "")}-${i}`;
    keys.add(key);
    const text = ctx.res(f.text, `files.${path}`);
    data[propertyName(key)] = text;
    sizes.push({ option: `files.${path}`, bytes: Buffer.byteLength(text, "utf8") });
    items.push({ key, path: key, mode: Number.parseInt(f.mode, 8) });
    mounts.push({ name: "files", mountPath: path, subPath: key, readOnly: true });
  }
  const podAnnotations = emptyRecord<string>();
  if (items.length === 0) return { volumes: [], mounts, objects: [], podAnnotations };
  const name = `${ctx.objName}-files`;
  checkDataSize(ctx, `ConfigMap \`${name}\``, sizes);
  podAnnotations[FILES_SHA256] = sha256Hex(JSON.stringify(Object.entries(data)));
  return {
    volumes: [{ name: "files", configMap: { name, items } }],
    mounts,
    objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: ctx.meta(name), data }],
    podAnnotations,
  };
}

/**
 * The service's volumes: claims (templates of a StatefulSet, else one claim each), emptyDirs,
 * and an init container per volume with `init` or `check`.
 */
export function volumesOf(
  ctx: ServiceContext,
  image: string,
): Mounts & {
  objects: GeneratedObject[];
  claimTemplates: PersistentVolumeClaim[];
  initContainers: Container[];
} {
  const { service: s, kind } = ctx;
  const out = {
    volumes: [] as Volume[],
    mounts: [] as VolumeMount[],
    objects: [] as GeneratedObject[],
    claimTemplates: [] as PersistentVolumeClaim[],
    initContainers: [] as Container[],
  };
  const names = new Set<string>(["files"]);
  for (const [vname, v] of Object.entries(s.volumes)) {
    let name = `vol-${dnsLabel(vname)}`.slice(0, 63);
    for (let i = 2; names.has(name); i++) name = `vol-${dnsLabel(vname).slice(0, 50)}-${i}`;
    names.add(name);
    const spec = {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: v.size ?? "1Gi" } },
    };
    if (v.persistent && kind === "StatefulSet") {
      const labels = Object.assign(emptyRecord<string>(), ctx.selector);
      labels[LABELS.partOf] = ctx.partOf;
      labels[LABELS.managedBy] = MANAGED_BY;
      out.claimTemplates.push({ metadata: { name, labels }, spec });
    } else if (v.persistent) {
      const claim = `${ctx.objName}-${name}`;
      out.objects.push({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: ctx.meta(claim),
        spec,
      });
      out.volumes.push({ name, persistentVolumeClaim: { claimName: claim } });
      if (kind === "Deployment" && s.replicas > 1) {
        ctx.warn(
          `volumes.${vname}`,
          `The persistent volume \`${vname}\` is one ReadWriteOnce claim shared by ${s.replicas} replicas of a Deployment; use a StatefulSet (\`renderers.k8s.workload\`) for one claim per replica.`,
        );
      }
    } else {
      out.volumes.push({ name, emptyDir: v.size !== null ? { sizeLimit: v.size } : {} });
    }
    out.mounts.push({ name, mountPath: v.path });
    if (v.init || v.check) {
      const init = ctx.res(v.init, `volumes.${vname}.init`);
      const check = ctx.res(v.check, `volumes.${vname}.check`);
      out.initContainers.push({
        name: `init-${name}`.slice(0, 63),
        image,
        command: ["/bin/sh", "-ec", VOLUME_SCRIPT, "sh", v.path, init, check],
        volumeMounts: [{ name, mountPath: v.path }],
      });
    }
    if (v.clear) {
      ctx.warn(
        `volumes.${vname}.clear`,
        "Kubernetes runs nothing when a volume is deleted; `clear` is not rendered.",
      );
    }
  }
  return out;
}

/** The container's readiness (and, when asked for, liveness) probes from the healthcheck. */
export function probesOf(ctx: ServiceContext, ports: NamedPort[]): Partial<Container> {
  const hc = ctx.service.healthcheck;
  if (!hc) return {};
  const probes = probesFor(hc, {
    liveness: ctx.k8s.liveness,
    portName: (key) => ports.find((p) => p.key === key)?.name ?? key,
    resolve: (c) => ctx.res(c, "healthcheck.command"),
  });
  for (const [field, value] of [
    ["interval", hc.interval],
    ["timeout", hc.timeout],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      ctx.warn(
        `healthcheck.${field}`,
        `Kubernetes probes count whole seconds (at least 1); ${value}s is rendered as ${probeSeconds(value)}s.`,
      );
    }
  }
  if (ctx.kind === "Job") {
    ctx.warn(
      "healthcheck",
      "A Job's pods are not behind a readiness gate that anything waits for; the probe only marks the pod ready.",
    );
  }
  return probes;
}

/** The pod's security context from `user`/`group` (numeric ids only). */
export function securityOf(ctx: ServiceContext): PodSecurityContext | undefined {
  const s = ctx.service;
  const security = securityContextFor(s.user, s.group);
  if (s.user !== null && !/^\d+$/.test(s.user)) {
    ctx.warn(
      "user",
      `Kubernetes runs containers as numeric ids only; the user name \`${s.user}\` is not rendered (set a numeric id).`,
    );
  }
  if (s.group !== null && !/^\d+$/.test(s.group)) {
    ctx.warn(
      "group",
      `Kubernetes runs containers with numeric group ids only; the group name \`${s.group}\` is not rendered (set a numeric id).`,
    );
  }
  return security;
}

/** A `preStop` hook that sends the stop signal when it is not SIGTERM. */
export function lifecycleOf(ctx: ServiceContext): Container["lifecycle"] {
  const signal = ctx.service.stop.signal;
  if (signal === "SIGTERM") return undefined;
  if (!ctx.k8s.signalViaPreStop) {
    ctx.warn(
      "stop.signal",
      `Kubernetes stops containers with SIGTERM; \`${signal}\` is not sent (\`signalViaPreStop\` is off).`,
    );
    return undefined;
  }
  const command = ["/bin/sh", "-c", `kill -s ${signal.replace(/^SIG/, "")} 1`];
  return { preStop: { exec: { command } } };
}

/** A Job's restart policy and backoff limit. */
export interface JobRestart {
  restartPolicy: "Never" | "OnFailure";
  backoffLimit: number;
}

/**
 * The restart behaviour: a Job's policy and backoff limit, or (for other workloads, which
 * always restart) only warnings about what is not rendered.
 */
export function restartOf(ctx: ServiceContext): JobRestart | undefined {
  const r = ctx.service.restart;
  const backoff = SERVICE_DEFAULTS.restart.backoff;
  if (
    r.backoff.initial !== backoff.initial ||
    r.backoff.factor !== backoff.factor ||
    r.backoff.max !== backoff.max
  ) {
    ctx.warn(
      "restart.backoff",
      "Kubernetes uses its own restart backoff (10s doubling up to 5 minutes); `restart.backoff` is not rendered.",
    );
  }
  const userDefined = ctx.restartDefined(ctx.name);
  if (ctx.kind !== "Job") {
    if (r.policy === "on-failure" && userDefined) {
      ctx.warn(
        "restart.policy",
        `A ${ctx.kind}'s pods are restarted after every exit, also a successful one; \`on-failure\` is rendered as \`Always\`.`,
      );
    } else if (r.policy === "no") {
      ctx.warn(
        "restart.policy",
        `A ${ctx.kind}'s pods are always restarted; \`no\` needs a Job (\`renderers.k8s.workload = "Job"\`).`,
      );
    }
    if (r.maxRetries !== null) {
      ctx.warn(
        "restart.maxRetries",
        `A ${ctx.kind} retries forever; \`maxRetries\` is not rendered.`,
      );
    }
    return undefined;
  }
  if (r.policy === "always") {
    ctx.warn(
      "restart.policy",
      "A Job is not restarted after it succeeds; `always` is rendered as `OnFailure`.",
    );
  }
  if (r.policy !== "no" && r.maxRetries === null && userDefined) {
    ctx.warn(
      "restart.maxRetries",
      "A Job's retries are bounded; unlimited retries are rendered as `backoffLimit: 6` (Kubernetes' default).",
    );
  }
  return {
    restartPolicy: r.policy === "no" ? "Never" : "OnFailure",
    backoffLimit: r.policy === "no" ? 0 : (r.maxRetries ?? 6),
  };
}

/**
 * Init containers that wait for each dependency's Service (its HTTP healthcheck for `healthy`,
 * else its port); Jobs cannot be waited for from a pod.
 */
export function dependencyWaitsOf(
  ctx: ServiceContext,
  kindOf: (service: string) => string,
): Container[] {
  const s = ctx.service;
  const wait = ctx.k8s.waitForDependencies ?? ctx.defaultWait;
  const deps = Object.entries(s.dependsOn);
  if (deps.length > 0 && !wait) {
    ctx.warn(
      "dependsOn",
      "Kubernetes starts pods in any order and waiting is off (`waitForDependencies = false`): `dependsOn` is not enforced.",
    );
  }
  const out: Container[] = [];
  for (const [dep, condition] of wait ? deps : []) {
    const t = ctx.deployment.services[dep];
    if (!t || !ctx.names.has(dep)) continue;
    if (condition === "completed" || kindOf(dep) === "Job") {
      ctx.warn(
        `dependsOn.${dep}`,
        `A pod cannot wait for the Job \`${dep}\` to complete without API access; the pods of \`${ctx.name}\` start at once (make it retry, e.g. \`restart = "on-failure"\`).`,
      );
      continue;
    }
    const hcPort = t.healthcheck && t.healthcheck.type !== "exec" ? t.healthcheck.port : undefined;
    const portKey = hcPort ?? Object.keys(t.ports)[0];
    const port = portKey === undefined ? undefined : t.ports[portKey];
    if (!port) {
      ctx.warn(
        `dependsOn.${dep}`,
        `\`${dep}\` has no port to wait for; the pods of \`${ctx.name}\` start without waiting.`,
      );
      continue;
    }
    const url =
      t.healthcheck?.type === "http" && condition === "healthy"
        ? `${t.healthcheck.scheme}://${ctx.fqdn(dep)}:${port.port}${t.healthcheck.path}`
        : "";
    out.push(
      waitContainerFor({
        name: `wait-${ctx.names.get(dep)}`.slice(0, 63),
        image: ctx.waitImage,
        command: ctx.waitCommand,
        host: ctx.fqdn(dep),
        port: port.port,
        url,
      }),
    );
  }
  return out;
}

/**
 * An error when the data of one ConfigMap or Secret (`what`) is over 1 MiB, on the option of its
 * largest entry.
 */
function checkDataSize(
  ctx: ServiceContext,
  what: string,
  sizes: Array<{ option: string; bytes: number }>,
): void {
  const total = sizes.reduce((sum, s) => sum + s.bytes, 0);
  if (total <= MAX_CONFIG_BYTES) return;
  const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  ctx.error(
    largest.option,
    `The ${what} would hold ${total} bytes of data; Kubernetes refuses more than ${MAX_CONFIG_BYTES} (1 MiB). The largest entry, \`${largest.option}\`, has ${largest.bytes} bytes: put big files into the image or a volume.`,
  );
}

/**
 * `name` as a new string, for a property name while `name` itself is also written as a value: V8
 * turns a string used as a property name into a "thin" string, and one thin string among the
 * pieces of a document makes the whole joined document two-byte (twice the memory, slower to
 * copy and to write).
 */
function propertyName(name: string): string {
  return `${name}\0`.slice(0, -1);
}

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}
