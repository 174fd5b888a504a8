/** The swarm manager's user-facing failure. */

/** A user-facing failure: printed as one paragraph, exit code 1, no stack trace. */
export class SwarmManagerError extends Error {
  /** Stable code, `MANAGE_SWARM_<WHAT>`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "SwarmManagerError";
    this.code = `MANAGE_SWARM_${code}`;
  }
}
