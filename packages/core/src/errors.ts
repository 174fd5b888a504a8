/**
 * The one error type for a user's mistake outside module evaluation (which has `ModuleError`):
 * a missing tool, a render that is not there, nothing running. Renderers and managers throw
 * it; the CLI prints it as `error: <message>` and `hint: <hint>`, naming the renderer or
 * manager, and exits with code 1, without a stack trace.
 */

// Global (Symbol.for): a plugin may bring its own copy of core, and the CLI must still know
// its errors for what they are.
const USER_ERROR: unique symbol = Symbol.for("nix2dream.core.userError");

/** What a {@link UserError} is made with besides its code and message. */
export interface UserErrorOptions {
  /** A likely fix, printed on its own line after the message. */
  hint?: string;
  /** The renderer or manager that found the mistake, e.g. `compose` (the CLI names it). */
  source?: string;
  cause?: unknown;
}

/**
 * A mistake the user can fix. `message` is one paragraph naming what is wrong (an option path
 * and the file that defined it when there is one); `code` is stable and safe to branch on.
 */
export class UserError extends Error {
  override name = "UserError";
  /** Stable, machine-readable code, e.g. `NO_ENGINE`. */
  readonly code: string;
  /** A likely fix, printed on its own line after the message. */
  readonly hint: string | undefined;
  /** The renderer or manager that threw it, when it was one. */
  readonly source: string | undefined;

  constructor(code: string, message: string, options: UserErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.source = options.source;
    Object.defineProperty(this, USER_ERROR, { value: true });
  }

  /** True for a `UserError` of any copy of core (`instanceof` knows only this copy's). */
  static is(err: unknown): err is UserError {
    return typeof err === "object" && err !== null && USER_ERROR in err;
  }
}
