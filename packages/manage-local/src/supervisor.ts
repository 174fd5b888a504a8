import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import {
  closeSync,
  createWriteStream,
  existsSync,
  fchownSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type WriteStream,
} from "node:fs";
import { constants as osConstants } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import type { PlannedProbe, PlannedProcess, ProcessPlan } from "@nix2dream/render-procfile";
import { ControlServer, socketPathFor } from "./control.js";
import { LocalManagerError } from "./errors.js";
import {
  formatLines,
  LineSplitter,
  prefixBlock,
  prefixFor,
  splitBlock,
  timestamp,
} from "./lines.js";
import { FifoPool, type PipeEnds, readEnd, removeAbandonedFifos } from "./pipes.js";
import { describeHolder, portHolder, portOwnedByGroup } from "./ports.js";
import { groupHasLiveMembers, killGroup, runProbe } from "./probe.js";
import { acquireLock, findLeftovers, RunRecord, stopLeftovers, Watchdog } from "./record.js";
import {
  canSwitchUsers,
  launcherStateRoot,
  lookupRunAs,
  notSwitchedNote,
  prepareStateFor,
  type RunAs,
} from "./users.js";
import { PathWatcher } from "./watch.js";

/**
 * Where a process is in its life:
 * `waiting` for its dependencies, `starting` (spawned, probe not yet passed), `running`
 * (spawned and ready), `backoff` (waiting to be restarted), `stopping`, and the final states
 * `exited` (code 0), `failed`, `blocked` (never started: a dependency cannot be met) and
 * `stopped` (by `stop`, `down` or a signal).
 */
export type ProcessState =
  | "waiting"
  | "starting"
  | "running"
  | "backoff"
  | "stopping"
  | "exited"
  | "failed"
  | "blocked"
  | "stopped";

/** Probe state: `none` when the process has no probe. */
export type ProcessHealth = "none" | "starting" | "healthy" | "unhealthy";

/** One row of `ps`: what a process is doing now. */
export interface ProcessStatus {
  name: string;
  service: string;
  replica: number;
  state: ProcessState;
  health: ProcessHealth;
  /** Process (and process group) id while it runs. */
  pid: number | null;
  /** Restarts so far, by policy, liveness failure or `restart` (all of them; `maxRetries` counts only those in a row). */
  restarts: number;
  /** Seconds since the current run started, while it runs. */
  uptime: number | null;
  exitCode: number | null;
  signal: string | null;
  /** Why the process is in its state (why it is blocked, why it failed, when it restarts). */
  reason: string | null;
  ports: Record<string, number>;
}

/** How a supervisor run ended. */
export interface SupervisorResult {
  /** 0 when no process failed or was blocked, 1 otherwise. */
  exitCode: number;
  /** Names of the processes that failed or never started. */
  failed: string[];
  processes: ProcessStatus[];
}

/** Options of {@link Supervisor}. */
export interface SupervisorOptions {
  /** The process plan (`processes.json` of the procfile render). */
  plan: ProcessPlan;
  /** The render directory: commands run from here. */
  renderDir: string;
  /** Per-deployment state directory: log files (`logs/<process>.log`) and the control socket. */
  stateDir: string;
  /** Where multiplexed `name | line` output goes; default `process.stdout`. */
  output?: NodeJS.WritableStream;
  /** Colour the name prefixes (one stable colour per process). Default false. */
  color?: boolean;
  /** Prefix each line with the wall-clock time. Default false. */
  timestamps?: boolean;
  /** Base environment of every process; default `process.env`. The plan's `env` is added on top. */
  env?: NodeJS.ProcessEnv;
  /** Listen on the control socket. Default true. */
  control?: boolean;
  /** Write per-process log files. Default true. */
  logFiles?: boolean;
  /**
   * Size-based rotation of the per-process log files: once `<process>.log` holds `maxBytes`,
   * it becomes `<process>.log.1` (older ones shift up to `.<keep>`, the oldest is dropped) and
   * a new file begins, always at a line boundary. Default 10 MiB, 3 kept.
   */
  logRotation?: { maxBytes: number; keep: number };
  /** Stop everything on SIGINT/SIGTERM/SIGHUP of this process (a second signal kills at once). Default false. */
  handleSignals?: boolean;
  /**
   * Seconds a run must last to count as stable: it resets the failures in a row that
   * `restart.maxRetries` and the backoff count. Default 10.
   */
  stableRun?: number;
  /** Longest line kept whole; longer ones are emitted in pieces. Default 16 MiB. */
  maxLineBytes?: number;
  /**
   * `up --watch`: watch each process's `watch` paths and restart its service when a file there
   * changes (debounced; ignore globs left out), and keep running when every process has
   * finished, for a new plan ({@link Supervisor.applyPlan}) to start them again; the run ends
   * on a signal, `down` or {@link Supervisor.shutdown}. Default false.
   */
  watch?: boolean;
}

/** What {@link Supervisor.applyPlan} did, by process name. */
export interface PlanChange {
  added: string[];
  removed: string[];
  /** Restarted because their planned definition changed. */
  changed: string[];
}

/** Events of a {@link Supervisor}. */
export interface SupervisorEvents {
  /** A process changed state or health. */
  state: [ProcessStatus];
  /** A supervisor message (also written to the output as `nix2dream | message`). */
  message: [string];
}

type LineSubscriber = (process: string, lines: Buffer[]) => void;

interface Proc {
  plan: PlannedProcess;
  state: ProcessState;
  health: ProcessHealth;
  child: ChildProcess | null;
  pid: number | null;
  /** Incremented on every spawn; callbacks of older runs are ignored. */
  gen: number;
  restarts: number;
  /** Automatic restarts since the last stable run or operator `restart`: the backoff exponent, and what `maxRetries` limits. */
  consecutive: number;
  startedAt: number | null;
  exitCode: number | null;
  signal: string | null;
  reason: string | null;
  spawned: boolean;
  completed: boolean;
  ready: boolean;
  stopRequested: boolean;
  livenessKill: boolean;
  backoffTimer: NodeJS.Timeout | null;
  exited: Promise<void> | null;
  closed: Promise<void> | null;
  probeAbort: AbortController | null;
  /** Why the last probe attempt failed (null after a success): shown to what waits for it. */
  lastProbeFailure: string | null;
  prefix: Buffer;
  /** Who the process runs as, when its service sets `user` and the supervisor is root. */
  runAs: RunAs | null;
  logFile: WriteStream | null;
  /** Bytes handed to the log file so far. */
  logBytes: number;
  /** The planned definition and the render's scripts it runs, when it was planned: what `applyPlan` compares. */
  definition: string;
}

