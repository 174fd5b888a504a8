/**
 * The options render-k8s adds: `services.<svc>.renderers.k8s.*` (per service) and
 * `renderers.k8s.*` (deployment-wide), declared as modules and typed by declaration merging.
 */
import { defineModule, mkOption, types } from "@nix2dream/modules";

/** A Kubernetes workload kind a service can be rendered as. */
export type WorkloadKind = "Deployment" | "StatefulSet" | "Job";
/** How a service with exposed ports is published beyond the cluster. */
export type ExposeAs = "NodePort" | "LoadBalancer";

/** Where one secret variable comes from in the cluster. */
export interface K8sSecretOptions {
  /** Name of the Secret; null: the deployment's default (`<deployment>-secrets`, or `defaultSecretName`). */
  name: string | null;
  /** Key in the Secret; null: the variable's own name. */
  key: string | null;
  /**
   * A value the user supplies explicitly: render-k8s then renders the Secret itself
   * (base64 in `data`, never in a ConfigMap or an env literal). null: the Secret is the user's.
   */
  value: string | null;
}

/** Per-service options: `services.<svc>.renderers.k8s.*`. */
export interface K8sServiceOptions {
  /** Workload kind; null: Job for one-shot services, StatefulSet with persistent volumes, else Deployment. */
  workload: WorkloadKind | null;
  /** Image of the container; null: `package.image`. */
  image: string | null;
  /** Service type for exposed ports; null: the deployment-wide `exposeAs`. */
  exposeAs: ExposeAs | null;
  /** Also use the healthcheck as a livenessProbe (restarts the container when it fails). */
  liveness: boolean;
  /** Wait for `dependsOn` with init containers; null: the deployment-wide `waitForDependencies`. */
  waitForDependencies: boolean | null;
  /** Deliver a non-TERM `stop.signal` with a preStop hook (`kill -s SIG 1`, needs `sh` in the image). */
  signalViaPreStop: boolean;
  /** Where each secret variable comes from, by variable name (variables of `services.<svc>.secrets`). */
  secrets: Record<string, K8sSecretOptions>;
  /** Deep-merged into this service's objects, by kind (`Deployment`, `Service`, ...) or kind and name (`Service/api-public`). */
  override: Record<string, unknown>;
}

/** Deployment-wide options: `renderers.k8s.*`. A null here falls back to the renderer's factory options. */
export interface K8sDeploymentOptions {
  /** Namespace of every object; null: the factory option, else the deployment's name. */
  namespace: string | null;
  /** Render the Namespace object; null: the factory option, else true. */
  createNamespace: boolean | null;
  /** Service type for exposed ports; null: the factory option, else NodePort. */
  exposeAs: ExposeAs | null;
  /** Wait for `dependsOn` with init containers; null: the factory option, else true. */
  waitForDependencies: boolean | null;
  /** Image of the wait init containers; null: the factory option, else `busybox:1.36`. */
  waitImage: string | null;
  /**
   * argv of the wait init containers; null: the factory option, else a `sh` loop with `nc -z`
   * (or `wget` for HTTP healthchecks). It sees `WAIT_HOST`, `WAIT_PORT` and `WAIT_URL`.
   */
  waitCommand: string[] | null;
  /** Name of the Secret that secret variables come from by default; null: `<deployment>-secrets`. */
  defaultSecretName: string | null;
  /** Deep-merged into every object of a kind (`Deployment`) or into one object (`Deployment/api`). */
  override: Record<string, unknown>;
  /** Further manifests rendered as they are (each needs `apiVersion`, `kind`, `metadata.name`). */
  manifests: unknown[];
}

declare module "@nix2dream/core" {
  interface ServiceRenderers {
    k8s: K8sServiceOptions;
  }
  interface DeploymentRenderers {
    k8s: K8sDeploymentOptions;
  }
}

const secretModule = defineModule(import.meta.url, {
  options: {
    name: mkOption({
      type: types.nullOr(types.str),
      default: null,
      description:
        "Name of the Secret holding the variable; null: `renderers.k8s.defaultSecretName`, else `<deployment>-secrets`.",
    }),
    key: mkOption({
      type: types.nullOr(types.str),
      default: null,
      description: "Key in the Secret; null: the variable's name.",
    }),
    value: mkOption({
      type: types.nullOr(types.str),
      default: null,
      description:
        "A value supplied explicitly: render-k8s renders the Secret `<deployment>-<svc>-secrets` holding it (base64). Keep such renders out of version control.",
    }),
  },
});

