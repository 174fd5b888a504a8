/**
 * What a supervisor leaves on disk so that no process it started is ever lost: a lock that
 * makes it the only supervisor of its state dir, a record of every process group it runs
 * (`supervisor.json`), and a watchdog process that stops those groups when the supervisor
 * dies without stopping them (SIGKILL, a crash, the OOM killer).
 */

import { type ChildProcess, spawn } from "node:child_process";
import {
  closeSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import type { Socket } from "node:net";
import path from "node:path";
import { AlreadyRunningError } from "./control.js";
import { groupHasLiveMembers, killGroup } from "./probe.js";

/** One process group the supervisor started, as recorded on disk. */
export interface RecordedProcess {
  name: string;
  /** Process id of the group leader, which is also the process group id. */
  pid: number;
  /** The leader's start time (`/proc/<pid>/stat` field 22), telling a reused pid apart. */
  startTime: string | null;
  stopSignal: NodeJS.Signals;
  /** Seconds between the stop signal and SIGKILL. */
  gracePeriod: number;
}

/** The content of `<stateDir>/supervisor.json`. */
export interface SupervisorRecord {
  version: 1;
  pid: number;
  startTime: string | null;
  processes: RecordedProcess[];
}

const RECORD = "supervisor.json";
const LOCK = "supervisor.lock";

/** The start time of a live process in clock ticks since boot, or null (gone, or no `/proc`). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Fields after the command name (which may contain spaces and parentheses); 22 is field 20 there.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether `pid` is still the very process that had `startTime` (not a reused pid). */
export function isSameProcess(pid: number, startTime: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const now = processStartTime(pid);
  return now === null || startTime === null || now === startTime;
}

/** The processes of a supervisor's record that still run (their group has a live member). */
function liveOf(processes: RecordedProcess[]): RecordedProcess[] {
  return processes.filter((p) => {
    // A live leader with another start time is a new process that reused the pid. A dead
    // leader whose group still has members is ours: a pid is not reused while it names a group.
    const leaderStart = processStartTime(p.pid);
    if (leaderStart !== null && p.startTime !== null && leaderStart !== p.startTime) return false;
    return groupHasLiveMembers(p.pid);
  });
}

/** Reads the record of a state dir; null when there is none or it cannot be read. */
export function readRecord(stateDir: string): SupervisorRecord | null {
  try {
    const record = JSON.parse(
      readFileSync(path.join(stateDir, RECORD), "utf8"),
    ) as SupervisorRecord;
    return record.version === 1 && Array.isArray(record.processes) ? record : null;
  } catch {
    return null;
  }
}

/**
 * Processes started by a supervisor of this state dir that died without stopping them and are
 * still running. Empty when that supervisor still runs (it owns them) or nothing is left.
 */
export function findLeftovers(stateDir: string): RecordedProcess[] {
  const record = readRecord(stateDir);
  if (!record) return [];
  if (record.pid !== process.pid && isSameProcess(record.pid, record.startTime)) return [];
  return liveOf(record.processes);
}

/**
 * Stops leftover process groups as the supervisor would have: the stop signal to each group,
 * the longest grace period, then SIGKILL to what remains. Resolves when they are gone.
 */
export async function stopLeftovers(leftovers: RecordedProcess[]): Promise<void> {
  for (const p of leftovers) killGroup(p.pid, p.stopSignal);
  const grace = Math.max(0, ...leftovers.map((p) => p.gracePeriod));
  const deadline = Date.now() + grace * 1000;
  while (Date.now() < deadline && leftovers.some((p) => groupHasLiveMembers(p.pid))) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const p of leftovers) if (groupHasLiveMembers(p.pid)) killGroup(p.pid, "SIGKILL");
}

/**
 * Keeps `<stateDir>/supervisor.json` in step with the running groups. Every change is written
 * to a temporary file and renamed over the record, so a reader never sees half a file.
 */
export class RunRecord {
  readonly #file: string;
  readonly #processes = new Map<number, RecordedProcess>();
  readonly #self: { pid: number; startTime: string | null };

  constructor(stateDir: string) {
    this.#file = path.join(stateDir, RECORD);
    this.#self = { pid: process.pid, startTime: processStartTime(process.pid) };
    this.#write();
  }

  /** Records a freshly spawned group. */
  add(entry: Omit<RecordedProcess, "startTime">) {
    this.#processes.set(entry.pid, { ...entry, startTime: processStartTime(entry.pid) });
    this.#write();
  }

  /** Forgets a group that is gone. */
  remove(pgid: number) {
    if (this.#processes.delete(pgid)) this.#write();
  }

  /** Removes the record: the supervisor stopped everything it started. */
  clear() {
    this.#processes.clear();
    try {
      unlinkSync(this.#file);
    } catch {
      // Never written, or already gone.
    }
  }

  #write() {
    const record: SupervisorRecord = {
      version: 1,
      ...this.#self,
      processes: [...this.#processes.values()],
    };
    const tmp = `${this.#file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
      renameSync(tmp, this.#file);
    } catch {
      // A full or read-only disk must not stop the supervisor; the watchdog still covers it.
    }
  }
}

/**
 * Takes the single-instance lock of a state dir: `<stateDir>/supervisor.lock`, created
 * exclusively and holding the owner's pid and start time. A lock whose owner is gone is taken
 * over (see {@link breakStaleLock}). Returns the function that releases it; throws
 * {@link AlreadyRunningError} when a live supervisor holds it.
 */
export function acquireLock(stateDir: string): () => void {
  const file = path.join(stateDir, LOCK);
  const mine = `${process.pid} ${processStartTime(process.pid) ?? "-"}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, mine);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, "utf8") === mine) unlinkSync(file);
        } catch {
          // Already gone.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = liveHolder(file);
    if (holder === "gone") continue; // released in between
    if (holder !== null) {
      throw new AlreadyRunningError(
        `Another \`up\` (pid ${holder}) is already running for this deployment; stop it with \`nix2dream down\` first.`,
      );
    }
    if (attempt > 20) {
      throw new AlreadyRunningError(
        "Another `up` of this deployment is taking over the lock of a supervisor that died; run `nix2dream ps` to see which one runs.",
      );
    }
    breakStaleLock(file);
  }
}

