/**
 * `evaluateDeployment`: the user's definition plus the modules of the renderers and managers
 * in use, through the module system, into the plain `EvaluatedDeployment` renderers receive.
 */
import { dirname, resolve } from "node:path";
import {
  assertionsModule,
  checkAssertions,
  evalModules,
  forceDeep,
  type Module,
  ModuleError,
  type SubmoduleInstance,
} from "@nix2dream/modules";
import { checkServices, serviceWarnings, throwProblems } from "./checks.js";
import type { Manager, Renderer } from "./contracts.js";
import { type DeploymentDefinition, isManager, isRenderer } from "./define.js";
import { attachDefinitionFiles, DefinitionIndex } from "./definition-files.js";
import type { EvaluatedDeployment, EvaluatedService } from "./deployment.js";
import { definitionFilesOf } from "./helpers.js";
import { type OptionsSink, trackedDeploymentModule } from "./options/deployment.js";

/** Where the definition comes from. */
export interface EvaluateOptions {
  /** The config file (`nix2dream.config.ts`); the definition's module file, named in messages. */
  file?: string;
  /** Directory `files.*.source` paths are relative to; default: the config file's directory. */
  root?: string;
}

/** What `evaluateDeployment` returns. */
export interface Evaluation {
  /** The plain, fully forced deployment renderers receive. */
  deployment: EvaluatedDeployment;
  /** The engine's options tree, for `optionsDocs` / `optionsJsonSchema`. */
  options: unknown;
  /** Renderers in use (from `use`), sorted by name. */
  renderers: Renderer[];
  /** Managers in use (from `use`), sorted by name. */
  managers: Manager[];
  /** Warnings from modules (`warnings`), to show the user. */
  warnings: string[];
}

/**
 * Keys of the evaluated deployment that evaluation computes (`warnings` also gathers the
 * modules' `warnings` option); a module declaring one of them at the top level is refused.
 */
const COMPUTED_DEPLOYMENT_KEYS = ["root", "definitionFiles"] as const;
/** Top-level options of `assertionsModule`, consumed by evaluation and not passed on. */
const CONSUMED_DEPLOYMENT_KEYS = new Set(["assertions", "warnings"]);

function splitPlugins(
  use: unknown[],
  file: string,
): { renderers: Renderer[]; managers: Manager[] } {
  const renderers = new Map<string, Renderer>();
  const managers = new Map<string, Manager>();
  use.forEach((plugin, i) => {
    const target = isRenderer(plugin) ? renderers : isManager(plugin) ? managers : undefined;
    if (!target) {
      throw new ModuleError(
        "INVALID_PLUGIN",
        `Entry ${i} of \`use\` in ${file} is neither a renderer (an object with \`name\` and \`render\`) nor a manager (an object with \`name\`, \`renderer\` and \`actions\`). Did you forget to call it, e.g. \`procfile()\`?`,
        { optionPath: "use", files: [file] },
      );
    }
    const p = plugin as Renderer | Manager;
    if (target.has(p.name)) {
      throw new ModuleError(
        "DUPLICATE_PLUGIN",
        `\`use\` in ${file} lists two ${target === renderers ? "renderers" : "managers"} named ${p.name}; list each once.`,
        { optionPath: "use", files: [file] },
      );
    }
    (target as Map<string, Renderer | Manager>).set(p.name, p);
  });
  const byName = <T extends { name: string }>(m: Map<string, T>) =>
    [...m.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { renderers: byName(renderers), managers: byName(managers) };
}

/**
 * Rewrites "used but not defined" for the user: which option to set, and where its enclosing
 * option is defined (the engine can only name the declaration).
 */
function explainUndefined(
  e: ModuleError,
  filesFor: (option: string) => string[],
  file: string,
): ModuleError {
  if (e.code !== "UNDEFINED_OPTION" || e.optionPath === undefined) return e;
  const path = e.optionPath;
  const parent = path.split(".").slice(0, -1).join(".");
  const files = parent ? filesFor(parent) : [file];
  if (files.length === 0) return e;
  const where = parent
    ? `set it beside the other definitions of \`${parent}\` in ${files.join(", ")}`
    : `set it in ${file}`;
  return new ModuleError(e.code, `The option \`${path}\` has no value and no default: ${where}.`, {
    optionPath: path,
    files,
    cause: e,
  });
}

function withFiles(e: ModuleError, filesFor: (option: string) => string[]): ModuleError {
  if (e.files.length > 0 || e.optionPath === undefined) return e;
  const files = filesFor(e.optionPath);
  if (files.length === 0) return e;
  const again = new ModuleError(e.code, `${e.message} Defined in ${files.join(", ")}.`, {
    optionPath: e.optionPath,
    files,
    cause: e,
  });
  return again;
}

/**
 * The deployment's top-level options (`name`, `renderers`, `managers` and any a module
 * declared), keys sorted, without the ones evaluation consumes or computes.
 */
function topLevelOptions(forced: Record<string, unknown>, file: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(forced).sort()) {
    if (CONSUMED_DEPLOYMENT_KEYS.has(key)) continue;
    if ((COMPUTED_DEPLOYMENT_KEYS as readonly string[]).includes(key)) {
      throw new ModuleError(
        "DECLARATION_CONFLICT",
        `A module used by ${file} declares the top-level option \`${key}\`, which the evaluated deployment computes itself (${COMPUTED_DEPLOYMENT_KEYS.join(", ")}); give the option another name or nest it under a name of its own.`,
        { optionPath: key, files: [file] },
      );
    }
    out[key] = forced[key];
  }
  return out;
}

