/**
 * @nix2dream/modules — the NixOS module system (options, types, priorities, a lazy fixed
 * point) for TypeScript. See README.md for a worked example.
 */
export { ModuleError, type ModuleErrorCode } from "./errors.js";
export {
  type EvalModulesArgs,
  type EvaluatedModules,
  type ExtendModulesArgs,
  evalModules,
  nameOnlyModule,
  OptionInfo,
} from "./eval.js";
export {
  type AttrWithPrio,
  assertionsModule,
  checkAssertions,
  type DoRenameArgs,
  doRename,
  mergeAttrDefinitionsWithPrio,
  mkAliasOptionModule,
  mkRemovedOptionModule,
  mkRenamedOptionModule,
} from "./extras.js";
export { type ForceDeepOptions, forceDeep } from "./force.js";
export {
  type ConfigProperty,
  defineModule,
  type Module,
  type ModuleArgs,
  type ModuleObject,
} from "./module.js";
export {
  type DefinitionOf,
  defineOptions,
  type InferOptions,
  type MkOptionArgs,
  mkOption,
  type OptionDeclaration,
  type OptionsTree,
} from "./option.js";
export {
  type LiteralExpression,
  type MkPackageOptionArgs,
  mkPackageOption,
} from "./package.js";
export {
  type Definable,
  mkAfter,
  mkBefore,
  mkDefault,
  mkForce,
  mkIf,
  mkMerge,
  mkOptionDefault,
  mkOrder,
  mkOverride,
} from "./props.js";
export { type OptionDoc, optionsDocs, optionsJsonSchema } from "./schema.js";
export {
  type Definition,
  fromZod,
  mkOptionType,
  type OptionType,
  type OptionTypeSpec,
  type PackageValue,
  type SubmoduleInstance,
  type SubmoduleWithSpec,
  types,
} from "./types.js";
