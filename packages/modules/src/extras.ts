import { ModuleError, showFiles, showPath } from "./errors.js";
import { ALIAS, REMOVED } from "./eval.js";
import { forceRaw, type Merged, mergeDefinitions, pushDownAttrs, type RawDef } from "./merge.js";
import type { Module, ModuleArgs, ModuleObject } from "./module.js";
import { type OptionInfo, RAW_DEFINITIONS } from "./nodes.js";
import { mkOption } from "./option.js";
import { mkIf, mkLocated, mkMerge, mkOverride } from "./props.js";
import { type Definition, makeType, types } from "./types.js";

/**
 * Declares `assertions` (a list of `{ assertion, message }`) and `warnings` (a list of
 * strings). Modules add to them; the caller runs {@link checkAssertions} on the config.
 */
export const assertionsModule: Module = {
  key: "@nix2dream/modules#assertions",
  file: "@nix2dream/modules/assertions",
  options: {
    assertions: mkOption({
      type: types.listOf(
        types.submodule({
          options: {
            assertion: mkOption({ type: types.bool, description: "What must be true." }),
            message: mkOption({ type: types.str, description: "Shown when `assertion` is false." }),
          },
        }),
      ),
      default: [],
      internal: true,
      description: "Conditions that must hold; each failed one's message is reported.",
    }),
    warnings: mkOption({
      type: types.listOf(types.str),
      default: [],
      internal: true,
      description: "Messages shown to the user after evaluation.",
    }),
  },
};

/**
 * Checks the `assertions` of a config evaluated with {@link assertionsModule}: throws one
 * `FAILED_ASSERTIONS` error listing every failed message, else returns the warnings.
 */
export function checkAssertions(config: unknown): { warnings: string[] } {
  if (typeof config !== "object" || config === null) {
    throw new ModuleError("INVALID_MODULE", "checkAssertions expects an evaluated config object.");
  }
  const c = config as {
    assertions?: { assertion: boolean; message: string }[];
    warnings?: string[];
  };
  const failed = (c.assertions ?? []).filter((a) => !a.assertion).map((a) => a.message);
  if (failed.length > 0) {
    throw new ModuleError(
      "FAILED_ASSERTIONS",
      `Failed assertions:\n${failed.map((m) => `- ${m}`).join("\n")}`,
      { files: [] },
    );
  }
  return { warnings: [...(c.warnings ?? [])] };
}

function setAttrByPath(path: readonly string[], leaf: PropertyDescriptor): Record<string, unknown> {
  if (path.length === 0) {
    throw new ModuleError("INVALID_MODULE", "An option path must have at least one element.");
  }
  const last = path[path.length - 1] as string;
  let obj: Record<string, unknown> = Object.defineProperty({}, last, {
    ...leaf,
    enumerable: true,
    configurable: true,
  });
  for (let i = path.length - 2; i >= 0; i--) obj = { [path[i] as string]: obj };
  return obj;
}

