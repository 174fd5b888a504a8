/**
 * nix2dream: define services once as typed modules; render and run them anywhere.
 * This entry is what `nix2dream.config.ts` imports — `defineDeployment`, `ref`, the core types,
 * the module-system helpers — and the programmatic API of the CLI.
 */

// Everything of core (types, `ref`, `defineRenderer`, ...), at runtime and in the types alike:
// `export type *` would be bundled into the .d.ts as a plain `export *`, promising values that
// index.js does not have.
export * from "@nix2dream/core";
export {
  defineModule,
  mkAfter,
  mkBefore,
  mkDefault,
  mkForce,
  mkIf,
  mkMerge,
  mkOption,
  mkOptionDefault,
  mkOrder,
  mkOverride,
  types,
} from "@nix2dream/modules";
export {
  CONFIG_NAMES,
  configCacheDir,
  findConfigFile,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
} from "./config.js";
export { defineDeployment } from "./define.js";
export { UserError, type UserErrorCode } from "./errors.js";
export { type CliIO, runCli } from "./main.js";
export {
  checkArtifactPaths,
  checkHostFiles,
  MANIFEST_FILE,
  type Manifest,
  type ManifestEntry,
  readHostFiles,
  readManifest,
  type WriteOptions,
  type WriteResult,
  writeArtifacts,
} from "./write.js";
