/**
 * The actions of the `local` manager. Loaded only when an action runs (see `manager.ts`): a
 * config that lists `local()` costs nothing more than that call for `render` or `check`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { type ActionResult, type ManagerContext, parseDuration } from "@nix2dream/core";
import type { ProcessPlan } from "@nix2dream/render-procfile";
import {
  ConnectionLostError,
  type ControlLogLine,
  type ControlRequest,
  type ControlResponse,
  controlRequest,
  decodeLogLine,
  NotRunningError,
  socketPathFor,
  tailFile,
} from "./control.js";
import { LocalManagerError } from "./errors.js";
import type { ForegroundConfig } from "./foreground.js";
import { formatLines, prefixFor } from "./lines.js";
import type { LocalManagerOptions } from "./manager.js";
import { removeAbandonedFifos } from "./pipes.js";
import { ActionError, lastRunFile, readPlan } from "./plan.js";
import { psTable } from "./ps-table.js";
import { findLeftovers, type RecordedProcess, stopLeftovers } from "./record.js";
import type { ProcessStatus } from "./supervisor.js";

/** `supervisor.log` larger than this becomes `supervisor.log.1` at the next `up -d`. */
const SUPERVISOR_LOG_MAX_BYTES = 10 * 1024 * 1024;

/** The final status the background supervisor left, or null. */
function lastRun(stateDir: string): ProcessStatus[] | null {
  try {
    return JSON.parse(readFileSync(lastRunFile(stateDir), "utf8")) as ProcessStatus[];
  } catch {
    return null;
  }
}

function flag(ctx: ManagerContext, ...names: string[]): string | boolean | undefined {
  for (const n of names) if (ctx.flags[n] !== undefined) return ctx.flags[n];
  return undefined;
}

function tailOf(ctx: ManagerContext, fallback: number | null): number | null {
  const value = flag(ctx, "tail", "n");
  if (value === undefined || value === true) return fallback;
  if (value === "all") return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new ActionError(`\`--tail\` takes a number of lines or \`all\`, not \`${value}\`.`);
  return n;
}

/** Sends a request; a failed answer becomes an {@link ActionError}. */
async function ask(
  ctx: ManagerContext,
  request: ControlRequest,
  onLog?: (l: ControlLogLine) => void,
) {
  const response: ControlResponse = await controlRequest(ctx.stateDir, request, onLog, ctx.signal);
  // The supervisor answers with the message of its own error (an unknown process name, ...).
  if (!response.ok) throw new ActionError(response.error);
  return response.data;
}

function notRunning(ctx: ManagerContext): string {
  return `No \`up\` is running for deployment \`${ctx.deployment.name}\` (no supervisor answers on ${socketPathFor(ctx.stateDir)}).`;
}

/** The error of an action that needs a running `up`. */
function notRunningError(ctx: ManagerContext): NotRunningError {
  return new NotRunningError(notRunning(ctx), "Start it with `nix2dream up`.");
}

/** What `ps` says when the supervisor died and left processes running. */
function leftoversLine(ctx: ManagerContext, leftovers: RecordedProcess[]): string {
  const names = leftovers.map((p) => `${p.name} (pid ${p.pid})`).join(", ");
  return `No \`up\` is running for deployment \`${ctx.deployment.name}\`, but its supervisor died and left ${leftovers.length} process(es) running: ${names}. \`nix2dream down\` stops them; \`nix2dream up\` stops them before it starts anything.`;
}

/** `name (port) → 127.0.0.1:N` lines for every process that listens somewhere. */
function addresses(plan: ProcessPlan): string[] {
  const out: string[] = [];
  for (const p of plan.processes) {
    for (const [port, n] of Object.entries(p.ports))
      out.push(`  ${p.name} (${port}) → 127.0.0.1:${n}`);
  }
  return out;
}