/** The pid holding a lock file while it lives; null when it is dead; "gone" when there is no file. */
function liveHolder(file: string): number | null | "gone" {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return "gone";
  }
  const [pid, start] = text.trim().split(" ");
  const owner = Number(pid);
  return owner > 0 && isSameProcess(owner, start === "-" ? null : (start ?? null)) ? owner : null;
}

/**
 * Removes a lock whose owner died, atomically with respect to other invocations doing the same:
 * reading the stale lock and removing it happen under `<lock>.takeover`, created exclusively,
 * so an invocation that comes second finds the winner's fresh lock, not the stale one, and
 * leaves it alone. A takeover file older than a few seconds is from an invocation that died
 * holding it (it holds it for microseconds) and is removed.
 */
function breakStaleLock(file: string) {
  const takeover = `${file}.takeover`;
  let fd: number;
  try {
    fd = openSync(takeover, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    try {
      if (Date.now() - statSync(takeover).mtimeMs > TAKEOVER_STALE_MS) unlinkSync(takeover);
    } catch {
      // Released meanwhile.
    }
    waitBriefly();
    return;
  }
  try {
    if (liveHolder(file) === null) unlinkSync(file);
  } finally {
    closeSync(fd);
    unlinkSync(takeover);
  }
}

/** How old a takeover file must be to be considered abandoned. */
const TAKEOVER_STALE_MS = 5000;

/** A few milliseconds, synchronously, while another invocation takes a stale lock over. */
function waitBriefly() {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
}

// The watchdog reads `+<pgid>:<SIGNAL>:<grace>` and `-<pgid>:<SIGNAL>` lines from the
// supervisor. End of file without a `.` line means the supervisor died: it sends each group its
// stop signal, waits up to $GRACE seconds (in steps of 0.1 s: the longest grace period of any
// group it was told about, at least the one it started with) and SIGKILLs every group still
// alive. A group's grace comes with it: a new plan (`up --watch`) may bring a longer one.
// `kill -s 0`, not `kill -0`: dash (Debian's sh) reads `kill -0 -- -<pgid>` as a bad number and
// fails, which made every group look gone at once and nothing was ever SIGKILLed.
const WATCHDOG = `
trap '' HUP INT PIPE
groups=" "
while IFS= read -r line; do
  case $line in
    +*) t=\${line#+}; g=\${t##*:}; t=\${t%:*}
        groups="$groups$t "
        [ "$g" -gt "$GRACE" ] 2>/dev/null && GRACE=$g ;;
    -*) id=\${line#-}
        case $groups in *" $id "*) groups="\${groups%% $id *} \${groups#* $id }" ;; esac ;;
    .) exit 0 ;;
  esac
done
pgids=
for t in $groups; do
  g=\${t%%:*}; s=\${t#*:}
  kill -s "\${s#SIG}" -- "-$g" 2>/dev/null; pgids="$pgids $g"
done
[ -z "$pgids" ] && exit 0
i=0
while [ $i -lt $((GRACE * 10)) ]; do
  alive=
  for g in $pgids; do kill -s 0 -- "-$g" 2>/dev/null && alive=1; done
  [ -z "$alive" ] && exit 0
  sleep 0.1; i=$((i + 1))
done
for g in $pgids; do kill -s KILL -- "-$g" 2>/dev/null; done
`;

/**
 * A small `sh` process, in a process group of its own, that outlives the supervisor: the
 * supervisor holds the write end of its stdin, so the kernel closes it when the supervisor dies
 * in any way, and the watchdog then stops every group it was told about.
 */
export class Watchdog {
  readonly #child: ChildProcess | null;

  constructor(graceSeconds: number) {
    let child: ChildProcess | null = null;
    try {
      child = spawn("sh", ["-c", WATCHDOG], {
        detached: true,
        stdio: ["pipe", "ignore", "ignore"],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", GRACE: String(Math.ceil(graceSeconds)) },
      });
      child.on("error", () => undefined);
      child.stdin?.on("error", () => undefined);
      child.unref();
      // The pipe must not keep the supervisor alive either.
      (child.stdin as Socket | null)?.unref();
    } catch {
      child = null;
    }
    this.#child = child;
  }

  /** Tells the watchdog about a new group, its stop signal and its grace period (seconds). */
  watch(pgid: number, signal: NodeJS.Signals, graceSeconds: number) {
    this.#child?.stdin?.write(`+${pgid}:${signal}:${Math.ceil(Math.max(0, graceSeconds))}\n`);
  }

  /** Tells the watchdog a group is gone: its pgid and stop signal, as `watch` was given them. */
  forget(pgid: number, signal: NodeJS.Signals) {
    this.#child?.stdin?.write(`-${pgid}:${signal}\n`);
  }

  /** Ends the watchdog: every group was stopped by the supervisor itself. */
  close() {
    this.#child?.stdin?.end(".\n");
  }

  /**
   * @internal Closes the pipe without the `.` line, as the supervisor's death does, so a test
   * can see what the watchdog does then without killing its own process.
   */
  sever() {
    this.#child?.stdin?.destroy();
  }

  /** @internal The watchdog's pid (null when it could not be started). */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }
}
