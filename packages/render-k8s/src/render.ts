/**
 * The Kubernetes renderer's core: an evaluated deployment in, typed Kubernetes objects and
 * diagnostics out (`renderObjects`), then files (`manifestFiles`). Pure and deterministic.
 */
import { createHash } from "node:crypto";
import {
  type Diagnostic,
  describeRef,
  type EvaluatedDeployment,
  type EvaluatedService,
  type Healthcheck,
  type Ref,
  resolveRefs,
  SERVICE_DEFAULTS,
} from "@nix2dream/core";
import type { Deployment, StatefulSet } from "kubernetes-types/apps/v1.js";
import type { Job } from "kubernetes-types/batch/v1.js";
import type {
  ConfigMap,
  Container,
  EnvVar,
  ServicePort as K8sServicePort,
  Namespace,
  PersistentVolumeClaim,
  PodSpec,
  PodTemplateSpec,
  Secret,
  Service,
  Volume,
  VolumeMount,
} from "kubernetes-types/core/v1.js";
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import {
  DEFAULT_WAIT_IMAGE,
  dnsLabel,
  LABELS,
  labelsFor,
  MANAGED_BY,
  namespaceFor,
  portName,
  probeSeconds,
  probesFor,
  resourcesFor,
  securityContextFor,
  selectorFor,
  serviceDnsName,
  waitContainerFor,
} from "./builders.js";
import { deepMerge } from "./merge.js";
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

/** Any Kubernetes object: what extra manifests may be. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** An object render-k8s generates, typed with the real Kubernetes API types. */
export type GeneratedObject =
  | (Namespace & { apiVersion: "v1"; kind: "Namespace" })
  | (ConfigMap & { apiVersion: "v1"; kind: "ConfigMap" })
  | (Secret & { apiVersion: "v1"; kind: "Secret" })
  | (PersistentVolumeClaim & { apiVersion: "v1"; kind: "PersistentVolumeClaim" })
  | (Service & { apiVersion: "v1"; kind: "Service" })
  | (Deployment & { apiVersion: "apps/v1"; kind: "Deployment" })
  | (StatefulSet & { apiVersion: "apps/v1"; kind: "StatefulSet" })
  | (Job & { apiVersion: "batch/v1"; kind: "Job" });

/** What {@link renderObjects} returns. */
export interface K8sRender {
  /** Generated objects (overrides applied) and extra manifests, in output order. */
  objects: Array<GeneratedObject | KubernetesObject>;
  diagnostics: Diagnostic[];
  /** The namespace every generated object is in. */
  namespace: string;
}

/** Init container script for volumes: `init` when the volume is empty, then `check`. */
export const VOLUME_SCRIPT =
  'cd -- "$1"; if [ -z "$(ls -A .)" ] && [ -n "$2" ]; then sh -ec "$2"; fi; if [ -n "$3" ]; then sh -ec "$3"; fi';
/** Runs `preStart` in the container's shell, then `exec`s the program. */
export const PRESTART_SCRIPT = 'eval "$1"; shift; exec "$@"';