export async function up(ctx: ManagerContext, opts: LocalManagerOptions): Promise<ActionResult> {
  const plan = readPlan(ctx.artifactsDir);
  const timestamps = Boolean(flag(ctx, "timestamps", "t") ?? opts.timestamps ?? false);
  const logsDir = path.join(ctx.stateDir, "logs");
  const header = [
    `Running ${plan.processes.length} process(es) of \`${plan.deployment}\` with the built-in supervisor.`,
    `Logs: ${logsDir}/<process>.log; control socket: ${socketPathFor(ctx.stateDir)}`,
  ];
  const addr = addresses(plan);
  if (addr.length > 0) header.push("Addresses:", ...addr);
  if (flag(ctx, "watch") && (flag(ctx, "wait") || flag(ctx, "detach", "d"))) {
    throw new ActionError(
      "`up --watch` runs in the foreground (it follows your edits while you look at the output); it cannot be combined with `-d` or `--wait`.",
    );
  }
  if (flag(ctx, "wait")) {
    const timeout = waitTimeout(ctx);
    const started = await detach(ctx, plan, timestamps, header);
    return started.exitCode === 0 ? waitUntilSettled(ctx, timeout) : started;
  }
  if (flag(ctx, "detach", "d")) return detach(ctx, plan, timestamps, header);
  header.push("Press Ctrl-C to stop.");
  const config: ForegroundConfig = {
    renderDir: ctx.artifactsDir,
    stateDir: ctx.stateDir,
    timestamps,
    color: ctx.color,
    header,
    watch: Boolean(flag(ctx, "watch")),
  };
  if (handOff(config)) return { exitCode: 0 };
  const { superviseForeground } = await import("./foreground.js");
  const result = await superviseForeground(config, ctx);
  return { exitCode: result.exitCode, data: result.processes };
}

/**
 * Hands the foreground supervision to the `nix2dream` launcher that started this process
 * (`NIX2DREAM_HANDOFF_FD`, see the nix2dream README): it runs `dist/foreground.js` itself, so
 * the process that stays running never holds the config loader or the module system. False
 * when there is no launcher to hand over to (a programmatic run): supervise here then.
 */
function handOff(config: ForegroundConfig): boolean {
  const fd = Number(process.env.NIX2DREAM_HANDOFF_FD);
  if (!Number.isInteger(fd) || fd < 3) return false;
  const module = path.join(path.dirname(fileURLToPath(import.meta.url)), "foreground.js");
  if (!existsSync(module)) return false;
  try {
    writeSync(fd, `${JSON.stringify({ handoff: { module, config } })}\n`);
    return true;
  } catch {
    return false; // the launcher is gone or the descriptor is not its channel
  }
}

/** Runs the supervisor in a background process and returns once its control socket answers. */
async function detach(
  ctx: ManagerContext,
  plan: ProcessPlan,
  timestamps: boolean,
  header: string[],
): Promise<ActionResult> {
  try {
    await controlRequest(ctx.stateDir, { cmd: "ps" });
    throw new ActionError(
      `An \`up\` is already running for deployment \`${plan.deployment}\`; stop it with \`nix2dream down\`.`,
    );
  } catch (err) {
    if (!(err instanceof NotRunningError)) throw err;
  }
  const here = path.dirname(fileURLToPath(import.meta.url));
  const daemon = path.join(here, "daemon.js");
  if (!existsSync(daemon))
    throw new ActionError(`\`up --detach\` needs the built package (${daemon} is missing).`);
  mkdirSync(ctx.stateDir, { recursive: true });
  const outFile = path.join(ctx.stateDir, "supervisor.log");
  rmSync(lastRunFile(ctx.stateDir), { force: true });
  // The background supervisor writes this file directly: rotate it here, between runs.
  if (existsSync(outFile) && statSync(outFile).size > SUPERVISOR_LOG_MAX_BYTES) {
    renameSync(outFile, `${outFile}.1`);
  }
  // Appended: a second `up` that loses the race must not wipe the running one's log.
  const out = openSync(outFile, "a");
  const config = JSON.stringify({
    renderDir: ctx.artifactsDir,
    stateDir: ctx.stateDir,
    timestamps,
  });
  const child = spawn(process.execPath, [daemon, config], {
    detached: true,
    stdio: ["ignore", out, out, "pipe"],
  });
  closeSync(out);
  const verdict = await daemonVerdict(child);
  child.unref();
  if (verdict !== "ok") {
    throw new ActionError(verdict ?? `The background supervisor did not start; see ${outFile}.`);
  }
  header.push(
    `Started in the background (pid ${child.pid}); supervisor output: ${outFile}. Stop it with \`nix2dream down\`.`,
  );
  ctx.stdout.write(`${header.join("\n")}\n`);
  return { exitCode: 0 };
}

