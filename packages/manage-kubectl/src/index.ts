/**
 * `@nix2dream/manage-kubectl`: apply, diff, delete, watch and read the logs of a render-k8s
 * render on a Kubernetes cluster, with kubectl and the current kubeconfig.
 */
export {
  isNoCluster,
  KubectlError,
  type KubectlInvocation,
  type KubectlRun,
  runKubectl,
} from "./kubectl.js";
export {
  default,
  deploymentSelector,
  FIELD_MANAGER,
  type KubectlManagerConfig,
  type KubectlManagerOptions,
  type KubectlManagerSettings,
  kubectl,
  kubectlManager,
  kubectlManagerModule,
  type RenderedObject,
  readRender,
  resourceOf,
  type WorkloadStatus,
} from "./manager.js";