const SYSTEM = "nix2dream";
const TERMINAL: ReadonlySet<ProcessState> = new Set(["exited", "failed", "blocked", "stopped"]);
/** Default of {@link SupervisorOptions.logRotation}. */
const DEFAULT_ROTATION = { maxBytes: 10 * 1024 * 1024, keep: 3 };
/** Default of {@link SupervisorOptions.stableRun}. */
const STABLE_RUN_SECONDS = 10;

/**
 * Runs a process plan on this machine: starts processes in dependency order, probes them,
 * restarts them by policy, multiplexes their output line by line, and stops them in reverse
 * dependency order (the stop signal to the whole process group, then SIGKILL after the grace
 * period). Serves a control socket under the state dir unless `control: false`.
 *
 * Call {@link Supervisor.start} then {@link Supervisor.wait}, or {@link Supervisor.run}.
 * The run ends when every process is in a final state or after {@link Supervisor.shutdown}.
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  /** The plan being run; {@link Supervisor.applyPlan} replaces it. */
  plan: ProcessPlan;
  readonly renderDir: string;
  readonly stateDir: string;
  /** Path of the control socket (when `control` is on). */
  readonly socketPath: string;
  readonly #opts: SupervisorOptions;
  readonly #output: NodeJS.WritableStream;
  #procs: Proc[];
  readonly #byName = new Map<string, Proc>();
  readonly #byService = new Map<string, Proc[]>();
  readonly #width: number;
  readonly #color: boolean;
  readonly #watchers = new Map<string, PathWatcher>();
  /** {@link Supervisor.applyPlan} is stopping what changed: hold the scheduler back. */
  #applying = false;
  /** Under `watch`, said that everything has finished (once until something starts again). */
  #idleSaid = false;
  readonly #systemPrefix: Buffer;
  readonly #streams = new Set<Readable>();
  readonly #blockedSinks = new Set<NodeJS.WritableStream>();
  readonly #subscribers = new Set<{ names: Set<string> | null; fn: LineSubscriber }>();
  readonly #reaps = new Set<Promise<void>>();
  /** Log streams ended but perhaps not yet flushed (rotated, or of removed processes). */
  readonly #endingLogs = new Set<Promise<void>>();
  #control: ControlServer | null = null;
  #record: RunRecord | null = null;
  #watchdog: Watchdog | null = null;
  #fifos: FifoPool | null = null;
  #releaseLock: (() => void) | null = null;
  #claimed: Promise<void> | null = null;
  #started = false;
  #shutdown: Promise<void> | null = null;
  #busy = 0;
  #finishing = false;
  #done: Promise<SupervisorResult>;
  #resolveDone!: (r: SupervisorResult) => void;
  #onProcessExit = () => this.#killEverything();
  #signalsSeen = 0;
  /** The output cannot be written any more (its reader is gone: `up | head`, a closed terminal). */
  #outputGone = false;
  #onOutputError = (err: NodeJS.ErrnoException) => {
    if (this.#outputGone) return;
    this.#outputGone = true;
    // Whatever waited for the output to drain must not wait forever.
    if (this.#blockedSinks.delete(this.#output) && this.#blockedSinks.size === 0) {
      for (const s of this.#streams) s.resume();
    }
    this.emit("message", `the output is gone (${err.code ?? err.message}); stopping all processes`);
    void this.shutdown();
  };
  // Counted here, not inferred from a shutdown in progress: a caller (the CLI) may already have
  // begun a graceful shutdown for this very signal through its AbortSignal.
  #onSignal = () => {
    this.#signalsSeen += 1;
    if (this.#signalsSeen > 1) this.#killEverything();
    else void this.shutdown();
  };

  constructor(opts: SupervisorOptions) {
    super();
    this.#opts = opts;
    this.plan = opts.plan;
    this.renderDir = path.resolve(opts.renderDir);
    this.stateDir = path.resolve(opts.stateDir);
    this.socketPath = socketPathFor(this.stateDir);
    this.#output = opts.output ?? process.stdout;
    // EPIPE and EIO come as 'error' events; unhandled, they would end the process with a stack
    // trace and leave the processes to the exit handler's SIGKILL.
    this.#output.on("error", this.#onOutputError);
    validatePlan(opts.plan);
    this.#width = Math.max(SYSTEM.length, ...opts.plan.processes.map((p) => p.name.length));
    const color = opts.color ?? false;
    this.#systemPrefix = Buffer.from(
      color ? `\x1b[1m${SYSTEM.padEnd(this.#width)} | \x1b[0m` : `${SYSTEM.padEnd(this.#width)} | `,
    );
    this.#color = color;
    this.#procs = opts.plan.processes.map((plan) => this.#newProc(plan));
    this.#index();
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** A process of the plan, before its first start. */
  #newProc(plan: PlannedProcess): Proc {
    return {
      plan,
      state: "waiting",
      health: plan.probe ? "starting" : "none",
      child: null,
      pid: null,
      gen: 0,
      restarts: 0,
      consecutive: 0,
      startedAt: null,
      exitCode: null,
      signal: null,
      reason: null,
      spawned: false,
      completed: false,
      ready: false,
      stopRequested: false,
      livenessKill: false,
      backoffTimer: null,
      exited: null,
      closed: null,
      probeAbort: null,
      lastProbeFailure: null,
      prefix: prefixFor(plan.name, Math.max(this.#width, plan.name.length), this.#color),
      runAs: null,
      logFile: null,
      logBytes: 0,
      definition: this.#definitionOf(plan),
    };
  }

  /**
   * A process's whole definition: its plan entry plus the render's files its command runs (the
   * launcher script holds the environment, files and the program's argv).
   */
  #definitionOf(plan: PlannedProcess): string {
    const scripts = plan.command.map((arg) => {
      const file = path.resolve(this.renderDir, arg);
      if (!file.startsWith(`${this.renderDir}${path.sep}`)) return "";
      try {
        return readFileSync(file, "utf8");
      } catch {
        return "";
      }
    });
    return JSON.stringify([plan, scripts]);
  }

  /** Rebuilds the lookups by process and by service name. */
  #index() {
    this.#byName.clear();
    this.#byService.clear();
    for (const p of this.#procs) {
      this.#byName.set(p.plan.name, p);
      const list = this.#byService.get(p.plan.service) ?? [];
      list.push(p);
      this.#byService.set(p.plan.service, list);
    }
  }

  #openLog(p: Proc) {
    p.logFile = createWriteStream(this.logFile(p.plan.name), { flags: "w" });
    p.logBytes = 0;
    p.logFile.on("error", (err) =>
      this.#say(`cannot write ${p.plan.name}'s log file: ${err.message}`),
    );
  }

  /**
   * Ends a log stream; the run waits for it before it is over, so the lines still queued on a
   * rotated or removed process's stream reach the disk before the supervisor exits.
   */
  #endLog(file: WriteStream | null) {
    if (!file) return;
    const ended = new Promise<void>((resolve) => {
      file.end(resolve);
      file.once("error", () => resolve());
    }).finally(() => this.#endingLogs.delete(ended));
    this.#endingLogs.add(ended);
  }

  /** Shifts `<process>.log` to `.1` (and `.1` to `.2`…) and starts a new file. */
  #rotateLog(p: Proc) {
    const { keep } = this.#opts.logRotation ?? DEFAULT_ROTATION;
    const file = this.logFile(p.plan.name);
    // Writes still queued on the old stream land in the renamed file: same inode.
    this.#endLog(p.logFile);
    try {
      if (keep < 1) rmSync(file, { force: true });
      for (let i = keep - 1; i >= 1; i--) {
        if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
      }
      if (keep >= 1) renameSync(file, `${file}.1`);
    } catch (err) {
      this.#say(`cannot rotate ${p.plan.name}'s log file: ${(err as Error).message}`);
    }
    this.#openLog(p);
  }

  /** Path of a process's log file. */
  logFile(name: string): string {
    return path.join(this.stateDir, "logs", `${name}.log`);
  }

  /**
   * Opens log files and the control socket, then starts every process whose dependencies
   * allow it. Resolves once that is done (not when processes are ready); rejects when another
   * supervisor already serves this state dir.
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error("This supervisor was already started.");
    await this.claim();
    this.#started = true;
    if (this.#opts.logFiles ?? true) {
      for (const p of this.#procs) this.#openLog(p);
    }
    process.on("exit", this.#onProcessExit);
    if (this.#opts.handleSignals) {
      process.on("SIGINT", this.#onSignal);
      process.on("SIGTERM", this.#onSignal);
      // A closed terminal or a dropped ssh session: stop as for Ctrl-C rather than die at once.
      process.on("SIGHUP", this.#onSignal);
    }
    this.#syncWatchers();
    this.#schedule();
  }

  /**
   * Makes this supervisor the only one of its state dir before anything starts: takes the lock
   * (rejects with `AlreadyRunningError` when another supervisor holds it), stops what a
   * supervisor that died left running (from `<state>/supervisor.json`), starts the watchdog
   * and listens on the control socket. {@link Supervisor.start} calls it when not done yet.
   */
  claim(): Promise<void> {
    this.#claimed ??= this.#claim();
    return this.#claimed;
  }

  async #claim(): Promise<void> {
    mkdirSync(path.join(this.stateDir, "logs"), { recursive: true });
    this.#releaseLock = acquireLock(this.stateDir);
    try {
      const leftovers = findLeftovers(this.stateDir);
      if (leftovers.length > 0) {
        const list = leftovers.map((p) => `${p.name} (pid ${p.pid})`).join(", ");
        this.#say(`stopping what a supervisor that died left running: ${list}`);
        await stopLeftovers(leftovers);
      }
      this.#record = new RunRecord(this.stateDir);
      const grace = Math.max(0, ...this.#procs.map((p) => p.plan.stop.gracePeriod));
      this.#watchdog = new Watchdog(grace);
      removeAbandonedFifos(this.stateDir);
      this.#fifos = new FifoPool(this.stateDir);
      this.#fifos.fill(this.#procs.length * 2);
      this.#prepareUsers();
      if (this.#opts.control ?? true) {
        this.#control = new ControlServer(this, this.socketPath);
        await this.#control.listen();
      }
    } catch (err) {
      this.#unclaim();
      throw err;
    }
  }

  /**
   * Resolves each process's `user` and hands it its state directory (root only); refuses a user
   * the machine does not have. Not root, says once per service that `user` is not applied.
   */
  #prepareUsers(procs: readonly Proc[] = this.#procs) {
    const switching = canSwitchUsers();
    const said = new Set<string>();
    const env = this.#opts.env ?? process.env;
    for (const p of procs) {
      const { user, service } = p.plan;
      if (user === undefined) continue;
      const first = !said.has(service);
      said.add(service);
      if (!switching) {
        if (first) this.#say(notSwitchedNote(p.plan));
        continue;
      }
      p.runAs = lookupRunAs(service, user, p.plan.group);
      if (!first) continue;
      prepareStateFor(p.plan, p.runAs, {
        renderDir: this.renderDir,
        stateRoot: launcherStateRoot(this.renderDir, env),
        launcher: p.plan.command[1] ?? "",
      });
      this.#say(`${service} runs as ${p.runAs.user} (uid ${p.runAs.uid}, gid ${p.runAs.gid})`);
    }
  }

  /** Ends the watchdog, removes the record and releases the lock: nothing of ours runs any more. */
  #unclaim() {
    this.#fifos?.close();
    this.#watchdog?.close();
    this.#record?.clear();
    this.#releaseLock?.();
    this.#releaseLock = null;
  }

  /** Resolves when the run is over: every process stopped or finished, output flushed. */
  wait(): Promise<SupervisorResult> {
    return this.#done;
  }

  /** `start()`, then `wait()`; aborting `signal` shuts everything down. */
  async run(signal?: AbortSignal): Promise<SupervisorResult> {
    const onAbort = () => void this.shutdown();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (!signal?.aborted) await this.start();
      if (signal?.aborted) void this.shutdown();
      return await this.wait();
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Every process's status, in plan order. */
  status(): ProcessStatus[] {
    return this.#procs.map((p) => this.#statusOf(p));
  }

  /**
   * Stops every process in reverse dependency order and ends the run. A process is stopped
   * only after every process that depends on it has stopped. Resolves when all are gone.
   */
  shutdown(): Promise<void> {
    if (this.#shutdown) return this.#shutdown;
    this.#shutdown = (async () => {
      if (this.#finishing) return;
      if (!this.#started) {
        this.#started = true;
        this.#finish();
        return;
      }
      this.#say("stopping all processes");
      this.#closeWatchers();
      for (const p of this.#procs) {
        if (p.state === "waiting") this.#setState(p, "stopped", "not started: shutting down");
      }
      await this.#stopDependentsFirst(this.#procs);
      this.#checkDone();
    })();
    return this.#shutdown;
  }

  /**
   * Restarts every replica of a service, or one process (`web.2`): stops it if it runs (stop signal,
   * grace period, SIGKILL) and starts it again. A process that is not running is started
   * when its dependencies allow.
   */
  async restart(name: string): Promise<ProcessStatus[]> {
    const targets = this.#resolve(name);
    this.#busy++;
    try {
      await Promise.all(
        targets.map(async (p) => {
          if (this.#shutdown) return;
          const wasRunning =
            p.state === "starting" || p.state === "running" || p.state === "stopping";
          this.#say(`restarting ${p.plan.name} (requested)`);
          await this.#stopProcess(p);
          if (this.#shutdown) return;
          p.consecutive = 0;
          p.stopRequested = false;
          if (wasRunning || p.spawned) p.restarts++;
          if (wasRunning) this.#spawn(p);
          else this.#setState(p, "waiting", null);
        }),
      );
    } finally {
      this.#busy--;
    }
    this.#schedule();
    return targets.map((p) => this.#statusOf(p));
  }

  /** Stops every replica of a service, or one process, without stopping its dependents. */
  async stop(name: string): Promise<ProcessStatus[]> {
    const targets = this.#resolve(name);
    this.#busy++;
    try {
      await Promise.all(targets.map((p) => this.#stopProcess(p)));
    } finally {
      this.#busy--;
    }
    this.#schedule();
    return targets.map((p) => this.#statusOf(p));
  }

  /** Stops `targets`, each only after those of them that depend on it. */
  async #stopDependentsFirst(targets: Proc[]): Promise<void> {
    const stops = new Map<Proc, Promise<void>>();
    const stopOf = (p: Proc): Promise<void> => {
      let s = stops.get(p);
      if (!s) {
        const dependents = targets.filter((q) => q !== p && p.plan.service in q.plan.dependsOn);
        s = Promise.all(dependents.map(stopOf)).then(() => this.#stopProcess(p));
        stops.set(p, s);
      }
      return s;
    };
    await Promise.all(targets.map(stopOf));
  }

  /**
   * Runs a new plan of the same deployment without touching what did not change: processes
   * whose planned definition changed are stopped (dependents first) and started again in
   * dependency order, removed ones are stopped, added ones start when their dependencies allow;
   * a process blocked by a dependency gets another chance. Throws {@link InvalidPlanError},
   * with nothing changed, when the new plan cannot run.
   */
  async applyPlan(plan: ProcessPlan): Promise<PlanChange> {
    validatePlan(plan);
    const none: PlanChange = { added: [], removed: [], changed: [] };
    if (this.#shutdown || this.#finishing || !this.#started) return none;
    const next = new Map(plan.processes.map((p) => [p.name, p]));
    const removed = this.#procs.filter((p) => !next.has(p.plan.name));
    const changed = this.#procs.filter((p) => {
      const planned = next.get(p.plan.name);
      return planned !== undefined && this.#definitionOf(planned) !== p.definition;
    });
    const added = plan.processes.filter((p) => !this.#byName.has(p.name)).map((p) => p.name);
    this.#busy++;
    this.#applying = true;
    try {
      await this.#stopDependentsFirst([...removed, ...changed]);
      for (const p of removed) this.#endLog(p.logFile);
      for (const p of changed) this.#renew(p, next.get(p.plan.name) as PlannedProcess);
      const kept = new Map(
        this.#procs.filter((p) => !removed.includes(p)).map((p) => [p.plan.name, p]),
      );
      this.#procs = plan.processes.map((planned) => {
        const old = kept.get(planned.name);
        if (old) return old;
        const p = this.#newProc(planned);
        if (this.#opts.logFiles ?? true) this.#openLog(p);
        return p;
      });
      this.#index();
      this.plan = plan;
      // Added processes and changed ones (their `user` may be new) get their user resolved.
      this.#prepareUsers(
        this.#procs.filter((p) => changed.includes(p) || added.includes(p.plan.name)),
      );
      for (const p of this.#procs) if (p.state === "blocked") this.#setState(p, "waiting", null);
    } finally {
      this.#applying = false;
      this.#busy--;
    }
    const change = {
      added,
      removed: removed.map((p) => p.plan.name),
      changed: changed.map((p) => p.plan.name),
    };
    this.#say(`new plan: ${describeChange(change)}`);
    this.#syncWatchers();
    this.#schedule();
    return change;
  }

  /** A process that will start again under its new definition. */
  #renew(p: Proc, planned: PlannedProcess) {
    if (p.spawned) p.restarts++;
    p.plan = planned;
    p.runAs = null;
    p.definition = this.#definitionOf(planned);
    p.consecutive = 0;
    p.spawned = false;
    p.completed = false;
    p.ready = false;
    p.lastProbeFailure = null;
    this.#setState(p, "waiting", null, planned.probe ? "starting" : "none");
  }

  /** Watches what each service's `watch` names (under `watch: true`), replacing earlier watchers. */
  #syncWatchers() {
    this.#closeWatchers();
    if (!this.#opts.watch || this.#shutdown) return;
    for (const [service, procs] of this.#byService) {
      const spec = procs[0]?.plan.watch;
      if (!spec || spec.paths.length === 0) continue;
      const watcher = new PathWatcher(
        spec,
        (files) => void this.#restartForChange(service, files),
        (message) => this.#say(`${service}: ${message}`),
      );
      this.#watchers.set(service, watcher);
    }
  }

  #closeWatchers() {
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }

  async #restartForChange(service: string, files: string[]) {
    if (this.#shutdown || !this.#byService.has(service)) return;
    const shown = files.slice(0, 3).map((f) => path.relative(process.cwd(), f) || f);
    const more = files.length > 3 ? ` and ${files.length - 3} more` : "";
    this.#say(`${service}: ${shown.join(", ")}${more} changed`);
    try {
      await this.restart(service);
    } catch {
      // Removed by a new plan meanwhile.
    }
  }

  /**
   * Receives every output line of the named processes (all when `names` is empty) from now on.
   * Returns the function that unsubscribes.
   */
  subscribe(names: string[], fn: LineSubscriber): () => void {
    const resolved =
      names.length === 0
        ? null
        : new Set(names.flatMap((n) => this.#resolve(n)).map((p) => p.plan.name));
    const sub = { names: resolved, fn };
    this.#subscribers.add(sub);
    return () => this.#subscribers.delete(sub);
  }

  /**
   * How many bytes of a process's log file hold everything it printed until now; resolves once
   * those bytes are on disk. With {@link Supervisor.subscribe} first, a reader gets every line
   * exactly once: the file up to this offset, then the subscription.
   */
  logFileOffset(name: string): Promise<number> {
    const p = this.#byName.get(name);
    if (!p?.logFile || p.logFile.closed) return Promise.resolve(p?.logBytes ?? 0);
    const bytes = p.logBytes;
    const file = p.logFile;
    return new Promise((resolve) => {
      // Writes complete in order, so an empty one completes after everything before it.
      file.write(Buffer.alloc(0), () => resolve(bytes));
    });
  }

  /** The processes a name means: every replica of a service, or one process by its name. */
  #resolve(name: string): Proc[] {
    const list = this.#byService.get(name);
    if (list) return list;
    const p = this.#byName.get(name);
    if (p) return [p];
    const known = this.#procs.map((q) => q.plan.name).join(", ");
    throw new UnknownProcessError(
      `There is no process or service \`${name}\`; known processes: ${known}.`,
    );
  }

  #statusOf(p: Proc): ProcessStatus {
    const live = p.state === "starting" || p.state === "running" || p.state === "stopping";
    return {
      name: p.plan.name,
      service: p.plan.service,
      replica: p.plan.replica,
      state: p.state,
      health: p.health,
      pid: p.pid,
      restarts: p.restarts,
      uptime:
        live && p.startedAt !== null ? Math.round((Date.now() - p.startedAt) / 100) / 10 : null,
      exitCode: p.exitCode,
      signal: p.signal,
      reason: p.reason ?? (p.state === "waiting" ? this.#waitReason(p) : null),
      ports: { ...p.plan.ports },
    };
  }

  #setState(p: Proc, state: ProcessState, reason: string | null, health?: ProcessHealth) {
    p.state = state;
    p.reason = reason;
    if (health) p.health = health;
    this.emit("state", this.#statusOf(p));
  }

  /** Writes a supervisor line to the output. */
  #say(message: string) {
    const time = this.#opts.timestamps ? timestamp() : null;
    if (!this.#outputGone) {
      this.#output.write(formatLines([Buffer.from(message)], this.#systemPrefix, time));
    }
    this.emit("message", message);
  }

  /** Starts what can start, blocks what never can, and notices when everything is over. */
  #schedule() {
    if (this.#applying) return;
    if (this.#shutdown || !this.#started) return this.#checkDone();
    let changed = true;
    while (changed) {
      changed = false;
      for (const p of this.#procs) {
        if (p.state !== "waiting") continue;
        const verdict = this.#dependencyVerdict(p);
        if (verdict === "go") {
          this.#spawn(p);
          changed = true;
        } else if (verdict !== "wait") {
          this.#setState(p, "blocked", verdict);
          this.#say(`${p.plan.name} will not start: ${verdict}`);
          changed = true;
        }
      }
    }
    this.#checkDone();
  }

  /** What a waiting process waits for: its first unmet dependency, with its last probe failure. */
  #waitReason(p: Proc): string | null {
    for (const [service, condition] of Object.entries(p.plan.dependsOn)) {
      for (const r of this.#byService.get(service) ?? []) {
        if (condition === "started" && !r.spawned) return `waiting for \`${r.plan.name}\` to start`;
        if (condition === "completed" && !r.completed)
          return `waiting for \`${r.plan.name}\` to complete`;
        if (condition === "healthy" && !r.ready) {
          const last = r.lastProbeFailure ? ` (last probe: ${r.lastProbeFailure})` : "";
          return `waiting for \`${r.plan.name}\` to be healthy${last}`;
        }
      }
    }
    return null;
  }

  /** Says which waiting processes a process that is not healthy holds back, and why. */
  #sayWhoWaits(p: Proc) {
    const waiting = this.#procs.filter(
      (q) => q.state === "waiting" && q.plan.dependsOn[p.plan.service] === "healthy",
    );
    if (waiting.length === 0) return;
    const names = waiting.map((q) => q.plan.name).join(", ");
    this.#say(
      `${names} ${waiting.length === 1 ? "waits" : "wait"} for \`${p.plan.name}\` to be healthy (last probe: ${p.lastProbeFailure})`,
    );
  }

  /** "go", "wait", or why the dependencies can never be met. */
  #dependencyVerdict(p: Proc): string {
    for (const [service, condition] of Object.entries(p.plan.dependsOn)) {
      const replicas = this.#byService.get(service);
      if (!replicas) return `dependency \`${service}\` is not part of this deployment`;
      for (const r of replicas) {
        const met =
          condition === "started" ? r.spawned : condition === "healthy" ? r.ready : r.completed;
        if (met) continue;
        const dep = `dependency \`${r.plan.name}\``;
        if (r.state === "failed") return `${dep} failed (${r.reason ?? describeExit(r)})`;
        if (r.state === "blocked") return `${dep} cannot start (${r.reason})`;
        if (r.state === "stopped") return `${dep} was stopped`;
        if (r.state === "exited") {
          return condition === "healthy"
            ? `${dep} exited before it became healthy`
            : `${dep} exited without completing`;
        }
        return "wait";
      }
    }
    return "go";
  }

  #env(p: Proc): NodeJS.ProcessEnv {
    const base = this.#opts.env ?? process.env;
    if (!p.runAs) return { ...base, ...p.plan.env };
    // As runuser and systemd's User= do: the user's own HOME, USER and LOGNAME.
    const { user, home } = p.runAs;
    return { ...base, HOME: home, USER: user, LOGNAME: user, ...p.plan.env };
  }

  /** spawn() options that run a process as its service's user (none when it has none). */
  #identity(p: Proc): { uid?: number; gid?: number } {
    return p.runAs ? { uid: p.runAs.uid, gid: p.runAs.gid } : {};
  }

  #spawn(p: Proc) {
    const gen = ++p.gen;
    this.#idleSaid = false;
    p.definition = this.#definitionOf(p.plan);
    const [file, ...args] = p.plan.command;
    p.stopRequested = false;
    p.livenessKill = false;
    p.exitCode = null;
    p.signal = null;
    p.ready = !p.plan.probe;
    p.spawned = true;
    p.startedAt = Date.now();
    const clash = portClash(p.plan.ports);
    if (clash) {
      this.#setState(p, "starting", null);
      this.#onExit(p, gen, null, null, clash);
      return;
    }
    let child: ChildProcess;
    const pipes = this.#childPipes();
    try {
      // The user must be able to reopen its stdout/stderr (/dev/stdout) by path.
      if (p.runAs) for (const end of pipes ?? []) fchownSync(end.write, p.runAs.uid, p.runAs.gid);
      child = spawn(file ?? "", args, {
        cwd: this.renderDir,
        env: this.#env(p),
        ...this.#identity(p),
        detached: true,
        stdio: ["ignore", pipes?.[0].write ?? "pipe", pipes?.[1].write ?? "pipe"],
      });
    } catch (err) {
      for (const end of pipes ?? []) closeSync(end.read);
      this.#setState(p, "starting", null);
      this.#onExit(p, gen, null, null, (err as Error).message);
      return;
    } finally {
      // The child has its own copies; ours would keep the pipes open after it exits.
      for (const end of pipes ?? []) closeSync(end.write);
    }
    p.child = child;
    p.pid = child.pid ?? null;
    if (p.pid !== null) {
      const signal = stopSignal(p);
      this.#record?.add({
        name: p.plan.name,
        pid: p.pid,
        stopSignal: signal,
        gracePeriod: p.plan.stop.gracePeriod,
      });
      this.#watchdog?.watch(p.pid, signal, p.plan.stop.gracePeriod);
    }
    let resolveExit!: () => void;
    p.exited = new Promise((resolve) => {
      resolveExit = resolve;
    });
    const closed = pipes
      ? pipes.map((end) => this.#pipe(p, readEnd(end.read)))
      : [this.#pipe(p, child.stdout), this.#pipe(p, child.stderr)];
    p.closed = Promise.all(closed).then(() => undefined);
    let over = false;
    child.on("error", (err) => {
      if (over) return;
      over = true;
      resolveExit();
      this.#onExit(p, gen, null, null, err.message);
    });
    child.on("exit", (code, signal) => {
      if (over) return;
      over = true;
      resolveExit();
      this.#onExit(p, gen, code, signal);
    });
    if (p.plan.probe) {
      this.#setState(p, "starting", null, "starting");
      this.#say(`${p.plan.name} started (pid ${p.pid}), waiting until it is healthy`);
      this.#probeLoop(p, gen);
    } else {
      this.#setState(p, "running", null, "none");
      this.#say(`${p.plan.name} started (pid ${p.pid})`);
    }
  }

  /** Real pipes for a child's stdout and stderr, or null to use Node's (socketpairs). */
  #childPipes(): [PipeEnds, PipeEnds] | null {
    const out = this.#fifos?.pipe();
    if (!out) return null;
    const err = this.#fifos?.pipe();
    if (err) return [out, err];
    closeSync(out.read);
    closeSync(out.write);
    return null;
  }

  #pipe(p: Proc, stream: Readable | null): Promise<void> {
    if (!stream) return Promise.resolve();
    const splitter = new LineSplitter(this.#opts.maxLineBytes ?? 16 * 1024 * 1024);
    this.#streams.add(stream);
    if (this.#blockedSinks.size > 0) stream.pause();
    stream.on("data", (chunk: Buffer) => {
      const block = splitter.push(chunk);
      if (block) this.#emitBlock(p, block);
    });
    return new Promise((resolve) => {
      stream.on("close", () => {
        const rest = splitter.flush();
        if (rest) this.#emitBlock(p, rest);
        this.#streams.delete(stream);
        resolve();
      });
    });
  }

  /** Writes a block of whole lines (newlines included) to the output, the log file and subscribers. */
  #emitBlock(p: Proc, block: Buffer) {
    const time = this.#opts.timestamps ? timestamp() : null;
    if (!this.#outputGone && !this.#output.write(prefixBlock(block, p.prefix, time))) {
      this.#backpressure(this.#output);
    }
    if (p.logFile) {
      p.logBytes += block.length;
      if (!p.logFile.write(block)) this.#backpressure(p.logFile);
      const { maxBytes } = this.#opts.logRotation ?? DEFAULT_ROTATION;
      // Not while the file holds the children back: its drain would never come once ended.
      if (p.logBytes >= maxBytes && !this.#blockedSinks.has(p.logFile)) this.#rotateLog(p);
    }
    if (this.#subscribers.size === 0) return;
    let lines: Buffer[] | null = null;
    for (const sub of this.#subscribers) {
      if (sub.names !== null && !sub.names.has(p.plan.name)) continue;
      lines ??= splitBlock(block);
      sub.fn(p.plan.name, lines);
    }
  }

  /** A sink is full: pause every child's output until it drains, so nothing is dropped. */
  #backpressure(sink: NodeJS.WritableStream) {
    if (this.#blockedSinks.has(sink)) return;
    this.#blockedSinks.add(sink);
    for (const s of this.#streams) s.pause();
    sink.once("drain", () => {
      this.#blockedSinks.delete(sink);
      if (this.#blockedSinks.size === 0) for (const s of this.#streams) s.resume();
    });
  }

  async #probeLoop(p: Proc, gen: number) {
    const probe = p.plan.probe;
    if (!probe) return;
    const abort = new AbortController();
    p.probeAbort = abort;
    const began = Date.now();
    const retries = Math.max(1, probe.retries);
    let failures = 0;
    const where = {
      cwd: this.renderDir,
      env: this.#env(p),
      execPrefix: p.plan.execPrefix,
      ...this.#identity(p),
    };
    await sleep(Math.min(probe.interval * 1000, 100), abort.signal);
    while (!abort.signal.aborted && p.gen === gen) {
      let outcome = await runProbe(probe, where);
      // Until it is ready, an answer only counts when the process itself gave it.
      if (outcome.ok && !p.ready && p.pid !== null)
        outcome = answeredBy(probe, p.pid, p.plan.name) ?? outcome;
      // A process being stopped is not judged any more.
      if (abort.signal.aborted || p.gen !== gen || p.stopRequested || p.livenessKill) return;
      if (outcome.ok) {
        failures = 0;
        p.lastProbeFailure = null;
        if (!p.ready) {
          p.ready = true;
          this.#setState(p, "running", null, "healthy");
          this.#say(`${p.plan.name} is healthy`);
          this.#schedule();
        } else if (p.health !== "healthy") {
          this.#setState(p, p.state, null, "healthy");
          this.#say(`${p.plan.name} is healthy again`);
        }
      } else {
        p.lastProbeFailure = outcome.detail;
        const inStartPeriod = !p.ready && Date.now() - began < probe.startPeriod * 1000;
        if (!inStartPeriod) failures++;
        if (failures >= retries && p.health !== "unhealthy") {
          const why = `${probe.type} probe failed ${failures} time(s): ${outcome.detail}`;
          this.#setState(p, p.state, why, "unhealthy");
          if (!p.ready) this.#sayWhoWaits(p);
          if (p.plan.restart.policy === "no") {
            this.#say(`${p.plan.name} is unhealthy (${why}); restart policy "no" keeps it running`);
          } else {
            this.#say(`${p.plan.name} is unhealthy (${why}); restarting it`);
            p.livenessKill = true;
            void this.#terminate(p);
            return;
          }
        }
      }
      await sleep(probe.interval * 1000, abort.signal);
    }
  }

  #onExit(
    p: Proc,
    gen: number,
    code: number | null,
    signal: NodeJS.Signals | null,
    error?: string,
  ) {
    if (p.gen !== gen) return;
    const pgid = p.pid;
    p.child = null;
    p.pid = null;
    p.ready = false;
    p.probeAbort?.abort();
    p.probeAbort = null;
    p.exitCode = code;
    p.signal = signal;
    const ranFor = p.startedAt === null ? 0 : Date.now() - p.startedAt;
    p.startedAt = null;
    if (p.stopRequested) {
      this.#setState(p, "stopped", null, p.plan.probe ? "starting" : "none");
      this.#say(`${p.plan.name} stopped (${error ?? describeExit(p)})`);
      this.#schedule();
      return;
    }
    // Leftovers in the group (a grandchild the main process did not wait for) must not outlive it.
    this.#reapLater(pgid, p);
    const failed = error !== undefined || code !== 0 || p.livenessKill;
    const what = error ?? (p.livenessKill ? "killed after failing its probe" : describeExit(p));
    if (!failed) p.completed = true;
    const policy = p.plan.restart.policy;
    const wantRestart = policy === "always" || (policy === "on-failure" && failed);
    const max = p.plan.restart.maxRetries;
    const health = p.plan.probe ? "starting" : "none";
    if (ranFor >= (this.#opts.stableRun ?? STABLE_RUN_SECONDS) * 1000) p.consecutive = 0;
    if (wantRestart && !this.#shutdown && (max === null || p.consecutive < max)) {
      const { initial, factor, max: cap } = p.plan.restart.backoff;
      const delay = Math.max(0, Math.min(initial * factor ** p.consecutive, cap));
      p.consecutive++;
      const reason = `${what}; restarting in ${formatSeconds(delay)}`;
      this.#setState(p, "backoff", reason, health);
      this.#say(`${p.plan.name} ${reason}`);
      p.backoffTimer = setTimeout(() => {
        p.backoffTimer = null;
        if (p.state !== "backoff" || this.#shutdown) return;
        p.restarts++;
        this.#spawn(p);
      }, delay * 1000);
      return;
    }
    if (failed) {
      const reason =
        wantRestart && max !== null
          ? `${what}; gave up after ${p.consecutive} restart(s) in a row`
          : what;
      this.#setState(p, "failed", reason, health);
      this.#say(`${p.plan.name} failed: ${reason}`);
    } else {
      this.#setState(p, "exited", what, health);
      this.#say(`${p.plan.name} ${what}`);
    }
    this.#schedule();
  }

  #reapLater(pgid: number | null, p: Proc) {
    if (pgid === null) return;
    const reap = this.#reapGroup(pgid, p).finally(() => {
      this.#reaps.delete(reap);
      this.#checkDone();
    });
    this.#reaps.add(reap);
  }

  /** Stop signal to what is left of a group, grace period, then SIGKILL. */
  async #reapGroup(pgid: number, p: Proc) {
    if (groupHasLiveMembers(pgid)) {
      killGroup(pgid, stopSignal(p));
      await waitGroupGone(pgid, Date.now() + p.plan.stop.gracePeriod * 1000);
      if (groupHasLiveMembers(pgid)) killGroup(pgid, "SIGKILL");
    }
    this.#groupGone(pgid, p);
  }

  /** Takes a group that is gone off the record and the watchdog's list. */
  #groupGone(pgid: number, p: Proc) {
    this.#record?.remove(pgid);
    this.#watchdog?.forget(pgid, stopSignal(p));
  }

  /** Brings a process to rest: cancels a pending restart, or terminates the running one. */
  async #stopProcess(p: Proc): Promise<void> {
    if (p.backoffTimer) {
      clearTimeout(p.backoffTimer);
      p.backoffTimer = null;
    }
    if (p.state === "backoff") {
      // A crash-looping process stopped by shutdown still counts as failed.
      if (this.#shutdown) this.#setState(p, "failed", `stopped while restarting: ${p.reason}`);
      else this.#setState(p, "stopped", null);
      return;
    }
    if (p.state === "waiting") {
      this.#setState(p, "stopped", null);
      return;
    }
    if (p.child) {
      p.stopRequested = true;
      await this.#terminate(p);
      // Still crash-looping (no stable run since its last failure): the run did not go well.
      if (this.#shutdown && p.consecutive > 0) {
        this.#setState(p, "failed", `stopped while crash-looping (${p.restarts} restart(s))`);
      }
    }
    await p.closed;
  }

  /** The stop signal to the process group, the grace period, then SIGKILL; resolves when the group is gone. */
  async #terminate(p: Proc) {
    const pgid = p.pid;
    const exited = p.exited;
    if (pgid === null || !exited) return;
    if (p.stopRequested) this.#setState(p, "stopping", null);
    const signal = stopSignal(p);
    const deadline = Date.now() + p.plan.stop.gracePeriod * 1000;
    killGroup(pgid, signal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      exited,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    await waitGroupGone(pgid, deadline);
    if (groupHasLiveMembers(pgid)) {
      this.#say(
        `${p.plan.name} did not stop within ${formatSeconds(p.plan.stop.gracePeriod)}; sending SIGKILL`,
      );
      killGroup(pgid, "SIGKILL");
    }
    await exited;
    if (p.stopRequested) this.#groupGone(pgid, p);
  }

  #checkDone() {
    if (!this.#started || this.#finishing || this.#busy > 0) return;
    if (this.#reaps.size > 0) return;
    if (!this.#procs.every((p) => TERMINAL.has(p.state))) return;
    if (this.#opts.watch && this.#shutdown === null) {
      // `up --watch`: an edit may bring them back; only a signal or `down` ends the run.
      if (!this.#idleSaid && this.#procs.length > 0) {
        this.#say("every process has finished; waiting for changes (Ctrl-C to stop)");
      }
      this.#idleSaid = true;
      return;
    }
    if (this.#shutdown === null && this.#procs.length > 0) {
      this.#say("every process has finished");
    }
    this.#finish();
  }

  #finish() {
    this.#finishing = true;
    void (async () => {
      await Promise.all(this.#reaps);
      // Output pipes close when the last holder dies; one that escaped its group (setsid) could
      // hold them forever, so stop reading after a while rather than hang.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(this.#procs.map((p) => p.closed)),
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            for (const s of this.#streams) s.destroy();
            resolve();
          }, 3000);
        }),
      ]);
      clearTimeout(timer);
      for (const p of this.#procs) this.#endLog(p.logFile);
      await Promise.all(this.#endingLogs);
      await this.#control?.close();
      this.#closeWatchers();
      this.#unclaim();
      process.off("exit", this.#onProcessExit);
      process.off("SIGINT", this.#onSignal);
      process.off("SIGTERM", this.#onSignal);
      process.off("SIGHUP", this.#onSignal);
      // A gone output keeps its listener: writes still in flight fail later, harmlessly.
      if (!this.#outputGone) this.#output.off("error", this.#onOutputError);
      const processes = this.status();
      const failed = processes
        .filter((s) => s.state === "failed" || s.state === "blocked")
        .map((s) => s.name);
      this.#resolveDone({ exitCode: failed.length > 0 ? 1 : 0, failed, processes });
    })();
  }

  /** Last resort (the supervisor itself is exiting): SIGKILL every group at once. */
  #killEverything() {
    for (const p of this.#procs) if (p.pid !== null) killGroup(p.pid, "SIGKILL");
  }
}

/** A name given to `restart`/`stop` that is neither a process nor a service. */
export class UnknownProcessError extends LocalManagerError {
  declare readonly code: "MANAGE_LOCAL_UNKNOWN_PROCESS";
  constructor(message: string) {
    super("MANAGE_LOCAL_UNKNOWN_PROCESS", message);
    this.name = "UnknownProcessError";
  }
}

/** A process plan that cannot run: duplicate names, or a dependency cycle. */
export class InvalidPlanError extends LocalManagerError {
  declare readonly code: "MANAGE_LOCAL_INVALID_PLAN";
  constructor(message: string) {
    super("MANAGE_LOCAL_INVALID_PLAN", message);
    this.name = "InvalidPlanError";
  }
}

function validatePlan(plan: ProcessPlan) {
  const names = new Set<string>();
  for (const p of plan.processes) {
    if (names.has(p.name))
      throw new InvalidPlanError(`The process plan has two processes named \`${p.name}\`.`);
    names.add(p.name);
    if (p.command.length === 0)
      throw new InvalidPlanError(`The process \`${p.name}\` has an empty command.`);
  }
  const deps = new Map<string, string[]>();
  for (const p of plan.processes) {
    const list = deps.get(p.service) ?? [];
    list.push(...Object.keys(p.dependsOn));
    deps.set(p.service, list);
  }
  const visiting: string[] = [];
  const done = new Set<string>();
  const visit = (s: string) => {
    if (done.has(s)) return;
    const at = visiting.indexOf(s);
    if (at !== -1) {
      const cycle = [...visiting.slice(at), s].join(" -> ");
      throw new InvalidPlanError(`The services depend on each other in a cycle: ${cycle}.`);
    }
    visiting.push(s);
    for (const d of deps.get(s) ?? []) visit(d);
    visiting.pop();
    done.add(s);
  };
  for (const s of deps.keys()) visit(s);
}

function stopSignal(p: Proc): NodeJS.Signals {
  const sig = p.plan.stop.signal.toUpperCase();
  const name = (sig.startsWith("SIG") ? sig : `SIG${sig}`) as NodeJS.Signals;
  return name in osConstants.signals ? name : "SIGTERM";
}

/** Why a process cannot start because one of its ports is taken, or null. */
function portClash(ports: Record<string, number>): string | null {
  for (const [name, port] of Object.entries(ports)) {
    const holder = portHolder(port);
    if (holder === "free") continue;
    const who = holder === "unknown" ? "another process" : describeHolder(holder);
    return `cannot start: port ${port} (${name}) is already in use by ${who}`;
  }
  return null;
}

/** A failed outcome when a tcp/http probe's port on this machine is held by another process. */
function answeredBy(probe: PlannedProbe, pgid: number, name: string) {
  if (probe.type === "exec" || !isLocalHost(probe.host)) return null;
  const owner = portOwnedByGroup(probe.port, pgid);
  if (owner === null || owner === true) return null;
  return {
    ok: false,
    detail: `port ${probe.port} answers, but ${describeHolder(owner)} holds it, not ${name}`,
  };
}

function isLocalHost(host: string): boolean {
  return (
    ["127.0.0.1", "localhost", "::1", "0.0.0.0", "::", ""].includes(host) || host.startsWith("127.")
  );
}

function describeChange(c: PlanChange): string {
  const parts = [
    c.changed.length > 0 ? `restarted ${c.changed.join(", ")}` : "",
    c.added.length > 0 ? `added ${c.added.join(", ")}` : "",
    c.removed.length > 0 ? `removed ${c.removed.join(", ")}` : "",
  ].filter(Boolean);
  return parts.length > 0 ? parts.join("; ") : "nothing changed";
}

function describeExit(p: { exitCode: number | null; signal: string | null }): string {
  if (p.signal) return `killed by ${p.signal}`;
  return `exited with code ${p.exitCode}`;
}

function formatSeconds(s: number): string {
  return `${Math.round(s * 1000) / 1000}s`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

async function waitGroupGone(pgid: number, deadline: number) {
  const since = Date.now();
  while (groupHasLiveMembers(pgid, since) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