function getAttrByPath(obj: unknown, path: readonly string[]): unknown {
  let v = obj;
  for (const k of path) {
    if (typeof v !== "object" || v === null || !(k in v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

interface OptionView {
  isDefined: boolean;
  highestPrio: number;
  files: string[];
  definitionsWithLocations: Definition[];
}

/** Arguments of {@link doRename}, as NixOS' `lib.doRename`. */
export interface DoRenameArgs {
  /** The old option path. */
  from: string[];
  /** The option path its definitions go to. */
  to: string[];
  /** Whether the old option is shown in documentation. */
  visible: boolean;
  /** Whether a definition of the old option adds a warning (when `warnings` is declared). */
  warn: boolean;
  /** Applied to the value of `to` when the old option is read (default: the value as is). */
  use?: (value: unknown) => unknown;
  /** Whether the definitions keep their priority (default `true`); else they count as plain. */
  withPriority?: boolean;
  /**
   * Whether the renaming applies (default `true`); a thunk may read config. When false, the
   * old option's definitions go nowhere and add no warning.
   */
  condition?: boolean | (() => boolean);
}

/**
 * Declares `from` as an alias of `to` (NixOS `lib.doRename`): definitions of `from` become
 * definitions of `to` (with their priority unless `withPriority` is false), reading `from`
 * gives `use` of `to`'s value, and a warning is added when `warn`. With a `condition`, all of
 * that applies only while the condition holds (e.g. a legacy instance that exists only when
 * its old `enable` is set).
 */
export function doRename(args: DoRenameArgs): Module {
  const { from, to, warn, visible } = args;
  const use = args.use ?? ((v: unknown) => v);
  const withPriority = args.withPriority ?? true;
  const condition = args.condition ?? true;
  const aliasType = makeType<unknown>({
    name: "alias",
    description: `alias of \`${showPath(to)}\``,
    merge: () => undefined,
  });
  return ({ config, options }: ModuleArgs): ModuleObject => ({
    options: setAttrByPath(from, {
      value: Object.defineProperty(
        mkOption({
          type: aliasType,
          visible,
          description: `Alias of \`${showPath(to)}\`.`,
          apply: () => use(getAttrByPath(config, to)),
        }),
        ALIAS,
        { value: true, enumerable: false },
      ),
    }) as ModuleObject["options"],
    get config() {
      const fromOpt = getAttrByPath(options, from) as OptionView;
      const parts: unknown[] = [
        setAttrByPath(to, {
          get: () => {
            if (!fromOpt.isDefined) return mkMerge([]);
            const defs = mkMerge(
              fromOpt.definitionsWithLocations.map((d) => mkLocated(d.file, d.value)),
            );
            return withPriority ? mkOverride(fromOpt.highestPrio, defs) : defs;
          },
        }),
      ];
      if (warn && getAttrByPath(options, ["warnings"]) !== undefined) {
        parts.push({
          get warnings() {
            return mkIf(fromOpt.isDefined, [
              `The option \`${showPath(from)}\` defined in ${showFiles(fromOpt.files)} has been renamed to \`${showPath(to)}\`.`,
            ]);
          },
        });
      }
      return condition === true ? mkMerge(parts) : mkIf(condition, mkMerge(parts));
    },
  });
}

/**
 * Declares `from` as a renamed `to`: definitions of `from` go to `to` (with their priority),
 * reading `from` gives `to`'s value, and a warning is added to `warnings` when declared.
 */
export function mkRenamedOptionModule(from: string[], to: string[]): Module {
  return doRename({ from, to, warn: true, visible: false });
}

/** Like {@link mkRenamedOptionModule} but silent and documented: `from` is a permanent alias. */
export function mkAliasOptionModule(from: string[], to: string[]): Module {
  return doRename({ from, to, warn: false, visible: true });
}

/**
 * Declares `path` as removed (NixOS `mkRemovedOptionModule`): a definition of it is a failed
 * assertion (see {@link checkAssertions}; {@link assertionsModule} is imported) whose message
 * names the defining files and carries `replacementInstructions`; reading the option is a
 * `REMOVED_OPTION` error. Nothing else about the evaluation changes.
 */
export function mkRemovedOptionModule(path: string[], replacementInstructions: string): Module {
  const decl = mkOption({
    visible: false,
    type: types.raw,
    description: `Removed. ${replacementInstructions}`,
  });
  Object.defineProperty(decl, REMOVED, { value: replacementInstructions, enumerable: false });
  return ({ options }: ModuleArgs): ModuleObject => {
    const opt = () => getAttrByPath(options, path) as OptionView;
    return {
      imports: [assertionsModule],
      options: setAttrByPath(path, { value: decl }) as ModuleObject["options"],
      config: {
        assertions: [
          {
            get assertion() {
              return !opt().isDefined;
            },
            get message() {
              return `The option definition \`${showPath(path)}\` in ${showFiles(opt().files)} no longer has any effect; please remove it.\n${replacementInstructions}`;
            },
          },
        ],
      },
    };
  };
}

/** One attribute of {@link mergeAttrDefinitionsWithPrio}: its merged value and winning priority. */
export interface AttrWithPrio {
  readonly value: unknown;
  readonly highestPrio: number;
}

/**
 * The definitions of an `attrsOf`/`lazyAttrsOf` option merged attribute by attribute, each with
 * the priority that won for it (NixOS `lib.modules.mergeAttrDefinitionsWithPrio`), e.g. to carry
 * an attribute over to another option with the priority it was defined with. Lazy: an
 * attribute's definitions are read when its entry is, its value when `value` is.
 */
export function mergeAttrDefinitionsWithPrio(option: OptionInfo): Record<string, AttrWithPrio> {
  const type = option.type;
  const elem = type.nestedTypes?.elemType;
  if ((type.name !== "attrsOf" && type.name !== "lazyAttrsOf") || !elem) {
    throw new ModuleError(
      "INVALID_MODULE",
      `mergeAttrDefinitionsWithPrio needs an option of type attrsOf or lazyAttrsOf; \`${showPath(option.loc)}\` is ${type.description}.`,
      { optionPath: showPath(option.loc) },
    );
  }
  const byKey = new Map<string, RawDef[]>();
  for (const d of option[RAW_DEFINITIONS]) pushDownAttrs(forceRaw(d), d.file, byKey, option.loc);
  const out: Record<string, AttrWithPrio> = {};
  for (const [key, defs] of byKey) {
    let merged: Merged | undefined;
    const get = () => {
      merged ??= mergeDefinitions(option.loc.concat(key), elem, defs);
      return merged;
    };
    Object.defineProperty(out, key, {
      value: {
        get value() {
          return get().value();
        },
        get highestPrio() {
          return get().highestPrio;
        },
      },
      enumerable: true,
    });
  }
  return out;
}
