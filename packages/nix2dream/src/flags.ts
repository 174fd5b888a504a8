/**
 * The flags the CLI parses itself, shared by the dispatcher (main.ts) and the launcher's
 * decision (cli.ts), which must read argv the same way without loading anything else.
 */
import { parseArgs } from "node:util";

/** Flags of every command. */
export const GLOBAL_OPTIONS = {
  config: { type: "string", short: "c" },
  out: { type: "string", short: "o" },
  manager: { type: "string", short: "m" },
  json: { type: "boolean" },
  strict: { type: "boolean" },
  "all-warnings": { type: "boolean" },
  debug: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

/**
 * Flags of manager actions that the CLI parses itself, so that `--tail 50` keeps its value and
 * `-f` means `--follow`. Every other flag passes through to the action as given.
 */
export const MANAGER_OPTIONS = {
  follow: { type: "boolean", short: "f" },
  tail: { type: "string", short: "n" },
  timestamps: { type: "boolean", short: "t" },
  detach: { type: "boolean", short: "d" },
  watch: { type: "boolean" },
} as const;

/**
 * Whether `argv` is a foreground `up` that the launcher runs in two processes (see
 * `launcher.ts`): not `-d`, `--wait`, `--json` or `--help`, and not already the launcher's child.
 */
export function runsThroughLauncher(argv: string[], env: NodeJS.ProcessEnv): boolean {
  if (env.NIX2DREAM_HANDOFF_FD !== undefined) return false;
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...GLOBAL_OPTIONS, ...MANAGER_OPTIONS },
    strict: false,
    allowPositionals: true,
  });
  if (positionals[0] !== "up") return false;
  return !["detach", "wait", "json", "help", "version"].some((f) => values[f] !== undefined);
}
