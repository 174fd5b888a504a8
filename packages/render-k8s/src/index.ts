/**
 * `@nix2dream/render-k8s`: a nix2dream deployment as Kubernetes manifests — a Deployment,
 * StatefulSet or Job per service, Services, ConfigMaps for files, Secrets only for values the
 * user supplies, claims, a Namespace — in one `all.yaml`, one file per object and a
 * `kustomization.yaml`.
 */
import {
  defineRenderer,
  type EvaluatedDeployment,
  type Renderer,
  type RenderResult,
} from "@nix2dream/core";
import { manifestDocument, manifestFilesOf } from "./files.js";
import { k8sDeploymentModule, k8sServiceModule } from "./options.js";
import { type K8sOptions, renderEach } from "./render.js";

export {
  cpuQuantity,
  DEFAULT_WAIT_IMAGE,
  dnsLabel,
  LABELS,
  labelsFor,
  MANAGED_BY,
  namespaceFor,
  type ProbeOptions,
  portName,
  probeSeconds,
  probesFor,
  resourcesFor,
  securityContextFor,
  selectorFor,
  serviceDnsName,
  WAIT_HTTP_SCRIPT,
  WAIT_TCP_SCRIPT,
  type WaitTarget,
  waitContainerFor,
} from "./builders.js";
export { ALL_FILE, KUSTOMIZATION_FILE, manifestFiles, toYaml, toYamlStream } from "./files.js";
export { deepMerge, strategicMerge } from "./merge.js";
export {
  type ExposeAs,
  type K8sDeploymentOptions,
  type K8sSecretOptions,
  type K8sServiceOptions,
  k8sDeploymentModule,
  k8sServiceModule,
  type WorkloadKind,
} from "./options.js";
export {
  type GeneratedObject,
  type K8sOptions,
  type K8sRender,
  type KubernetesObject,
  kubeletLiteral,
  PRESTART_SCRIPT,
  renderObjects,
  VOLUME_SCRIPT,
  workloadKindOf,
} from "./render.js";

/**
 * Renders `deployment` to files: `all.yaml` (every object), `<kind>-<name>.yaml` per object and
 * `kustomization.yaml`, with a diagnostic for every option Kubernetes cannot express. Pure; usable
 * without the CLI on the `deployment` of core's `evaluateDeployment`.
 * @deprecated Use `k8s(opts).render(deployment)` (the same result); this name goes in the next
 * minor, as every `render<Target>` function (one naming scheme, ARCHITECTURE.md).
 */
export function renderK8s(deployment: EvaluatedDeployment, opts: K8sOptions = {}): RenderResult {
  return k8sFiles(deployment, opts);
}

function k8sFiles(deployment: EvaluatedDeployment, opts: K8sOptions): RenderResult {
  // Each object is written as YAML when it is final; the objects themselves are not kept.
  const { items, diagnostics } = renderEach(deployment, opts, manifestDocument);
  return { artifacts: manifestFilesOf(items), diagnostics };
}

/**
 * The Kubernetes renderer, for `use: [k8s({ namespace: "shop" })]`. Adds
 * `services.<svc>.renderers.k8s.*` and `renderers.k8s.*` (which win over `opts`).
 */
export default function k8s(opts: K8sOptions = {}): Renderer<"k8s"> {
  return defineRenderer({
    name: "k8s",
    serviceModule: k8sServiceModule,
    deploymentModule: k8sDeploymentModule,
    render: (deployment: EvaluatedDeployment) => k8sFiles(deployment, opts),
  });
}

export { k8s };
