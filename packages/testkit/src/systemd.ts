/**
 * A real systemd user manager for one test file (Debian's systemd 252, see VALIDATION.md):
 * `/lib/systemd/systemd --user` as root in a private mount namespace with a tmpfs on
 * /run/systemd, in a cgroup of its own, with every directory it uses inside a test directory.
 * `systemctl --user` (run with {@link UserManager.env}) drives it like any user manager.
 * What it lacks: a journal (the units' output is lost, `journalctl --user` finds nothing) and a
 * D-Bus session bus (verbs that need one fail: `systemctl --user clean` says "Failed to connect
 * to bus"; with a dbus-daemon, systemd does not register on it without a dbus.service unit).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/** A running user manager and what a test needs to talk to it. */
export interface UserManager {
  /** Pid of `systemd --user`. */
  pid: number;
  /** Environment for `systemctl --user`, `journalctl --user` and manage-systemd. */
  env: NodeJS.ProcessEnv;
  /** `$XDG_CONFIG_HOME`: `systemctl --user link` writes here; StateDirectory= lives here. */
  configHome: string;
  /** `$XDG_RUNTIME_DIR`: the manager's socket; RuntimeDirectory= lives here. */
  runtimeDir: string;
  /** What the manager printed on stdout/stderr (no journal runs; systemd 252 printed nothing here). */
  log: () => string;
  /** Runs `systemctl --user ARGS` against this manager. */
  systemctl: (...args: string[]) => { status: number; stdout: string; stderr: string };
  /** Pids still in the manager's cgroup tree (the manager included while it runs). */
  processes: () => number[];
  /** Pids of what the units run: the tree without the manager. */
  unitProcesses: () => number[];
  /** Stops every unit and the manager, kills what is left, removes its cgroups. */
  stop: () => Promise<void>;
}

const SYSTEMD = "/lib/systemd/systemd";

// The user-level targets the manager needs, written by us: with Debian's own unit directories
// on the path, every socket enabled on this machine (gpg-agent, dirmngr…) would start too.
// exit.target is what `systemctl --user exit` starts: every unit conflicts with shutdown.target.
const TARGETS: Record<string, string> = {
  "default.target": "[Unit]\nDescription=Default\nRequires=basic.target\nAfter=basic.target\n",
  "basic.target": "[Unit]\nDescription=Basic\nDefaultDependencies=no\n",
  "shutdown.target":
    "[Unit]\nDescription=Shutdown\nDefaultDependencies=no\nRefuseManualStart=yes\n",
  "exit.target":
    "[Unit]\nDescription=Exit\nDefaultDependencies=no\nRequires=shutdown.target\nAfter=shutdown.target\n",
};

// Moves this shell into a cgroup of its own in every hierarchy (the manager takes it as its
// root, so the units' cgroups are ours to remove), then gives systemd what it checks for.
const START = `set -e
cg=$1; shift
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then set -- /sys/fs/cgroup "$@"; else set -- /sys/fs/cgroup/*/ "$@"; fi
for h in "$@"; do
  [ -e "$h/cgroup.procs" ] || continue
  mkdir -p "$h/$cg"
  # cpuset refuses tasks until its cpus/mems are set: systemd needs only the others.
  { echo $$ > "$h/$cg/cgroup.procs"; } 2>/dev/null || true
done
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
mkdir -p /run/systemd/system
exec ${SYSTEMD} --user --log-target=console --log-color=no`;

function hierarchies(): string[] {
  if (existsSync("/sys/fs/cgroup/cgroup.controllers")) return ["/sys/fs/cgroup"];
  return readdirSync("/sys/fs/cgroup")
    .map((h) => join("/sys/fs/cgroup", h))
    .filter((h) => existsSync(join(h, "cgroup.procs")));
}

/** Cgroup directories under `root`, deepest first. */
function cgroupsUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
    }
    out.push(dir);
  };
  walk(root);
  return out;
}

function pidsIn(cgroups: string[]): number[] {
  const pids = new Set<number>();
  for (const cg of cgroups) {
    try {
      for (const l of readFileSync(join(cg, "cgroup.procs"), "utf8").split("\n")) {
        if (l.trim() !== "") pids.add(Number(l));
      }
    } catch {
      // Removed meanwhile.
    }
  }
  return [...pids];
}