/**
 * `service` as an object of V8's fast kind, sharing its hidden class with every other service of
 * the same keys. The deep copy has 20+ keys written by name, which turns each service into a
 * slow dictionary-mode object; every renderer reads every service, so the copy pays for itself.
 * `shapes` holds one empty object per key list to clone (a clone keeps the fast layout).
 */
function withSharedShape<T extends object>(service: T, shapes: Map<string, object>): T {
  const keys = Object.keys(service);
  const id = keys.join("\0");
  let shape = shapes.get(id);
  if (shape === undefined) {
    // An object literal parsed from JSON gets fast properties, in this order.
    if (keys.includes("__proto__")) return service;
    shape = JSON.parse(`{${keys.map((k) => `${JSON.stringify(k)}:null`).join(",")}}`) as object;
    shapes.set(id, shape);
  }
  const copy = { ...shape } as Record<string, unknown>;
  for (const k of keys) copy[k] = (service as Record<string, unknown>)[k];
  return copy as T;
}

/**
 * Evaluates a deployment definition: the core options, the options of every renderer and
 * manager in `use`, the definition itself (a module whose file is `opts.file`) and its
 * `modules`. Forces the whole config, runs the core checks and the modules' assertions, and
 * returns the plain deployment with enabled services only and every key sorted.
 * @throws ModuleError for every user mistake, with a `code`, the option path and the files.
 */
export function evaluateDeployment(
  definition: DeploymentDefinition,
  opts: EvaluateOptions = {},
): Evaluation {
  const file = opts.file ?? "<deployment definition>";
  const { use = [], modules = [], ...config } = definition;
  const { renderers, managers } = splitPlugins(use, file);

  // Read after the evaluation, by instance path (one tree per path: the last instance there).
  const nestedOptions = new Map<string, SubmoduleInstance>();
  // Joined with NUL, which no name holds: a service named `a.b` is not the `b` of service `a`.
  const sink: OptionsSink = (instance) => nestedOptions.set(instance.loc.join("\0"), instance);
  const userModule: Module = { file, key: `deployment:${file}`, imports: modules, config };
  const { config: lazy, options } = evalModules({
    modules: [trackedDeploymentModule(renderers, managers, sink), assertionsModule, userModule],
  });

  let forced: Record<string, unknown> & {
    name: string;
    services: Record<string, EvaluatedService>;
  };
  try {
    // Keys sorted in the same walk: output never depends on module order.
    forced = forceDeep(lazy, { sortKeys: true });
  } catch (e) {
    if (!(e instanceof ModuleError)) throw e;
    const definitionFiles = new DefinitionIndex(options, nestedOptions.values()).flat();
    const filesFor = (option: string) => definitionFilesOf({ definitionFiles }, option);
    if (e.errors && e.errors.length > 1) throw e;
    throw explainUndefined(withFiles(e, filesFor), filesFor, file);
  }
  const index = new DefinitionIndex(options, nestedOptions.values());
  nestedOptions.clear();
  // Only a check that fails reads the files (the whole record, built then).
  const filesFor = (option: string) => definitionFilesOf({ definitionFiles: index.flat() }, option);

  // Every option any module declared is passed on: the service as the module system made it.
  const all: Record<string, EvaluatedService> = forced.services;

  throwProblems(checkServices(all, filesFor));
  const warnings = [...serviceWarnings(all, filesFor), ...checkAssertions(lazy).warnings];

  const services: Record<string, EvaluatedService> = {};
  const shapes = new Map<string, object>();
  for (const name of Object.keys(all).sort()) {
    const s = all[name] as EvaluatedService;
    if (s.enable) services[name] = withSharedShape(s, shapes);
  }
  const root = opts.root ? resolve(opts.root) : opts.file ? dirname(resolve(opts.file)) : null;

  const deployment = { ...topLevelOptions(forced, file), services, root } as EvaluatedDeployment;
  attachDefinitionFiles(deployment, index);
  deployment.warnings = [...warnings];
  return { deployment, options, renderers, managers, warnings: [...warnings] };
}