const ANNOTATION_PREFIX = "nix2dream.dev";

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

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function octal(mode: string): number {
  return Number.parseInt(mode, 8);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

const KIND_ORDER = [
  "Namespace",
  "Secret",
  "ConfigMap",
  "PersistentVolumeClaim",
  "Service",
  "Deployment",
  "StatefulSet",
  "Job",
];

/** Names of the services another service waits for with `completed`. */
function awaitedServices(deployment: Pick<EvaluatedDeployment, "services">): Set<string> {
  const out = new Set<string>();
  for (const s of Object.values(deployment.services)) {
    for (const [dep, condition] of Object.entries(s.dependsOn)) {
      if (condition === "completed") out.add(dep);
    }
  }
  return out;
}

/**
 * The workload kind `service` is rendered as: `renderers.k8s.workload` when set; a Job for a
 * one-shot service (restart `no`, or another service waits for it with `completed`); a
 * StatefulSet with persistent volumes; else a Deployment. Pass `awaited` (the services waited
 * for with `completed`) when calling it for many services.
 */
export function workloadKindOf(
  service: EvaluatedService,
  deployment: Pick<EvaluatedDeployment, "services">,
  awaited: ReadonlySet<string> = awaitedServices(deployment),
): WorkloadKind {
  const chosen = service.renderers.k8s?.workload;
  if (chosen) return chosen;
  if (service.restart.policy === "no" || awaited.has(service.name)) return "Job";
  if (Object.values(service.volumes).some((v) => v.persistent)) return "StatefulSet";
  return "Deployment";
}

/**
 * Renders `deployment` to Kubernetes objects: one workload per service (Deployment,
 * StatefulSet or Job), its Service(s), ConfigMap, Secret and claims, the Namespace, then
 * overrides and extra manifests. Every option Kubernetes cannot express is a diagnostic.
 */
export function renderObjects(deployment: EvaluatedDeployment, opts: K8sOptions = {}): K8sRender {
  const d = deployment;
  const diagnostics: Diagnostic[] = [];
  const report = (
    severity: Diagnostic["severity"],
    option: string,
    message: string,
    service?: string,
  ) => {
    const svc = service ?? /^services\.([^.]+)/.exec(option)?.[1];
    const files = d.definitionFiles[option];
    diagnostics.push({
      severity,
      option,
      ...(svc === undefined ? {} : { service: svc }),
      ...(files && files.length > 0 ? { files: [...files] } : {}),
      message,
    });
  };
  const dr: K8sDeploymentOptions = { ...DEPLOYMENT_OPTION_DEFAULTS, ...d.renderers.k8s };
  const namespace = dnsLabel(dr.namespace ?? opts.namespace ?? d.name);
  if (namespace !== (dr.namespace ?? opts.namespace ?? d.name)) {
    report(
      "warning",
      "renderers.k8s.namespace",
      `The namespace ${JSON.stringify(dr.namespace ?? opts.namespace ?? d.name)} is not a DNS label; using \`${namespace}\`.`,
    );
  }
  const createNamespace = dr.createNamespace ?? opts.createNamespace ?? true;
  const defaultExpose = dr.exposeAs ?? opts.exposeAs ?? "NodePort";
  const defaultWait = dr.waitForDependencies ?? opts.waitForDependencies ?? true;
  const waitImage = dr.waitImage ?? opts.waitImage ?? DEFAULT_WAIT_IMAGE;
  const waitCommand = dr.waitCommand ?? opts.waitCommand ?? null;
  const defaultSecret =
    dr.defaultSecretName ?? opts.defaultSecretName ?? `${dnsLabel(d.name)}-secrets`;
  const partOf = dnsLabel(d.name);
  const awaited = awaitedServices(d);
  // Options the user defined (not left at their defaults): every prefix of a defined path.
  const defined = new Set<string>();
  for (const key of Object.keys(d.definitionFiles)) {
    const parts = key.split(".");
    for (let n = 1; n <= parts.length; n++) defined.add(parts.slice(0, n).join("."));
  }

  // Object names per service, checked for collisions after conversion to DNS labels.
  const names = new Map<string, string>();
  const taken = new Map<string, string>();
  for (const name of Object.keys(d.services)) {
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
  const fqdn = (service: string) => serviceDnsName(service, namespace);

  const objects: Array<{ service: string | null; object: GeneratedObject }> = [];
  if (createNamespace) {
    objects.push({
      service: null,
      object: namespaceFor(d.name, namespace),
    });
  }

  for (const [svcName, objName] of names) {
    const s = d.services[svcName] as EvaluatedService;
    const k8s: K8sServiceOptions = { ...SERVICE_OPTION_DEFAULTS, ...s.renderers.k8s };
    const at = (option: string) => `services.${svcName}${option ? `.${option}` : ""}`;
    const warn = (option: string, message: string) =>
      report("warning", at(option), message, svcName);
    const error = (option: string, message: string) =>
      report("error", at(option), message, svcName);
    const seen = new Set<string>();
    const resolve =
      (option: string) =>
      (r: Ref): string => {
        const target = d.services[r.service];
        const once = (message: string) => {
          const key = `${describeRef(r)}:${message}`;
          if (!seen.has(key)) {
            seen.add(key);
            warn(option, message);
          }
        };
        if (!target || !names.has(r.service)) {
          if (!seen.has(describeRef(r))) {
            seen.add(describeRef(r));
            error(
              option,
              `\`${describeRef(r)}\` cannot be resolved: service \`${r.service}\` is not rendered.`,
            );
          }
          return "";
        }
        // A service reaches itself inside its own pod on localhost: its Service routes only to
        // ready pods, so a readiness probe through it could never pass.
        const host = r.service === svcName ? "127.0.0.1" : fqdn(r.service);
        switch (r.kind) {
          case "host":
            return host;
          case "port":
          case "address": {
            const p = target.ports[r.port];
            if (!p) {
              error(option, `\`${describeRef(r)}\` cannot be resolved: no such port.`);
              return "";
            }
            return r.kind === "port" ? String(p.port) : `${host}:${p.port}`;
          }
          case "volume": {
            const v = target.volumes[r.volume];
            if (!v) return "";
            if (r.service !== svcName) {
              once(
                `\`${describeRef(r)}\` is the path inside \`${r.service}\`'s pods; pods of \`${svcName}\` do not share that volume on Kubernetes.`,
              );
            }
            return v.path;
          }
          case "file":
            if (r.service !== svcName) {
              once(
                `\`${describeRef(r)}\` is a path inside \`${r.service}\`'s pods; pods of \`${svcName}\` do not have that file.`,
              );
            }
            return r.path;
        }
      };
    const res = (value: string, option: string) => resolveRefs(value, resolve(option));

    const kind = workloadKindOf(s, d, awaited);
    const labels: Record<string, string> = labelsFor(d.name, svcName);
    const selector = selectorFor(d.name, svcName);
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.labels)) {
      if (k in labels) {
        warn(
          `labels.${k}`,
          `The label \`${k}\` is set by render-k8s; the service's value is not used.`,
        );
      } else if (LABEL_KEY.test(k) && k.length <= 317 && LABEL_VALUE.test(v) && v.length <= 63) {
        labels[k] = v;
      } else {
        warn(
          `labels.${k}`,
          `\`${k}\` = ${JSON.stringify(v)} is not a valid Kubernetes label; it is rendered as an annotation.`,
        );
        annotations[k] = v;
      }
    }
    if (s.description) annotations[`${ANNOTATION_PREFIX}/description`] = s.description;
    const meta = (name: string): ObjectMeta => ({
      name,
      namespace,
      labels: { ...labels },
      ...(Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
    });
    const mine: GeneratedObject[] = [];

    // Image.
    let image = k8s.image ?? s.package.image;
    if (!image) {
      image = `${partOf}/${objName}:latest`;
      warn(
        "package",
        s.package.nix
          ? `The Nix package \`${s.package.nix}\` is not built into an image by render-k8s; the pod uses \`${image}\` (build it, e.g. with render-oci, or set \`package.image\` / \`renderers.k8s.image\`).`
          : `No image: set \`package.image\` or \`renderers.k8s.image\`; the pod uses \`${image}\`.`,
      );
    }

    // Ports.
    const ports = Object.entries(s.ports).map(([name, p]) => ({
      key: name,
      name: portName(name, p.port),
      ...p,
    }));
    const usedPortNames = new Set<string>();
    for (const p of ports) {
      if (usedPortNames.has(p.name)) p.name = `p${p.port}`;
      usedPortNames.add(p.name);
      if (p.name !== p.key) {
        warn(
          `ports.${p.key}`,
          `The port name \`${p.key}\` is not a Kubernetes port name; it is \`${p.name}\` there.`,
        );
      }
    }
    const portNameOf = (key: string) => ports.find((p) => p.key === key)?.name ?? key;
    const protocol = (p: { protocol: "tcp" | "udp" }) => (p.protocol === "udp" ? "UDP" : "TCP");

    // Env and secrets.
    const env: EnvVar[] = Object.entries(s.env).map(([name, value]) => ({
      name,
      value: res(value, `env.${name}`),
    }));
    /** Explicit values by Secret name, then key. */
    const explicit = new Map<string, Record<string, string>>();
    const secretObjectName = `${objName}-secrets`;
    for (const [name, src] of Object.entries(s.secrets)) {
      const o = k8s.secrets[name];
      if (src.fromFile !== null) {
        warn(
          `secrets.${name}.fromFile`,
          `\`fromFile\` is read on local targets only; on Kubernetes \`${name}\` comes from a Secret (\`renderers.k8s.secrets.${name}\`).`,
        );
      }
      const key = o?.key ?? name;
      const secretName = o?.name ?? (o?.value != null ? secretObjectName : defaultSecret);
      if (!CONFIG_KEY.test(key)) {
        error(
          `renderers.k8s.secrets.${name}.key`,
          `The Secret key ${JSON.stringify(key)} may hold letters, digits, \`-\`, \`_\` and \`.\` only; \`${name}\` is not rendered.`,
        );
        continue;
      }
      if (!DNS_SUBDOMAIN.test(secretName) || secretName.length > 253) {
        error(
          `renderers.k8s.secrets.${name}.name`,
          `The Secret name ${JSON.stringify(secretName)} is not a Kubernetes object name (lower-case letters, digits, \`-\` and \`.\`); \`${name}\` is not rendered.`,
        );
        continue;
      }
      if (o?.value != null) {
        explicit.set(secretName, { ...explicit.get(secretName), [key]: base64(o.value) });
        env.push({ name, valueFrom: { secretKeyRef: { name: secretName, key } } });
        continue;
      }
      env.push({
        name,
        valueFrom: {
          secretKeyRef: {
            name: secretName,
            key,
            ...(src.required ? {} : { optional: true }),
          },
        },
      });
    }
    for (const name of Object.keys(k8s.secrets)) {
      if (!(name in s.secrets)) {
        error(
          `renderers.k8s.secrets.${name}`,
          `\`${name}\` is not a secret of \`${svcName}\`; declare it in \`services.${svcName}.secrets\` first.`,
        );
      }
    }
    if (explicit.size > 0) {
      for (const [secretName, data] of [...explicit].sort(([x], [y]) =>
        x < y ? -1 : x > y ? 1 : 0,
      )) {
        mine.push({
          apiVersion: "v1",
          kind: "Secret",
          metadata: meta(secretName),
          type: "Opaque",
          data,
        });
      }
      warn(
        "renderers.k8s.secrets",
        "Secret values supplied in the configuration are rendered base64-encoded (not encrypted) into a Secret manifest: keep the render directory out of version control, or name an existing Secret instead.",
      );
    }

    // Files → ConfigMap mounted with subPath.
    const volumes: Volume[] = [];
    const mounts: VolumeMount[] = [];
    const fileKeys = new Set<string>();
    const configData: Record<string, string> = {};
    const items: Array<{ key: string; path: string; mode: number }> = [];
    for (const [path, f] of Object.entries(s.files)) {
      if (f.text === null) {
        warn(
          `files.${path}`,
          `\`files.${JSON.stringify(path)}.source\` is not rendered: a renderer reads no files. Use \`text\`, or put the file into the image.`,
        );
        continue;
      }
      let key = path.replace(/^\/+/, "").replace(/[^-._a-zA-Z0-9]+/g, "_") || "file";
      if (key === "." || key === "..") key = "file";
      for (let i = 2; fileKeys.has(key); i++) key = `${key.replace(/-\d+$/, "")}-${i}`;
      fileKeys.add(key);
      configData[key] = res(f.text, `files.${path}`);
      items.push({ key, path: key, mode: octal(f.mode) });
      mounts.push({ name: "files", mountPath: path, subPath: key, readOnly: true });
    }
    const podAnnotations: Record<string, string> = {};
    if (items.length > 0) {
      mine.push({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: meta(`${objName}-files`),
        data: configData,
      });
      volumes.push({ name: "files", configMap: { name: `${objName}-files`, items } });
      podAnnotations[`${ANNOTATION_PREFIX}/files-sha256`] = sha256(
        JSON.stringify(Object.entries(configData)),
      );
    }

    // Volumes.
    const claimTemplates: PersistentVolumeClaim[] = [];
    const initContainers: Container[] = [];
    const volumeNames = new Set<string>(["files"]);
    for (const [vname, v] of Object.entries(s.volumes)) {
      let name = `vol-${dnsLabel(vname)}`.slice(0, 63);
      for (let i = 2; volumeNames.has(name); i++) name = `vol-${dnsLabel(vname).slice(0, 50)}-${i}`;
      volumeNames.add(name);
      const claimSpec = {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: v.size ?? "1Gi" } },
      };
      if (v.persistent) {
        if (kind === "StatefulSet") {
          claimTemplates.push({
            metadata: {
              name,
              labels: { ...selector, [LABELS.partOf]: partOf, [LABELS.managedBy]: MANAGED_BY },
            },
            spec: claimSpec,
          });
        } else {
          const claim = `${objName}-${name}`;
          mine.push({
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: meta(claim),
            spec: claimSpec,
          });
          volumes.push({ name, persistentVolumeClaim: { claimName: claim } });
          if (kind === "Deployment" && s.replicas > 1) {
            warn(
              `volumes.${vname}`,
              `The persistent volume \`${vname}\` is one ReadWriteOnce claim shared by ${s.replicas} replicas of a Deployment; use a StatefulSet (\`renderers.k8s.workload\`) for one claim per replica.`,
            );
          }
        }
      } else {
        if (v.size !== null) volumes.push({ name, emptyDir: { sizeLimit: v.size } });
        else volumes.push({ name, emptyDir: {} });
      }
      mounts.push({ name, mountPath: v.path });
      if (v.init || v.check) {
        initContainers.push({
          name: `init-${name}`.slice(0, 63),
          image,
          command: [
            "/bin/sh",
            "-ec",
            VOLUME_SCRIPT,
            "sh",
            v.path,
            res(v.init, `volumes.${vname}.init`),
            res(v.check, `volumes.${vname}.check`),
          ],
          volumeMounts: [{ name, mountPath: v.path }],
        });
      }
      if (v.clear) {
        warn(
          `volumes.${vname}.clear`,
          "Kubernetes runs nothing when a volume is deleted; `clear` is not rendered.",
        );
      }
    }

    // Probes.
    const hc: Healthcheck | null = s.healthcheck;
    const probes = hc
      ? probesFor(hc, {
          liveness: k8s.liveness,
          portName: portNameOf,
          resolve: (c) => res(c, "healthcheck.command"),
        })
      : {};
    if (hc) {
      for (const [field, value] of [
        ["interval", hc.interval],
        ["timeout", hc.timeout],
      ] as const) {
        if (!Number.isInteger(value) || value < 1) {
          warn(
            `healthcheck.${field}`,
            `Kubernetes probes count whole seconds (at least 1); ${value}s is rendered as ${probeSeconds(value)}s.`,
          );
        }
      }
      if (kind === "Job") {
        warn(
          "healthcheck",
          "A Job's pods are not behind a readiness gate that anything waits for; the probe only marks the pod ready.",
        );
      }
    }

    // Resources and security context.
    const resources = resourcesFor(s.resources);
    const podSecurity = securityContextFor(s.user, s.group);
    if (s.user !== null && !/^\d+$/.test(s.user)) {
      warn(
        "user",
        `Kubernetes runs containers as numeric ids only; the user name \`${s.user}\` is not rendered (set a numeric id).`,
      );
    }
    if (s.group !== null && !/^\d+$/.test(s.group)) {
      warn(
        "group",
        `Kubernetes runs containers with numeric group ids only; the group name \`${s.group}\` is not rendered (set a numeric id).`,
      );
    }

    // Stop.
    let lifecycle: Container["lifecycle"];
    if (s.stop.signal !== "SIGTERM") {
      if (k8s.signalViaPreStop) {
        lifecycle = {
          preStop: {
            exec: { command: ["/bin/sh", "-c", `kill -s ${s.stop.signal.replace(/^SIG/, "")} 1`] },
          },
        };
      } else {
        warn(
          "stop.signal",
          `Kubernetes stops containers with SIGTERM; \`${s.stop.signal}\` is not sent (\`signalViaPreStop\` is off).`,
        );
      }
    }

    // Restart.
    const r = s.restart;
    const backoffDefault =
      r.backoff.initial === SERVICE_DEFAULTS.restart.backoff.initial &&
      r.backoff.factor === SERVICE_DEFAULTS.restart.backoff.factor &&
      r.backoff.max === SERVICE_DEFAULTS.restart.backoff.max;
    if (!backoffDefault) {
      warn(
        "restart.backoff",
        "Kubernetes uses its own restart backoff (10s doubling up to 5 minutes); `restart.backoff` is not rendered.",
      );
    }
    let jobSpec: { restartPolicy: "Never" | "OnFailure"; backoffLimit: number } | undefined;
    if (kind === "Job") {
      if (r.policy === "always") {
        warn(
          "restart.policy",
          "A Job is not restarted after it succeeds; `always` is rendered as `OnFailure`.",
        );
      }
      const backoffLimit = r.policy === "no" ? 0 : (r.maxRetries ?? 6);
      if (r.policy !== "no" && r.maxRetries === null && defined.has(at("restart"))) {
        warn(
          "restart.maxRetries",
          "A Job's retries are bounded; unlimited retries are rendered as `backoffLimit: 6` (Kubernetes' default).",
        );
      }
      jobSpec = { restartPolicy: r.policy === "no" ? "Never" : "OnFailure", backoffLimit };
    } else {
      if (r.policy === "on-failure" && defined.has(at("restart"))) {
        warn(
          "restart.policy",
          `A ${kind}'s pods are restarted after every exit, also a successful one; \`on-failure\` is rendered as \`Always\`.`,
        );
      } else if (r.policy === "no") {
        warn(
          "restart.policy",
          `A ${kind}'s pods are always restarted; \`no\` needs a Job (\`renderers.k8s.workload = "Job"\`).`,
        );
      }
      if (r.maxRetries !== null) {
        warn("restart.maxRetries", `A ${kind} retries forever; \`maxRetries\` is not rendered.`);
      }
    }

    // Dependencies.
    const wait = k8s.waitForDependencies ?? defaultWait;
    const deps = Object.entries(s.dependsOn);
    if (deps.length > 0 && !wait) {
      warn(
        "dependsOn",
        "Kubernetes starts pods in any order and waiting is off (`waitForDependencies = false`): `dependsOn` is not enforced.",
      );
    }
    for (const [dep, condition] of wait ? deps : []) {
      const t = d.services[dep];
      if (!t || !names.has(dep)) continue;
      const tKind = workloadKindOf(t, d, awaited);
      if (condition === "completed" || tKind === "Job") {
        warn(
          `dependsOn.${dep}`,
          `A pod cannot wait for the Job \`${dep}\` to complete without API access; the pods of \`${svcName}\` start at once (make it retry, e.g. \`restart = "on-failure"\`).`,
        );
        continue;
      }
      const hcPort =
        t.healthcheck && t.healthcheck.type !== "exec" ? t.healthcheck.port : undefined;
      const portKey = hcPort ?? Object.keys(t.ports)[0];
      const port = portKey === undefined ? undefined : t.ports[portKey];
      if (!port) {
        warn(
          `dependsOn.${dep}`,
          `\`${dep}\` has no port to wait for; the pods of \`${svcName}\` start without waiting.`,
        );
        continue;
      }
      const url =
        t.healthcheck?.type === "http" && condition === "healthy"
          ? `${t.healthcheck.scheme}://${fqdn(dep)}:${port.port}${t.healthcheck.path}`
          : "";
      initContainers.push(
        waitContainerFor({
          name: `wait-${names.get(dep)}`.slice(0, 63),
          image: waitImage,
          command: waitCommand,
          host: fqdn(dep),
          port: port.port,
          url,
        }),
      );
    }

    // The container.
    const argv = [...s.command.map((c) => res(c, "command")), ...s.args.map((a) => res(a, "args"))];
    const container: Container = { name: objName, image };
    if (s.preStart) {
      if (s.command.length === 0) {
        error(
          "preStart",
          "`preStart` needs `command` on Kubernetes: the image's entrypoint is not known to render-k8s.",
        );
      } else {
        container.command = [
          "/bin/sh",
          "-ec",
          PRESTART_SCRIPT,
          "sh",
          res(s.preStart, "preStart"),
          ...argv,
        ];
      }
    } else if (s.command.length > 0) {
      container.command = s.command.map((c) => res(c, "command"));
      if (s.args.length > 0) container.args = s.args.map((a) => res(a, "args"));
    } else if (s.args.length > 0) {
      container.args = s.args.map((a) => res(a, "args"));
    }
    if (s.workingDir !== null) container.workingDir = res(s.workingDir, "workingDir");
    if (env.length > 0) container.env = env;
    if (ports.length > 0) {
      container.ports = ports.map((p) => ({
        name: p.name,
        containerPort: p.port,
        protocol: protocol(p),
      }));
    }
    if (mounts.length > 0) container.volumeMounts = mounts;
    if (resources) container.resources = resources;
    Object.assign(container, probes);
    if (lifecycle) container.lifecycle = lifecycle;
    for (const c of initContainers) if (c.image === image && env.length > 0 && !c.env) c.env = env;

    const pod = {} as PodSpec;
    if (jobSpec) pod.restartPolicy = jobSpec.restartPolicy;
    pod.terminationGracePeriodSeconds = Math.ceil(s.stop.gracePeriod);
    if (podSecurity) pod.securityContext = podSecurity;
    if (initContainers.length > 0) pod.initContainers = initContainers.map(forKubelet);
    pod.containers = [forKubelet(container)];
    if (volumes.length > 0) pod.volumes = volumes;
    const template: PodTemplateSpec = {
      metadata: {
        labels: { ...labels },
        ...(Object.keys(podAnnotations).length > 0 ? { annotations: podAnnotations } : {}),
      },
      spec: pod,
    };

    // Services: ClusterIP for every port, and one for the exposed ports.
    const exposeAs = k8s.exposeAs ?? defaultExpose;
    if (ports.length > 0 || kind === "StatefulSet") {
      const spec: Service["spec"] = { selector: { ...selector } };
      if (ports.length > 0) {
        spec.type = "ClusterIP";
        spec.ports = ports.map((p) => ({
          name: p.name,
          port: p.port,
          targetPort: p.name,
          protocol: protocol(p),
        }));
      } else {
        spec.clusterIP = "None";
      }
      mine.push({ apiVersion: "v1", kind: "Service", metadata: meta(objName), spec });
    }
    const exposed = ports.filter((p) => p.expose || p.hostPort !== null);
    if (exposed.length > 0) {
      const svcPorts: K8sServicePort[] = exposed.map((p) => {
        const out: K8sServicePort = {
          name: p.name,
          port: p.port,
          targetPort: p.name,
          protocol: protocol(p),
        };
        if (p.hostPort !== null) {
          if (exposeAs === "LoadBalancer") out.port = p.hostPort;
          else if (p.hostPort >= 30000 && p.hostPort <= 32767) out.nodePort = p.hostPort;
          else {
            warn(
              `ports.${p.key}.hostPort`,
              `A NodePort must be in 30000-32767; hostPort ${p.hostPort} is not rendered and Kubernetes picks one (or set \`renderers.k8s.exposeAs = "LoadBalancer"\`).`,
            );
          }
        }
        return out;
      });
      mine.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: meta(`${objName}-public`),
        spec: { type: exposeAs, selector: { ...selector }, ports: svcPorts },
      });
    }

    // The workload.
    if (kind === "Job") {
      mine.push({
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: meta(objName),
        spec: {
          ...(s.replicas !== 1 ? { completions: s.replicas, parallelism: s.replicas } : {}),
          backoffLimit: jobSpec?.backoffLimit ?? 0,
          template,
        },
      });
      if (claimTemplates.length > 0)
        throw new Error("unreachable: claim templates outside a StatefulSet");
    } else if (kind === "StatefulSet") {
      mine.push({
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: meta(objName),
        spec: {
          serviceName: objName,
          replicas: s.replicas,
          selector: { matchLabels: { ...selector } },
          template,
          ...(claimTemplates.length > 0 ? { volumeClaimTemplates: claimTemplates } : {}),
        },
      });
    } else {
      mine.push({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: meta(objName),
        spec: {
          replicas: s.replicas,
          selector: { matchLabels: { ...selector } },
          // A ReadWriteOnce claim cannot be mounted by the old and the new pod at once.
          ...(Object.values(s.volumes).some((v) => v.persistent)
            ? { strategy: { type: "Recreate" } }
            : {}),
          template,
        },
      });
    }

    // Per-service override, by kind (`Service`) or by kind and name (`Service/api-public`).
    for (const [key, patch] of Object.entries(k8s.override)) {
      const [overrideKind, overrideName] = key.split("/", 2);
      const matches = (o: GeneratedObject) =>
        o.kind === overrideKind &&
        (overrideName === undefined || o.metadata?.name === overrideName);
      if (!mine.some(matches)) {
        warn(
          `renderers.k8s.override.${key}`,
          `\`${svcName}\` has no ${key}; this override is not used.`,
        );
      }
      for (let i = 0; i < mine.length; i++) {
        const o = mine[i] as GeneratedObject;
        if (matches(o)) mine[i] = deepMerge(o, patch);
      }
    }
    for (const object of mine) objects.push({ service: svcName, object });
  }

  const rank = (kind: string) => {
    const i = KIND_ORDER.indexOf(kind);
    return i < 0 ? KIND_ORDER.length : i;
  };
  const sorted = objects
    .map((o, i) => ({ ...o, i }))
    .sort((a, b) => rank(a.object.kind) - rank(b.object.kind) || a.i - b.i)
    .map((o) => o.object);

  // Deployment-wide overrides: by kind, then by kind/name.
  const out: Array<GeneratedObject | KubernetesObject> = sorted;
  for (const [key, patch] of Object.entries(dr.override)) {
    const [kind, name] = key.split("/", 2);
    let used = false;
    for (let i = 0; i < out.length; i++) {
      const o = out[i] as GeneratedObject;
      if (o.kind === kind && (name === undefined || o.metadata?.name === name)) {
        out[i] = deepMerge(o, patch);
        used = true;
      }
    }
    if (!used)
      report(
        "warning",
        `renderers.k8s.override.${key}`,
        `No rendered object matches \`${key}\`; this override is not used.`,
      );
  }

  dr.manifests.forEach((m, i) => {
    const o = m as Partial<KubernetesObject> | null;
    if (
      typeof o !== "object" ||
      o === null ||
      typeof o.apiVersion !== "string" ||
      typeof o.kind !== "string" ||
      typeof o.metadata?.name !== "string"
    ) {
      report(
        "error",
        `renderers.k8s.manifests`,
        `Manifest ${i} needs \`apiVersion\`, \`kind\` and \`metadata.name\`; it is not rendered.`,
      );
      return;
    }
    // The deployment's labels, so that manage-kubectl applies and prunes it with the rest.
    out.push(
      deepMerge(o as KubernetesObject, {
        metadata: { labels: { [LABELS.partOf]: partOf, [LABELS.managedBy]: MANAGED_BY } },
      }),
    );
  });
  return { objects: out, diagnostics, namespace };
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
  const out: Container = { ...c };
  if (c.command) out.command = c.command.map(kubeletLiteral);
  if (c.args) out.args = c.args.map(kubeletLiteral);
  if (c.env) {
    out.env = c.env.map((e) =>
      e.value === undefined ? e : { ...e, value: kubeletLiteral(e.value) },
    );
  }
  return out;
}
