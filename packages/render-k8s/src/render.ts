/**
 * The Kubernetes renderer's core: an evaluated deployment in, typed Kubernetes objects and
 * diagnostics out (`renderObjects`), then files (`manifestFiles`). Pure and deterministic. Each
 * service's objects are composed from one function per aspect (`workload.ts`, `pod.ts`).
 */
import type { Diagnostic, EvaluatedDeployment, EvaluatedService } from "@nix2dream/core";
import type { Deployment, StatefulSet } from "kubernetes-types/apps/v1.js";
import type { Job } from "kubernetes-types/batch/v1.js";
import type {
  ConfigMap,
  Namespace,
  PersistentVolumeClaim,
  Secret,
  Service,
} from "kubernetes-types/core/v1.js";
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import { LABELS, MANAGED_BY, namespaceFor } from "./builders.js";
import {
  awaitedServices,
  type K8sOptions,
  type RenderContext,
  type Report,
  renderContextFor,
  reporterFor,
  serviceContextFor,
} from "./context.js";
import { strategicMerge } from "./merge.js";
import type { WorkloadKind } from "./options.js";
import { serviceObjects } from "./workload.js";

export type { K8sOptions } from "./context.js";
export { VOLUME_SCRIPT } from "./pod.js";
export { kubeletLiteral, PRESTART_SCRIPT } from "./workload.js";

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
  const { items, diagnostics, namespace } = renderEach(deployment, opts, (o) => o);
  return { objects: items, diagnostics, namespace };
}

/**
 * {@link renderObjects} with `each` applied to every object as soon as the object is final: when
 * no deployment-wide override can change it, right after it is made (so `each` is called in the
 * order objects are made, not in output order), so that a caller keeping only what `each` returns
 * (a file's text) does not keep every object of thousands of services alive to the end. `items`
 * are in output order either way.
 */
export function renderEach<T>(
  deployment: EvaluatedDeployment,
  opts: K8sOptions,
  each: (o: GeneratedObject | KubernetesObject) => T,
): { items: T[]; diagnostics: Diagnostic[]; namespace: string } {
  const diagnostics: Diagnostic[] = [];
  const report = reporterFor(deployment, diagnostics);
  const ctx = renderContextFor(deployment, opts, report);
  const now = Object.keys(ctx.options.override).length === 0;
  // One list per kind, filled in order: a stable sort by kind with no comparisons.
  const byKind = KIND_ORDER.map((): Array<GeneratedObject | T> => []);
  const other: Array<GeneratedObject | T> = [];
  const add = (object: GeneratedObject) => {
    const i = KIND_ORDER.indexOf(object.kind);
    (i < 0 ? other : (byKind[i] as Array<GeneratedObject | T>)).push(now ? each(object) : object);
  };
  if (ctx.createNamespace) add(namespaceFor(deployment.name, ctx.namespace));
  const kindOf = (name: string) =>
    workloadKindOf(deployment.services[name] as EvaluatedService, deployment, ctx.awaited);
  for (const [name, objName] of ctx.names) {
    const sc = serviceContextFor(ctx, name, objName, kindOf(name));
    for (const object of serviceObjects(sc, kindOf)) add(object);
    diagnostics.push(...sc.diagnostics);
  }
  const ordered = byKind.flat().concat(other);
  const items = now
    ? (ordered as T[])
    : withDeploymentOverrides(ctx, ordered as GeneratedObject[], report).map(each);
  for (const m of extraManifests(ctx, report)) items.push(each(m));
  return { items, diagnostics, namespace: ctx.namespace };
}

/** `objects` with the deployment-wide overrides applied: by kind, then by kind/name. */
function withDeploymentOverrides(
  ctx: RenderContext,
  objects: GeneratedObject[],
  report: Report,
): Array<GeneratedObject | KubernetesObject> {
  const out: Array<GeneratedObject | KubernetesObject> = objects;
  for (const [key, patch] of Object.entries(ctx.options.override)) {
    const [kind, name] = key.split("/", 2);
    let used = false;
    for (let i = 0; i < out.length; i++) {
      const o = out[i] as GeneratedObject;
      if (o.kind === kind && (name === undefined || o.metadata?.name === name)) {
        out[i] = strategicMerge(o, patch);
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
  return out;
}

/** The extra manifests of `renderers.k8s.manifests`, labelled as part of the deployment. */
function extraManifests(ctx: RenderContext, report: Report): KubernetesObject[] {
  const out: KubernetesObject[] = [];
  ctx.options.manifests.forEach((m, i) => {
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
      strategicMerge(o as KubernetesObject, {
        metadata: { labels: { [LABELS.partOf]: ctx.partOf, [LABELS.managedBy]: MANAGED_BY } },
      }),
    );
  });
  return out;
}