async function until(what: string, ok: () => boolean, ms: number, log: () => string) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; manager log:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Fails loudly, naming the apt package, when this machine cannot run a user manager. */
export function requireUserManager(): void {
  if (!existsSync(SYSTEMD)) throw new Error(`${SYSTEMD} is missing: apt-get install -y systemd`);
  if (process.getuid?.() !== 0) {
    throw new Error("A test user manager needs root (a tmpfs on /run/systemd and cgroups).");
  }
  const r = spawnSync("unshare", ["--version"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error("unshare is missing: apt-get install -y util-linux");
}

/**
 * Starts a user manager whose directories are all under `dir` (created by the caller, removed
 * by it after {@link UserManager.stop}) and waits until `systemctl --user` reaches it.
 * Units are found where `systemctl --user link` puts them (`$XDG_CONFIG_HOME/systemd/user`)
 * and in `unitDirs`.
 */
export async function startUserManager(
  dir: string,
  opts: { unitDirs?: string[] } = {},
): Promise<UserManager> {
  requireUserManager();
  const runtimeDir = join(dir, "run");
  const configHome = join(dir, "config");
  const targets = join(dir, "targets");
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  // Open to others: a unit with User= (the manager runs as root here) must reach StateDirectory=.
  for (const d of [join(configHome, "systemd", "user"), targets, join(dir, "home")]) {
    mkdirSync(d, { recursive: true, mode: 0o755 });
  }
  chmodSync(dir, 0o755);
  for (const [name, text] of Object.entries(TARGETS)) writeFileSync(join(targets, name), text);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_RUNTIME_DIR: runtimeDir,
    XDG_CONFIG_HOME: configHome,
    XDG_CACHE_HOME: join(dir, "cache"),
    XDG_DATA_HOME: join(dir, "data"),
    HOME: join(dir, "home"),
    SYSTEMD_UNIT_PATH: [
      join(configHome, "systemd", "user"),
      ...(opts.unitDirs ?? []),
      targets,
    ].join(":"),
    SYSTEMD_PAGER: "",
    SYSTEMD_COLORS: "0",
  };
  const cgroup = `n2d-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const logFile = join(dir, "manager.log");
  const out = openSync(logFile, "a");
  const child: ChildProcess = spawn(
    "unshare",
    ["--mount", "--propagation", "private", "sh", "-c", START, "sh", cgroup],
    { env, stdio: ["ignore", out, out] },
  );
  closeSync(out);
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  const systemctl = (...args: string[]) => {
    const r = spawnSync("systemctl", ["--user", ...args], { env, encoding: "utf8" });
    return { status: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  };
  const roots = () => hierarchies().map((h) => join(h, cgroup));
  const processes = () => pidsIn(roots().flatMap(cgroupsUnder));
  const unitProcesses = () => processes().filter((p) => p !== child.pid);
  const stop = async () => {
    if (!exited) {
      // exit.target stops every unit (each conflicts with shutdown.target). systemd 252 then
      // stays in its event loop instead of exiting (seen here, with or without SuccessAction=),
      // so once only the manager is left it is killed: it is ours, by pid.
      systemctl("exit");
      await until("the units to stop", () => unitProcesses().length === 0, 60_000, log).catch(
        () => undefined,
      );
      child.kill("SIGKILL");
      await until("the user manager to end", () => exited, 10_000, log);
    }
    // Whatever a unit left behind (a process that escaped its stop): ours to end.
    for (const pid of processes()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await until("the test cgroups to empty", () => processes().length === 0, 10_000, log);
    for (const cg of roots().flatMap(cgroupsUnder)) rmdirSync(cg);
  };
  try {
    await until(
      "the user manager to answer",
      () => {
        if (exited) throw new Error(`systemd --user exited at once:\n${log()}`);
        return systemctl("show", "--property=Version", "--value").status === 0;
      },
      30_000,
      log,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    pid: child.pid ?? 0,
    env,
    configHome,
    runtimeDir,
    log,
    systemctl,
    processes,
    unitProcesses,
    stop,
  };
}