/** The per-service option module (`services.<svc>.renderers.k8s`). */
export const k8sServiceModule = defineModule(import.meta.url, {
  options: {
    workload: mkOption({
      type: types.nullOr(types.enum(["Deployment", "StatefulSet", "Job"] as const)),
      default: null,
      description:
        'Workload kind; null: a Job for one-shot services (`restart = "no"` or another service waits for it with `completed`), a StatefulSet with persistent volumes, else a Deployment.',
    }),
    image: mkOption({
      type: types.nullOr(types.str),
      default: null,
      description: "Container image; null: `package.image`.",
    }),
    exposeAs: mkOption({
      type: types.nullOr(types.enum(["NodePort", "LoadBalancer"] as const)),
      default: null,
      description: "Service type publishing the exposed ports; null: `renderers.k8s.exposeAs`.",
    }),
    liveness: mkOption({
      type: types.bool,
      default: false,
      description: "Also use the healthcheck as livenessProbe (restart when it fails).",
    }),
    waitForDependencies: mkOption({
      type: types.nullOr(types.bool),
      default: null,
      description:
        "Init containers wait for `dependsOn`; null: `renderers.k8s.waitForDependencies`.",
    }),
    signalViaPreStop: mkOption({
      type: types.bool,
      default: true,
      description:
        "Deliver a `stop.signal` other than SIGTERM with a preStop hook `kill -s SIG 1` (needs `sh` and `kill` in the image).",
    }),
    secrets: mkOption({
      type: types.attrsOf(types.submodule(secretModule)),
      default: {},
      description:
        "Where each secret variable comes from: `{ name, key }` of a Secret, or an explicit `value`.",
    }),
    override: mkOption({
      type: types.attrsOf(types.anything),
      default: {},
      description:
        'Deep-merged into this service\'s objects, by kind (`{ Deployment: { spec: { ... } } }`) or by kind and name (`"Service/api-public"`). `null` removes a field; lists of named items merge by `name`.',
    }),
  },
});

/** The deployment-wide option module (`renderers.k8s`). */
export const k8sDeploymentModule = defineModule(import.meta.url, {
  options: {
    namespace: mkOption({
      type: types.nullOr(types.str),
      default: null,
      description:
        "Namespace of every object; null: the renderer's `namespace`, else the deployment's name.",
    }),
    createNamespace: mkOption({
      type: types.nullOr(types.bool),
      default: null,
      description: "Render the Namespace object; null: the renderer's option, else true.",
    }),
    exposeAs: mkOption({
      type: types.nullOr(types.enum(["NodePort", "LoadBalancer"] as const)),
      default: null,
      description: "Service type for exposed ports; null: the renderer's option, else NodePort.",
    }),
    waitForDependencies: mkOption({
      type: types.nullOr(types.bool),
      default: null,
      description: "Init containers wait for `dependsOn`; null: the renderer's option, else true.",
    }),
    waitImage: mkOption({
      type: types.nullOr(types.str),
      default: null,
      description:
        "Image of the wait init containers; null: the renderer's option, else busybox:1.36.",
    }),
    waitCommand: mkOption({
      type: types.nullOr(types.listOf(types.str)),
      default: null,
      description:
        "argv of the wait init containers, given WAIT_HOST, WAIT_PORT, WAIT_URL; null: a sh loop over nc -z (wget for HTTP healthchecks).",
    }),
    defaultSecretName: mkOption({
      type: types.nullOr(types.str),
      default: null,
      description:
        "Secret that secret variables come from by default; null: `<deployment>-secrets`.",
    }),
    override: mkOption({
      type: types.attrsOf(types.anything),
      default: {},
      description:
        "Deep-merged into every object of a kind (`Deployment`) or into one object (`Deployment/api`).",
    }),
    manifests: mkOption({
      type: types.listOf(types.anything),
      default: [],
      description: "Further manifests, rendered as given (after the generated ones).",
    }),
  },
});
