/** Running a `Manager` action in a test, with its output kept in strings. */
import { join } from "node:path";
import { PassThrough } from "node:stream";
import {
  type ActionResult,
  type EvaluatedDeployment,
  type ManagerContext,
  UserError,
} from "@nix2dream/core";

/** A {@link managerContext} and readers of what the action printed so far. */
export interface TestManagerContext {
  ctx: ManagerContext;
  out: () => string;
  err: () => string;
}

/**
 * A `ManagerContext` whose stdout/stderr are kept in strings; `stateDir` defaults to `state`
 * beside `artifactsDir`, the signal is never aborted and colour is off.
 */
export function managerContext(opts: {
  deployment: EvaluatedDeployment;
  artifactsDir: string;
  stateDir?: string;
  args?: string[];
  flags?: ManagerContext["flags"];
}): TestManagerContext {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (b) => {
    out += b;
  });
  stderr.on("data", (b) => {
    err += b;
  });
  const ctx: ManagerContext = {
    deployment: opts.deployment,
    artifactsDir: opts.artifactsDir,
    stateDir: opts.stateDir ?? join(opts.artifactsDir, "..", "state"),
    args: opts.args ?? [],
    flags: opts.flags ?? {},
    stdout,
    stderr,
    color: false,
    signal: new AbortController().signal,
  };
  return { ctx, out: () => out, err: () => err };
}

/** Runs an action (failing when there is none) and returns its result with what it printed. */
export async function runAction(
  action: ((ctx: ManagerContext) => Promise<ActionResult>) | undefined,
  c: TestManagerContext,
): Promise<ActionResult & { stdout: string; stderr: string }> {
  if (!action) throw new Error("no such action");
  const result = await action(c.ctx);
  // Let the streams deliver what was written last.
  await new Promise((r) => setImmediate(r));
  return { ...result, stdout: c.out(), stderr: c.err() };
}

/**
 * Runs an action that must fail with a user error (`UserError` of core, which the CLI prints as
 * `error: manager X: …`); returns that error with what the action printed before it threw.
 * Fails when the action resolves or throws anything else.
 */
export async function runFailingAction(
  action: ((ctx: ManagerContext) => Promise<ActionResult>) | undefined,
  c: TestManagerContext,
): Promise<{ error: UserError; stdout: string; stderr: string }> {
  if (!action) throw new Error("no such action");
  let result: ActionResult;
  try {
    result = await action(c.ctx);
  } catch (err) {
    if (!UserError.is(err)) throw err;
    await new Promise((r) => setImmediate(r));
    return { error: err, stdout: c.out(), stderr: c.err() };
  }
  throw new Error(
    `expected the action to throw a UserError; it returned exit code ${String(result.exitCode)}`,
  );
}
