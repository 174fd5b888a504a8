/**
 * The manager's user errors. They come from the light `@nix2dream/core/errors` entry: the
 * background and foreground supervisors import them and must not load core's option modules.
 */
import { UserError } from "@nix2dream/core/errors";

/** The name the CLI prints before the manager's messages (`error: manager local: …`). */
const SOURCE = "manager local";

/**
 * A mistake or missing precondition the user can fix (no plan, nothing running, a bad flag, a
 * process that did not come up); the CLI prints it as `error: manager local: …`, exit code 1.
 */
export class LocalManagerError extends UserError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, { source: SOURCE, ...(hint === undefined ? {} : { hint }) });
    this.name = "LocalManagerError";
  }
}

/** `error: manager local: …` / `hint: …` lines, for the supervisors that run outside the CLI. */
export function errorLines(err: UserError): string {
  const from = err.source ? `${err.source}: ` : "";
  return `error: ${from}${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ""}`;
}
