/**
 * A loaded project: the config, its evaluation, and where renders and state go.
 */
import { join, resolve } from "node:path";
import {
  type DeploymentDefinition,
  type EvaluatedDeployment,
  evaluateDeployment,
  type Manager,
  type ModuleError,
  type Renderer,
} from "@nix2dream/core";
import { optionsDocs } from "@nix2dream/modules";
import { displayPath, type LoadedConfig, loadConfig } from "./config.js";
import { isModuleError, shortenPaths, UserError } from "./errors.js";

/** Core's output checks on a render result, for the CLI (core loads with the project). */
export { checkedRenderResult } from "@nix2dream/core";
export { isModuleError, shortenPaths };

import { closest, closestOption } from "./suggest.js";

/**
 * An evaluated config and the directories derived from it. It does not keep the evaluation's
 * options tree: that tree holds every option node of every service (about 200 MiB at 5000
 * services) and only `nix2dream options` reads it ({@link loadOptions}); kept here, it stayed
 * alive through every render and write and raised the process's peak memory.
 */
export interface Project {
  config: LoadedConfig;
  deployment: EvaluatedDeployment;
  renderers: Renderer[];
  managers: Manager[];
  warnings: string[];
  /** Absolute output root (`--out`, default `.nix2dream` beside the config). */
  out: string;
}

/** Options of {@link loadProject}. */
export interface LoadProjectOptions {
  cwd: string;
  configFile?: string | undefined;
  out?: string | undefined;
}

/** The default output directory name, beside the config file. */
export const DEFAULT_OUT = ".nix2dream";

/** Loads the config and evaluates it. Module errors become {@link UserError}s with a suggestion when one is likely. */
export async function loadProject(opts: LoadProjectOptions): Promise<Project> {
  const config = await loadConfig({ cwd: opts.cwd, configFile: opts.configFile });
  const definition = config.value as DeploymentDefinition;
  const result = evaluate(definition, config, opts.cwd);
  return {
    config,
    deployment: result.deployment,
    renderers: result.renderers,
    managers: result.managers,
    warnings: result.warnings,
    out: opts.out !== undefined ? resolve(opts.cwd, opts.out) : join(config.root, DEFAULT_OUT),
  };
}

/** Loads the config and evaluates it for its options tree alone (`nix2dream options`). */
export async function loadOptions(opts: Omit<LoadProjectOptions, "out">): Promise<unknown> {
  const config = await loadConfig({ cwd: opts.cwd, configFile: opts.configFile });
  return evaluate(config.value as DeploymentDefinition, config, opts.cwd).options;
}

/** Evaluates a definition; a {@link ModuleError} becomes a {@link UserError} naming the option and file. */
export function evaluate(
  definition: DeploymentDefinition,
  config: Pick<LoadedConfig, "file" | "root"> | undefined,
  cwd: string,
): ReturnType<typeof evaluateDeployment> {
  try {
    return evaluateDeployment(
      definition,
      config ? { file: config.file, root: config.root } : undefined,
    );
  } catch (err) {
    if (isModuleError(err)) throw moduleErrorToUserError(err, definition, cwd);
    throw err;
  }
}

function moduleErrorToUserError(
  err: Pick<ModuleError, "code" | "message" | "files" | "optionPath">,
  definition: DeploymentDefinition,
  cwd: string,
): UserError {
  let hint: string | undefined;
  if (err.code === "UNDECLARED_OPTION" && err.optionPath && !/did you mean/i.test(err.message)) {
    const suggestion = suggestOption(err.optionPath, definition);
    if (suggestion) hint = `Did you mean \`${suggestion}\`?`;
  }
  const message = shortenPaths(err.message, cwd);
  // The engine's messages name their files; add them only to one that does not.
  const files = err.files.map((f) => displayPath(f, cwd));
  const tail =
    files.length > 0 && !files.some((f) => message.includes(f))
      ? ` (defined in ${files.join(", ")})`
      : "";
  return new UserError("CONFIG_INVALID", `${message}${tail}`, {
    ...(hint ? { hint } : {}),
    cause: err,
  });
}

/** The declared option nearest to an undeclared one, from the options of what `use` registers. */
function suggestOption(path: string, definition: DeploymentDefinition): string | undefined {
  try {
    const bare = { name: definition.name, use: definition.use ?? [] } as DeploymentDefinition;
    const { options } = evaluateDeployment(bare);
    return closestOption(
      path,
      optionsDocs(options).map((d: { path: string }) => d.path),
    );
  } catch {
    return undefined;
  }
}

/** The renderers named (all when `names` is empty). */
export function selectRenderers(project: Project, names: string[]): Renderer[] {
  if (names.length === 0) return project.renderers;
  return [...new Set(names)].map((name) => {
    const found = project.renderers.find((r) => r.name === name);
    if (found) return found;
    const registered = project.renderers.map((r) => r.name);
    const guess = closest(name, registered);
    throw new UserError(
      "UNKNOWN_RENDERER",
      `The renderer \`${name}\` is not registered in ${displayPath(project.config.file)}; ${
        registered.length > 0
          ? `registered renderers: ${registered.join(", ")}.`
          : "no renderers are registered."
      }`,
      {
        hint: guess
          ? `Did you mean \`${guess}\`?`
          : "Add the renderer to `use` in the config, e.g. `use: [procfile()]`.",
      },
    );
  });
}

/** The manager to act with: `--manager`, else the only one registered, else `local`. */
export function selectManager(project: Project, name: string | undefined): Manager {
  const names = project.managers.map((m) => m.name);
  const file = displayPath(project.config.file);
  if (name !== undefined) {
    const found = project.managers.find((m) => m.name === name);
    if (found) return found;
    const guess = closest(name, names);
    throw new UserError(
      "UNKNOWN_MANAGER",
      `The manager \`${name}\` is not registered in ${file}; ${
        names.length > 0
          ? `registered managers: ${names.join(", ")}.`
          : "no managers are registered."
      }`,
      guess ? { hint: `Did you mean \`${guess}\`?` } : undefined,
    );
  }
  if (project.managers.length === 1) return project.managers[0] as Manager;
  const local = project.managers.find((m) => m.name === "local");
  if (local) return local;
  if (project.managers.length === 0) {
    throw new UserError("NO_MANAGER", `No manager is registered in ${file}.`, {
      hint: 'Add one to `use`, e.g. `import local from "@nix2dream/manage-local"` and `use: [procfile(), local()]`.',
    });
  }
  throw new UserError(
    "NO_MANAGER",
    `Several managers are registered in ${file} (${names.join(", ")}) and none is called \`local\`; choose one with --manager <name>.`,
  );
}

/** `<out>/<deployment>/<renderer>/`. */
export function rendererDir(project: Project, renderer: string): string {
  return join(project.out, project.deployment.name, renderer);
}

/** `<out>/<deployment>/state/<manager>/`. */
export function stateDir(project: Project, manager: string): string {
  return join(project.out, project.deployment.name, "state", manager);
}
