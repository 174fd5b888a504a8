/**
 * The foreground `up`: a supervisor attached to the terminal. The `nix2dream` CLI loads the
 * config and renders in a short-lived process, then hands over to this module in the process
 * the user started (the launcher), so the process that stays running loads only the plan and
 * the supervisor — as `up -d`'s background supervisor does. Not part of the public API.
 */
import { UserError } from "@nix2dream/core/errors";
import { errorLines } from "./errors.js";
import { readPlan } from "./plan.js";
import { type PlanChange, type ProcessStatus, Supervisor } from "./supervisor.js";

/** What the CLI hands over: everything the supervisor needs, as JSON. */
export interface ForegroundConfig {
  renderDir: string;
  stateDir: string;
  timestamps: boolean;
  color: boolean;
  /** Lines printed once the lock is taken (what runs, where the logs go, the addresses). */
  header: string[];
  /** `up --watch`: restart processes whose `watch` paths change. */
  watch: boolean;
}

/** Where a foreground supervisor writes, and what stops it. */
export interface ForegroundIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal?: AbortSignal;
}

let current: Supervisor | null = null;

/**
 * Takes the deployment's lock, prints the header, then supervises until every process is done
 * or a signal stops them. Resolves to the exit code and the final status of each process; a
 * refused lock is printed as the CLI prints a user error, exit code 1.
 */
export async function superviseForeground(
  config: ForegroundConfig,
  io: ForegroundIO,
): Promise<{ exitCode: number; processes: ProcessStatus[] }> {
  const supervisor = new Supervisor({
    plan: readPlan(config.renderDir),
    renderDir: config.renderDir,
    stateDir: config.stateDir,
    output: io.stdout,
    color: config.color,
    timestamps: config.timestamps,
    // Also when a caller never aborts `signal`: children live in their own process groups, so
    // without this a Ctrl-C would kill only the supervisor and orphan them.
    handleSignals: true,
    watch: config.watch,
  });
  try {
    // The lock first: a refused `up` says only why.
    await supervisor.claim();
  } catch (err) {
    // Printed here in the CLI's form: after the hand-off no CLI is left to print it.
    if (!UserError.is(err)) throw err;
    io.stderr.write(errorLines(err));
    return { exitCode: 1, processes: [] };
  }
  io.stdout.write(`${config.header.join("\n")}\n`);
  current = supervisor;
  try {
    const result = await supervisor.run(io.signal);
    if (result.failed.length > 0) {
      io.stderr.write(`Failed: ${result.failed.join(", ")} (see \`nix2dream logs\`).\n`);
    }
    return { exitCode: result.exitCode, processes: result.processes };
  } finally {
    current = null;
  }
}

/** The hand-off entry: supervises with this process's own stdout and stderr. */
export default async function handOff(config: ForegroundConfig): Promise<number> {
  const io = { stdout: process.stdout, stderr: process.stderr };
  return (await superviseForeground(config, io)).exitCode;
}

/**
 * A new render of the same deployment (`up --watch` rendered again after a config change):
 * the running supervisor applies its plan, restarting only what changed.
 */
export async function reload(config: ForegroundConfig): Promise<PlanChange | null> {
  if (!current) return null;
  return current.applyPlan(readPlan(config.renderDir));
}
