/**
 * `@nix2dream/render-nixos-vm`: a nix2dream deployment as a flake (and a non-flake default.nix)
 * with a NixOS machine that runs it and its VM (`virtualisation.vmVariant`).
 */
import { defineRenderer, type EvaluatedDeployment, type Renderer } from "@nix2dream/core";
import type { NixosServiceOptions } from "@nix2dream/render-nixos";
import { nixosVmDeploymentModuleWith, nixosVmServiceModule } from "./options.js";
import { type NixosVmOptions, renderNixosVm as nixosVmFiles } from "./render.js";

/** `services.<svc>.renderers.nixos-vm`: the same per-service options as render-nixos's. */
export type NixosVmServiceOptions = NixosServiceOptions;

export {
  type NixosVmDeploymentOptions,
  nixosVmDeploymentModule,
  nixosVmDeploymentModuleWith,
  nixosVmServiceModule,
  VM_DEFAULTS,
} from "./options.js";
export {
  type ForwardedPort,
  type NixosVmOptions,
  RENDERER,
  VM_MANIFEST,
  VM_MANIFEST_VERSION,
  type VmManifest,
  vmHostName,
} from "./render.js";

/** The renderer options that are defaults of `renderers.nixos-vm`. */
function defaultsOf(opts: NixosVmOptions) {
  const { restartSteps: _, ...rest } = opts;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}

/**
 * The NixOS VM renderer (`nixos-vm`). `render` writes `flake.nix`, `default.nix`,
 * `configuration.nix`, the deployment's module `nix2dream-<deployment>.nix` (the text
 * render-nixos generates) and `vm.json` for manage-nixos-vm; exposed ports are forwarded from the
 * host into the VM, and every option the target cannot express is a diagnostic.
 */
export default function nixosVm(opts: NixosVmOptions = {}): Renderer<"nixos-vm"> {
  return defineRenderer({
    name: "nixos-vm",
    serviceModule: nixosVmServiceModule,
    deploymentModule: nixosVmDeploymentModuleWith(defaultsOf(opts)),
    render: (deployment: EvaluatedDeployment) => nixosVmFiles(deployment, opts),
  });
}

export { nixosVm };

/**
 * The files of the VM render of `deployment`.
 * @deprecated Use `nixosVm(opts).render(deployment)` (the same files); this name goes in the
 * next minor, as every `render<Target>` function (one naming scheme, ARCHITECTURE.md).
 */
export const renderNixosVm: typeof nixosVmFiles = nixosVmFiles;
