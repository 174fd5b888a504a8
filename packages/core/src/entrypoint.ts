/**
 * The launcher (entrypoint) script of one service: a `#!/bin/sh` program that sets up the
 * service's environment and then `exec`s it. The Procfile renderer uses it for local processes;
 * container renderers reuse it as the image entrypoint. Target-specific choices (where files and
 * volumes live, how references resolve, the state directory) come in through
 * {@link EntrypointOptions}; everything else is the same on every target. The script is written
 * section by section (`entrypoint/`), each a function over an {@link EntrypointContext}.
 */
import type { Diagnostic } from "./contracts.js";
import type { EvaluatedService } from "./deployment.js";
import { type EntrypointOptions, entrypointContextFor } from "./entrypoint/context.js";
import { environmentOf, secretsOf } from "./entrypoint/environment.js";
import {
  changeDirOf,
  clearModeOf,
  execModeOf,
  headerOf,
  stateDirOf,
  volumeDirsOf,
} from "./entrypoint/modes.js";
import { filesOf, runOf, volumesOf } from "./entrypoint/run.js";

export { type EntrypointOptions, STATE_DIR_VAR } from "./entrypoint/context.js";

/** The generated script and what could not be expressed in it. */
export interface Entrypoint {
  script: string;
  diagnostics: Diagnostic[];
}

/**
 * Generates the launcher script of `service`.
 *
 * Modes: no argument runs the service (files, volume init/check, `cd`, `preStart`, `exec` of
 * `command` + `args`); `--exec CMD [ARG...]` runs CMD in the service's environment and working
 * directory (for exec healthchecks); `--clear` runs each volume's `clear` script and empties the
 * volume. Secrets are read when the script starts, from the variable `fromEnv` (checked first)
 * or the file `fromFile` (trailing newlines dropped, as `$(cat file)` does); their values never
 * appear in the script. Every value is quoted for POSIX `sh`.
 */
export function entrypointScript(
  service: EvaluatedService,
  options: EntrypointOptions,
): Entrypoint {
  const ctx = entrypointContextFor(service, options);
  // The order of the sections is the order of the script (and of the diagnostics).
  headerOf(service, ctx);
  stateDirOf(service, ctx);
  environmentOf(service, ctx);
  secretsOf(service, ctx);
  const volumes = volumeDirsOf(service, ctx);
  clearModeOf(volumes, ctx);
  const cd = changeDirOf(service, ctx);
  execModeOf(cd, ctx);
  filesOf(service, ctx);
  volumesOf(volumes, ctx);
  runOf(service, cd, ctx);
  return { script: `${ctx.out.join("\n")}\n`, diagnostics: ctx.diagnostics };
}
