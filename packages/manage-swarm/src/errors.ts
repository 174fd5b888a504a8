/** The swarm manager's user-facing failure. */
import { UserError } from "@nix2dream/core";

/** A user-facing failure: printed as one paragraph, exit code 1, no stack trace. */
export class SwarmManagerError extends UserError {
  /** Stable code, `MANAGE_SWARM_<WHAT>`. */
  declare readonly code: string;
  constructor(code: string, message: string, options: { hint?: string } = {}) {
    super(`MANAGE_SWARM_${code}`, message, { ...options, source: "manager swarm" });
    this.name = "SwarmManagerError";
  }
}
