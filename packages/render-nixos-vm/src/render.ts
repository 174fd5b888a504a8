/**
 * The VM render: the deployment's NixOS module (from render-nixos), a machine configuration with
 * `virtualisation.vmVariant`, a flake and a non-flake entry, and `vm.json` for manage-nixos-vm.
 * {@link renderNixosVm} composes one function per file (`nix-files.ts`) over a `VmContext`.
 */
import type { Artifact, Diagnostic, EvaluatedDeployment, RenderResult } from "@nix2dream/core";
import { nixosModuleFor } from "@nix2dream/render-nixos";
import {
  type ForwardedPort,
  forwardedPortsOf,
  type NixosVmOptions,
  RENDERER,
  type VmContext,
  vmContextFor,
} from "./context.js";
import { configurationNixOf, defaultNixOf, flakeNixOf } from "./nix-files.js";

export { type ForwardedPort, type NixosVmOptions, RENDERER, vmHostName } from "./context.js";

/** The manifest manage-nixos-vm reads. */
export const VM_MANIFEST = "vm.json";
/** Version of {@link VmManifest}. */
export const VM_MANIFEST_VERSION = 1;

/** What manage-nixos-vm needs to build, start and describe the VM (`vm.json`). */
export interface VmManifest {
  version: typeof VM_MANIFEST_VERSION;
  deployment: string;
  hostName: string;
  system: string;
  /** Flake output to build: `nixosConfigurations.<deployment>.config.system.build.vm`. */
  flakeAttr: string;
  /** Attribute of default.nix to build with nix-build: `<deployment>-vm`. */
  nixAttr: string;
  /** The VM's start script inside the build result: `bin/run-<hostName>-vm`. */
  runScript: string;
  user: string;
  sshPort: number | null;
  forwardedPorts: ForwardedPort[];
}

/** Renders the VM artifacts. Pure. */
export function renderNixosVm(d: EvaluatedDeployment, opts: NixosVmOptions = {}): RenderResult {
  const module = nixosModuleFor(d, {
    rendererName: RENDERER,
    hostPortsForwarded: true,
    restartSteps: opts.restartSteps ?? true,
  });
  const diagnostics: Diagnostic[] = [...module.diagnostics];
  const ctx = vmContextFor(d, opts, module.fileName, diagnostics);
  const forwardedPorts = forwardedPortsOf(ctx);
  const artifacts: Artifact[] = [
    { path: "configuration.nix", content: configurationNixOf(ctx, forwardedPorts) },
    { path: "flake.nix", content: flakeNixOf(ctx) },
    { path: "default.nix", content: defaultNixOf(ctx) },
    { path: module.fileName, content: module.source },
    { path: VM_MANIFEST, content: `${JSON.stringify(manifestOf(ctx, forwardedPorts), null, 2)}\n` },
  ];
  artifacts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { artifacts, diagnostics };
}

/** `vm.json`: what to build and run, the test user, and the forwarded ports. */
function manifestOf(ctx: VmContext, forwardedPorts: ForwardedPort[]): VmManifest {
  return {
    version: VM_MANIFEST_VERSION,
    deployment: ctx.dep,
    hostName: ctx.hostName,
    system: ctx.o.system,
    flakeAttr: `nixosConfigurations.${ctx.key}.config.system.build.vm`,
    nixAttr: ctx.vmName,
    runScript: ctx.runScript,
    user: ctx.o.user,
    sshPort: ctx.o.sshPort,
    forwardedPorts,
  };
}
