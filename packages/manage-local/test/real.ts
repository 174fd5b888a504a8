/**
 * Helpers for tests that run a real supervisor process (the built `dist/`), as `up` and
 * `up -d` do, and look at its processes through /proc.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ActionResult, EvaluatedDeployment, ManagerContext } from "@nix2dream/core";
import type { ProcessPlan } from "@nix2dream/render-procfile";
import local from "../src/index.js";
import { Sink, tempDir } from "./helpers.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** What `up -d` runs in the background. */
export const DAEMON = path.join(here, "../dist/daemon.js");
/** Runs one manager action in a process of its own, as the CLI does. */
export const RUN_ACTION = path.join(here, "fixtures/run-action.mjs");

/** A temp render dir holding `plan` (its state dir is `<dir>/state`). */
export function renderDirOf(plan: ProcessPlan): string {
  const dir = tempDir();
  writeFileSync(path.join(dir, "processes.json"), JSON.stringify(plan));
  return dir;
}

/** Polls `get` until it returns something other than null/false. */
export async function until<T>(what: string, get: () => T | null | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A process's log file under a state dir ("" while it does not exist). */
export function logOf(stateDir: string, name: string): string {
  try {
    return readFileSync(path.join(stateDir, "logs", `${name}.log`), "utf8");
  } catch {
    return "";
  }
}

function stats(): { pid: number; fields: string[]; comm: string }[] {
  const out: { pid: number; fields: string[]; comm: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      out.push({
        pid: Number(entry),
        comm,
        fields: stat.slice(stat.lastIndexOf(")") + 2).split(" "),
      });
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Live pids of a process group, from /proc. */
export function membersOf(pgid: number): number[] {
  return stats()
    .filter((s) => Number(s.fields[2]) === pgid && s.fields[0] !== "Z")
    .map((s) => s.pid);
}

/** Children of `parent` running `comm`. */
export function childrenOf(parent: number, comm: string): number[] {
  return stats()
    .filter((s) => Number(s.fields[1]) === parent && s.comm === comm && s.fields[0] !== "Z")
    .map((s) => s.pid);
}

/** A process started with its stdout and stderr collected; `exited` resolves with its exit code. */
export function started(argv: string[], opts: { stdout?: "pipe" | "ignore"; cwd?: string } = {}) {
  let out = "";
  let err = "";
  const [file = "", ...args] = argv;
  const child: ChildProcess = spawn(file, args, {
    stdio: ["ignore", opts.stdout ?? "pipe", "pipe"],
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: "1" },
  });
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, stdout: () => out, stderr: () => err };
}

/** A manager context on a render dir, with its output collected. */
export function contextOf(
  dir: string,
  flags: ManagerContext["flags"] = {},
  signal: ManagerContext["signal"] = new AbortController().signal,
): { ctx: ManagerContext; out: Sink; err: Sink } {
  const out = new Sink();
  const err = new Sink();
  const ctx: ManagerContext = {
    deployment: { name: "shop" } as EvaluatedDeployment,
    artifactsDir: dir,
    stateDir: path.join(dir, "state"),
    args: [],
    flags,
    stdout: out,
    stderr: err,
    color: false,
    signal,
  };
  return { ctx, out, err };
}

/** Runs one action of the local manager in this process. */
export function act(name: string, ctx: ManagerContext): Promise<ActionResult> {
  const action = local().actions[name];
  if (!action) throw new Error(`no action ${name}`);
  return action(ctx);
}