/**
 * The daemon's first line on its descriptor 3: `ok`, or why it did not start; null when it
 * exited (or 10 s passed) without a word.
 */
function daemonVerdict(child: ChildProcess): Promise<string | null> {
  return new Promise((resolve) => {
    const channel = child.stdio[3] as Readable | null | undefined;
    let text = "";
    const timer = setTimeout(() => done(null), 10_000);
    function done(verdict: string | null) {
      clearTimeout(timer);
      channel?.destroy();
      child.off("exit", onExit);
      resolve(verdict);
    }
    const onExit = () => setTimeout(() => done(text.trim() || null), 50);
    channel?.setEncoding("utf8");
    channel?.on("data", (d: string) => {
      text += d;
      if (text.includes("\n")) done(text.slice(0, text.indexOf("\n")));
    });
    channel?.on("error", () => undefined);
    child.on("exit", onExit);
  });
}

/** Seconds `up --wait` waits: `--wait-timeout` (seconds or a duration like `2m`), default 60. */
function waitTimeout(ctx: ManagerContext): number {
  const value = flag(ctx, "wait-timeout");
  if (typeof value !== "string") return 60;
  try {
    return parseDuration(/^\d+(\.\d+)?$/.test(value) ? Number(value) : value);
  } catch {
    throw new ActionError(
      `\`--wait-timeout\` takes seconds or a duration such as \`90s\` or \`2m\`, not \`${value}\`.`,
    );
  }
}

/** Where a process stands for `up --wait`: done (ready or completed), pending, or failed. */
function settledState(s: ProcessStatus): "ready" | "pending" | "failed" {
  if (s.state === "failed" || s.state === "blocked") return "failed";
  if (s.state === "exited") return s.exitCode === 0 ? "ready" : "failed";
  if (s.state === "stopped") return "ready";
  if (s.state === "running" && s.health !== "starting" && s.health !== "unhealthy") return "ready";
  return "pending";
}

/**
 * `up --wait`: polls the background supervisor until every process is running (and healthy
 * when it has a probe) or completed; exit 1 with the reason when one fails or time runs out.
 * The supervisor keeps running either way, as `docker compose up --wait` leaves its containers.
 * A connection the supervisor drops without answering (it is stopping) is asked again.
 * Exported for its tests only; not part of the package's API.
 */
