/** The options render-nixos-vm adds: `services.<svc>.renderers.nixos-vm.*` and `renderers.nixos-vm.*`. */
import { defineModule, mkOption, types } from "@nix2dream/modules";
import {
  type NixosDeploymentOptions,
  type NixosServiceOptions,
  nixosDeploymentModule,
  nixosServiceModule,
} from "@nix2dream/render-nixos";

/** Deployment-wide options (`renderers.nixos-vm`): the VM, the nixpkgs input, and the module's own options. */
export interface NixosVmDeploymentOptions extends NixosDeploymentOptions {
  /** Flake URL of nixpkgs (`inputs.nixpkgs.url`). */
  nixpkgs: string;
  /** Pin nixpkgs to this commit (flake URL and default.nix's tarball); null: follow `nixpkgs`. */
  nixpkgsRev: string | null;
  /** sha256 of the pinned nixpkgs tarball for default.nix (`nix-prefetch-url --unpack`); null: unchecked. */
  nixpkgsSha256: string | null;
  /** Nix system of the machine, e.g. `x86_64-linux`. */
  system: string;
  /** `system.stateVersion` of the machine. */
  stateVersion: string;
  /** VM memory in MiB (`virtualisation.memorySize`). */
  memory: number;
  /** VM CPU cores (`virtualisation.cores`). */
  cores: number;
  /** VM disk size in MiB (`virtualisation.diskSize`). */
  diskSize: number;
  /** Name of the VM's test user (wheel, auto-login on the console). */
  user: string;
  /** Initial password of the test user; the VM only, not a deployment secret. */
  password: string;
  /** Host port forwarded to the VM's ssh (22); null: no ssh. */
  sshPort: number | null;
  /** Deep-merged (like `lib.recursiveUpdate`) into the machine's `configuration.nix`. */
  configuration: Record<string, unknown>;
}

declare module "@nix2dream/core" {
  interface ServiceRenderers {
    "nixos-vm": NixosServiceOptions;
  }
  interface DeploymentRenderers {
    "nixos-vm": NixosVmDeploymentOptions;
  }
}

/** Defaults of the deployment-wide options. */
export const VM_DEFAULTS: Omit<NixosVmDeploymentOptions, keyof NixosDeploymentOptions> = {
  nixpkgs: "github:NixOS/nixpkgs/nixos-24.11",
  nixpkgsRev: null,
  nixpkgsSha256: null,
  system: "x86_64-linux",
  stateVersion: "24.11",
  memory: 2048,
  cores: 2,
  diskSize: 4096,
  user: "tester",
  password: "nix2dream",
  sshPort: 2222,
  configuration: {},
};

/** The per-service options: the same as render-nixos's, at `services.<svc>.renderers.nixos-vm`. */
export const nixosVmServiceModule = nixosServiceModule;

/**
 * The deployment-wide option module, mounted at `renderers.nixos-vm`, with `defaults` (the
 * renderer's options) as the options' defaults.
 */
export function nixosVmDeploymentModuleWith(defaults: Partial<typeof VM_DEFAULTS> = {}) {
  const d = { ...VM_DEFAULTS, ...defaults };
  return defineModule(import.meta.url, {
    imports: [nixosDeploymentModule],
    options: {
      nixpkgs: mkOption({
        type: types.str,
        default: d.nixpkgs,
        description: "Flake URL of the nixpkgs input (`inputs.nixpkgs.url`).",
      }),
      nixpkgsRev: mkOption({
        type: types.nullOr(types.str),
        default: d.nixpkgsRev,
        description:
          "Pin nixpkgs to this commit, in flake.nix and in default.nix (a GitHub tarball); null: follow `nixpkgs` (and `<nixpkgs>` for default.nix).",
      }),
      nixpkgsSha256: mkOption({
        type: types.nullOr(types.str),
        default: d.nixpkgsSha256,
        description:
          "sha256 of the pinned nixpkgs tarball for default.nix (`nix-prefetch-url --unpack <url>`); null: not checked.",
      }),
      system: mkOption({
        type: types.str,
        default: d.system,
        description: "Nix system of the machine.",
      }),
      stateVersion: mkOption({
        type: types.str,
        default: d.stateVersion,
        description: "`system.stateVersion` of the machine.",
      }),
      memory: mkOption({
        type: types.ints.positive,
        default: d.memory,
        description: "VM memory in MiB (`virtualisation.memorySize`).",
      }),
      cores: mkOption({
        type: types.ints.positive,
        default: d.cores,
        description: "VM CPU cores (`virtualisation.cores`).",
      }),
      diskSize: mkOption({
        type: types.ints.positive,
        default: d.diskSize,
        description: "VM disk size in MiB (`virtualisation.diskSize`).",
      }),
      user: mkOption({
        type: types.str,
        default: d.user,
        description: "Test user of the VM: in `wheel`, logged in on the console.",
      }),
      password: mkOption({
        type: types.str,
        default: d.password,
        description: "Initial password of the test user (the throwaway VM only).",
      }),
      sshPort: mkOption({
        type: types.nullOr(types.port),
        default: d.sshPort,
        description: "Host port forwarded to the VM's ssh; null: no ssh server.",
      }),
      configuration: mkOption({
        type: types.attrsOf(types.anything),
        default: {},
        description:
          "Deep-merged like `lib.recursiveUpdate` into the machine's configuration.nix; `nixExpr()` values are written as Nix code.",
      }),
    },
  });
}

/** The deployment-wide option module with the built-in defaults. */
export const nixosVmDeploymentModule = nixosVmDeploymentModuleWith();
