/**
 * `nix2dream import`: which input is which, and the generated config written safely.
 */
import { existsSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { importCompose } from "./compose.js";
import { loadCompose } from "./compose-load.js";
import { importProcfile } from "./procfile.js";
import type { ImportedConfig } from "./source.js";

export type { ImportDiagnostic } from "./model.js";
export type { ImportedConfig } from "./source.js";

/** Names looked for when no input is given, in Compose's order, then a Procfile. */
export const DEFAULT_INPUTS = [
  "compose.yaml",
  "compose.yml",
  "docker-compose.yaml",
  "docker-compose.yml",
  "Procfile",
];

/** The input files: those given, else the first default found in `cwd` (with its `.override` file). */
export function inputFiles(given: string[], cwd: string): string[] {
  if (given.length > 0) return given.map((f) => resolve(cwd, f));
  const found = DEFAULT_INPUTS.find((f) => existsSync(join(cwd, f)));
  if (!found) {
    throw new UserError(
      "IMPORT_INPUT",
      `No Compose file or Procfile here (looked for ${DEFAULT_INPUTS.join(", ")} in ${cwd}).`,
      { hint: "Name the file: nix2dream import path/to/compose.yaml" },
    );
  }
  const files = [join(cwd, found)];
  const override = found.replace(/\.(ya?ml)$/, ".override.$1");
  if (override !== found && existsSync(join(cwd, override))) files.push(join(cwd, override));
  return files;
}

/** True when `file` is a Procfile (`Procfile`, `Procfile.dev`, `dev.Procfile`). */
export function isProcfile(file: string): boolean {
  return /(^|\.)Procfile($|\.)/.test(basename(file));
}

/** Converts `files` (one Procfile, or Compose files merged in order) to a config for `configDir`. */
export function importFiles(
  files: string[],
  configDir: string,
  env: NodeJS.ProcessEnv,
): ImportedConfig {
  const procfiles = files.filter(isProcfile);
  if (procfiles.length > 0) {
    if (files.length > 1) {
      throw new UserError(
        "IMPORT_INPUT",
        "A Procfile is imported on its own; give one Procfile, or Compose files only.",
      );
    }
    const file = files[0] as string;
    return importProcfile(file, configDir);
  }
  return importCompose(loadCompose(files, configDir, env), { configDir });
}

/**
 * Writes `content` to `path` atomically (a temporary file beside it, renamed into place);
 * refuses to replace an existing file unless `force`.
 */
export async function writeConfigFile(
  path: string,
  content: string,
  force: boolean,
): Promise<void> {
  if (existsSync(path) && !force) {
    throw new UserError("CONFIG_EXISTS", `${path} already exists; nothing was written.`, {
      hint: "Pass --force to replace it, or -o <file> to write elsewhere.",
    });
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(tmp, content);
  await rename(tmp, path);
}
