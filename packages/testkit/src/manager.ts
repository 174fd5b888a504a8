/** Running a `Manager` action in a test, with its output kept in strings. */
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { ActionResult, EvaluatedDeployment, ManagerContext } from "@nix2dream/core";

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
