/**
 * Errors the CLI reports as one paragraph without a stack trace: user mistakes, not bugs.
 */

/** Stable codes of {@link UserError}. */
export type UserErrorCode =
  | "CONFIG_NOT_FOUND"
  | "CONFIG_LOAD_FAILED"
  | "CONFIG_INVALID"
  | "UNKNOWN_COMMAND"
  | "UNKNOWN_RENDERER"
  | "UNKNOWN_MANAGER"
  | "UNKNOWN_ACTION"
  | "NO_MANAGER"
  | "BAD_FLAGS"
  | "ARTIFACT_PATH"
  | "RENDER_FAILED"
  | "STRICT"
  | "IMPORT_INPUT"
  | "IMPORT_UNSUPPORTED"
  | "CONFIG_EXISTS";

/**
 * A mistake the user can fix (a missing config, an unknown renderer, an artifact path that
 * escapes its directory). The CLI prints `message` (and `hint`, when set) and exits with code 1.
 */
export class UserError extends Error {
  override name = "UserError";
  /** Stable, machine-readable code. */
  readonly code: UserErrorCode;
  /** A likely fix, printed on its own line after the message. */
  readonly hint: string | undefined;

  constructor(code: UserErrorCode, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options?.hint;
  }
}

/**
 * True for a `ModuleError` of @nix2dream/modules, told by its shape so that reporting an error
 * does not load the module engine (a config may also bring its own copy of the class).
 */
export function isModuleError(
  err: unknown,
): err is Error & { code: string; files: string[]; optionPath?: string } {
  return (
    err instanceof Error &&
    err.name === "ModuleError" &&
    typeof (err as { code?: unknown }).code === "string" &&
    Array.isArray((err as { files?: unknown }).files)
  );
}

/** Replaces absolute paths under `cwd` in a message by relative ones. */
export function shortenPaths(message: string, cwd: string): string {
  const prefix = cwd.endsWith("/") ? cwd : `${cwd}/`;
  return message.split(prefix).join("");
}
