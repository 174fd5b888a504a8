/**
 * Errors the CLI reports as one paragraph without a stack trace: user mistakes, not bugs.
 */

// The light subpath: the root export would load every option module and zod on `--help`.
import { UserError } from "@nix2dream/core/errors";

/** Stable codes of the {@link UserError}s the CLI itself throws. */
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
  | "HOST_FILE"
  | "RENDER_FAILED"
  | "STRICT"
  | "IMPORT_INPUT"
  | "IMPORT_UNSUPPORTED"
  | "CONFIG_EXISTS";

/**
 * The contract's one user-error type (`@nix2dream/core`), thrown here with the codes above;
 * renderers and managers throw it with their own.
 */
export { UserError };

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
