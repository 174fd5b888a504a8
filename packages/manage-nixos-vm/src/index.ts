/**
 * `@nix2dream/manage-nixos-vm`: builds the NixOS VM of a nix2dream deployment (the render of
 * `@nix2dream/render-nixos-vm`) with Nix and runs it in the background.
 */

export type { VmManifest } from "@nix2dream/render-nixos-vm";
export {
  default,
  flakesEnabled,
  NixosVmError,
  type NixosVmManagerOptions,
  nixosVm,
  nixosVmManager,
  readManifest,
  STATE_FILES,
} from "./manager.js";