export async function waitUntilSettled(
  ctx: ManagerContext,
  timeoutSeconds: number,
): Promise<ActionResult> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    let rows: ProcessStatus[];
    try {
      rows = (await ask(ctx, { cmd: "ps" })) as ProcessStatus[];
    } catch (err) {
      // The supervisor is stopping (every process finished): ask again, until its socket is
      // gone, unless time is up.
      if (err instanceof ConnectionLostError && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      // Every process finished and the supervisor with them: judge their final status.
      const last = err instanceof NotRunningError ? lastRun(ctx.stateDir) : null;
      if (!last) throw err;
      rows = last;
    }
    const failed = rows.filter((r) => settledState(r) === "failed");
    if (failed.length > 0) {
      const why = failed.map((r) => `${r.name} ${r.state}${r.reason ? ` (${r.reason})` : ""}`);
      throw new LocalManagerError(
        "MANAGE_LOCAL_NOT_READY",
        `Not every process came up: ${why.join("; ")}.`,
        "See `nix2dream logs`.",
      );
    }
    const pending = rows.filter((r) => settledState(r) === "pending");
    if (pending.length === 0) {
      ctx.stdout.write(`Every process is up (${rows.length}).\n`);
      return { exitCode: 0, data: rows };
    }
    if (Date.now() >= deadline || ctx.signal.aborted) {
      const why = pending.map((r) => `${r.name} ${r.state}${r.reason ? ` (${r.reason})` : ""}`);
      throw new LocalManagerError(
        "MANAGE_LOCAL_WAIT_TIMEOUT",
        `Timed out after ${timeoutSeconds}s waiting for: ${why.join("; ")}.`,
        "The processes keep running: see `nix2dream ps` and `nix2dream logs`, or raise `--wait-timeout`.",
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function ps(ctx: ManagerContext): Promise<ActionResult> {
  let rows: ProcessStatus[];
  try {
    rows = (await ask(ctx, { cmd: "ps" })) as ProcessStatus[];
  } catch (err) {
    if (!(err instanceof NotRunningError)) throw err;
    const leftovers = findLeftovers(ctx.stateDir);
    throw leftovers.length > 0
      ? new NotRunningError(leftoversLine(ctx, leftovers))
      : notRunningError(ctx);
  }
  if (!flag(ctx, "json")) ctx.stdout.write(`${psTable(rows)}\n`);
  return { exitCode: 0, data: rows };
}

export async function logs(ctx: ManagerContext, opts: LocalManagerOptions): Promise<ActionResult> {
  const follow = Boolean(flag(ctx, "follow", "f"));
  const tail = tailOf(ctx, opts.tail === undefined ? 100 : opts.tail);
  const names = ctx.args;
  let plan: ProcessPlan | null = null;
  try {
    plan = readPlan(ctx.artifactsDir);
  } catch {
    // Without a plan the names come from the log files themselves.
  }
  const known = plan?.processes.map((p) => p.name) ?? [];
  const width = Math.max(1, ...known.map((n) => n.length));
  const prefixes = new Map<string, Buffer>();
  const write = (name: string, line: Buffer) => {
    let prefix = prefixes.get(name);
    if (!prefix) {
      prefix = prefixFor(name, width, ctx.color);
      prefixes.set(name, prefix);
    }
    ctx.stdout.write(formatLines([line], prefix, null));
  };
  try {
    await ask(ctx, { cmd: "logs", names, tail, follow }, (entry) =>
      write(entry.process, decodeLogLine(entry)),
    );
    return { exitCode: 0 };
  } catch (err) {
    if (!(err instanceof NotRunningError)) throw err;
  }
  // No supervisor: show what the log files of the last run hold.
  const selected =
    names.length === 0
      ? known
      : (plan?.processes ?? [])
          .filter((p) => names.includes(p.name) || names.includes(p.service))
          .map((p) => p.name);
  for (const n of names) {
    if (
      !selected.some((s) => s === n || plan?.processes.find((p) => p.name === s)?.service === n)
    ) {
      selected.push(n);
    }
  }
  for (const name of selected) {
    for (const line of tailFile(path.join(ctx.stateDir, "logs", `${name}.log`), tail))
      write(name, line);
  }
  if (follow)
    ctx.stderr.write(`${notRunning(ctx)} Showing the logs of the last run without following.\n`);
  return { exitCode: 0 };
}

export async function control(ctx: ManagerContext, cmd: "restart" | "stop"): Promise<ActionResult> {
  if (ctx.args.length === 0)
    throw new ActionError(
      `\`${cmd}\` needs a service or process name, e.g. \`nix2dream ${cmd} api\`.`,
    );
  const all: ProcessStatus[] = [];
  try {
    for (const name of ctx.args) {
      const rows = (await ask(ctx, { cmd, name })) as ProcessStatus[];
      all.push(...rows);
      for (const r of rows) {
        const pid = r.pid === null ? "" : ` (pid ${r.pid})`;
        ctx.stdout.write(
          `${cmd === "restart" ? "Restarted" : "Stopped"} ${r.name}: ${r.state}${pid}\n`,
        );
      }
    }
  } catch (err) {
    if (err instanceof NotRunningError) throw notRunningError(ctx);
    throw err;
  }
  return { exitCode: 0, data: all };
}

export async function down(ctx: ManagerContext): Promise<ActionResult> {
  try {
    const rows = await ask(ctx, { cmd: "down" });
    ctx.stdout.write(`Stopped every process of \`${ctx.deployment.name}\`.\n`);
    return { exitCode: 0, data: rows };
  } catch (err) {
    if (!(err instanceof NotRunningError)) throw err;
    removeAbandonedFifos(ctx.stateDir);
    const leftovers = findLeftovers(ctx.stateDir);
    if (leftovers.length > 0) {
      await stopLeftovers(leftovers);
      const names = leftovers.map((p) => `${p.name} (pid ${p.pid})`).join(", ");
      ctx.stdout.write(`Stopped what a supervisor that died left running: ${names}.\n`);
      return { exitCode: 0, data: [] };
    }
    ctx.stdout.write(
      `Nothing to stop: no \`up\` is running for deployment \`${ctx.deployment.name}\`.\n`,
    );
    return { exitCode: 0, data: [] };
  }
}
