import { type ChildProcess, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import {
  type ActionResult,
  defineManager,
  type Manager,
  type ManagerContext,
  UserError,
} from "@nix2dream/core";
import type { VmManifest } from "@nix2dream/render-nixos-vm";

/** Options of {@link nixosVm}. */
export interface NixosVmManagerOptions {
  /**
   * Build with flakes (`nix build` on flake.nix), without (`nix-build` on default.nix), or
   * `"auto"`: flakes when this Nix has them enabled. Flags `--flake`/`--no-flake` win. Default auto.
   */
  flake?: boolean | "auto";
  /** Environment of nix and of the VM; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Seconds `down` waits for the VM to exit after SIGTERM before SIGKILL. Default 30. */
  stopTimeout?: number;
  /** Milliseconds `up` watches the VM for an immediate failure. Default 1500. */
  startupGrace?: number;
  /** Lines of the console log `logs` shows before following; null for all. Default 100. */
  tail?: number | null;
}

/** The file names the manager keeps in its state directory. */
export const STATE_FILES = {
  /** Out-link of the build. */
  result: "result",
  /** The VM's console (serial) output. */
  console: "console.log",
  /** Output of the last build. */
  build: "build.log",
  /** `{ pid, startedAt }` of the running VM. */
  pid: "vm.json",
} as const;

/** A user mistake or a missing precondition: printed as one paragraph, exit code 1. */
export class NixosVmError extends UserError {
  constructor(code: string, message: string, options: { hint?: string } = {}) {
    super(code, message, { ...options, source: "manager nixos-vm" });
    this.name = "NixosVmError";
  }
}

const NIX_MISSING = (tool: string) =>
  new NixosVmError(
    "NIX_MISSING",
    `Nix is not installed (\`${tool}\` is not on PATH). Install it (Debian: \`apt-get install nix-bin\`; elsewhere https://nixos.org/download), then run \`nix2dream up\` again.`,
  );

const FLAKES_DISABLED = new NixosVmError(
  "FLAKES_DISABLED",
  "Flakes are disabled in this Nix. Enable them with `experimental-features = nix-command flakes` in /etc/nix/nix.conf (or ~/.config/nix/nix.conf), or build default.nix without flakes: `nix2dream up --no-flake`.",
);

/** Reads and checks `vm.json` from the render directory. */
export function readManifest(artifactsDir: string): VmManifest {
  const file = path.join(artifactsDir, "vm.json");
  if (!existsSync(file)) {
    throw new NixosVmError(
      "NOT_RENDERED",
      `There is no VM render at ${artifactsDir} (vm.json is missing). Render it first: \`nix2dream render nixos-vm\`.`,
    );
  }
  let m: VmManifest;
  try {
    m = JSON.parse(readFileSync(file, "utf8")) as VmManifest;
  } catch (err) {
    throw new NixosVmError("BAD_MANIFEST", `${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (m.version !== 1) {
    throw new NixosVmError(
      "BAD_MANIFEST",
      `${file} has version ${JSON.stringify(m.version)}; this manage-nixos-vm reads version 1. Upgrade @nix2dream/manage-nixos-vm or @nix2dream/render-nixos-vm so they match.`,
    );
  }
  return m;
}

interface Run {
  code: number | null;
  error?: NodeJS.ErrnoException;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, teeing its output to `tee` when given. */
function run(
  argv: string[],
  env: NodeJS.ProcessEnv,
  opts: { tee?: NodeJS.WritableStream; log?: number; signal?: AbortSignal } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(argv[0] as string, argv.slice(1), {
        env,
        stdio: ["ignore", "pipe", "pipe"],
        signal: opts.signal,
      });
    } catch (err) {
      resolve({ code: null, error: err as NodeJS.ErrnoException, stdout: "", stderr: "" });
      return;
    }
    let stdout = "";
    let stderr = "";
    const out = (chunk: Buffer, which: "out" | "err") => {
      if (which === "out") stdout += chunk.toString("utf8");
      else stderr += chunk.toString("utf8");
      opts.tee?.write(chunk);
      if (opts.log !== undefined) writeFileSync(opts.log, chunk);
    };
    child.stdout?.on("data", (c: Buffer) => out(c, "out"));
    child.stderr?.on("data", (c: Buffer) => out(c, "err"));
    child.on("error", (error) =>
      resolve({ code: null, error: error as NodeJS.ErrnoException, stdout, stderr }),
    );
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Whether this Nix has flakes enabled: `builtins.getFlake` only exists then. Throws
 * {@link NixosVmError} `NIX_MISSING` when `nix-instantiate` is not installed.
 */
export async function flakesEnabled(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const r = await run(["nix-instantiate", "--eval", "-E", "builtins ? getFlake"], env);
  if (r.error?.code === "ENOENT") throw NIX_MISSING("nix-instantiate");
  if (r.code !== 0) {
    throw new NixosVmError(
      "NIX_FAILED",
      `\`nix-instantiate\` failed (${r.error?.message ?? `exit ${r.code}`}): ${r.stderr.trim()}`,
    );
  }
  return r.stdout.trim() === "true";
}

interface PidFile {
  pid: number;
  startedAt: string;
}

function readPid(stateDir: string): PidFile | null {
  try {
    return JSON.parse(readFileSync(path.join(stateDir, STATE_FILES.pid), "utf8")) as PidFile;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The running VM of this state directory, or null (a stale pid file is removed). */
function runningVm(stateDir: string): PidFile | null {
  const p = readPid(stateDir);
  if (p === null) return null;
  if (alive(p.pid)) return p;
  rmSync(path.join(stateDir, STATE_FILES.pid), { force: true });
  return null;
}

function flagOf(ctx: ManagerContext, ...names: string[]): string | boolean | undefined {
  for (const n of names) if (ctx.flags[n] !== undefined) return ctx.flags[n];
  return undefined;
}

function addresses(m: VmManifest): string[] {
  const lines = m.forwardedPorts.map(
    (f) =>
      `  ${f.service} (${f.port}) → 127.0.0.1:${f.host}${f.protocol === "udp" ? "/udp" : ""} (port ${f.guest} in the VM)`,
  );
  return lines;
}

function sshHint(m: VmManifest): string {
  if (m.sshPort === null) {
    return "ssh is off (`renderers.nixos-vm.sshPort` is null); the console log is the way in: `nix2dream logs -f`.";
  }
  return `ssh -p ${m.sshPort} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ${m.user}@127.0.0.1   (password: \`renderers.nixos-vm.password\`, "nix2dream" unless set)`;
}

async function up(ctx: ManagerContext, opts: NixosVmManagerOptions): Promise<ActionResult> {
  const m = readManifest(ctx.artifactsDir);
  const env = { ...(opts.env ?? process.env) };
  mkdirSync(ctx.stateDir, { recursive: true });
  const running = runningVm(ctx.stateDir);
  if (running) {
    throw new NixosVmError(
      "ALREADY_RUNNING",
      `The VM of \`${m.deployment}\` is already running (pid ${running.pid}); stop it with \`nix2dream down\`.`,
    );
  }

  const wanted = flagOf(ctx, "flake");
  const noFlake = flagOf(ctx, "no-flake");
  const mode: boolean | "auto" =
    noFlake === true || wanted === false ? false : wanted === true ? true : (opts.flake ?? "auto");
  let useFlake = false;
  if (mode !== false) {
    const enabled = await flakesEnabled(env);
    if (mode === true && !enabled) throw FLAKES_DISABLED;
    useFlake = enabled;
  }

  const result = path.join(ctx.stateDir, STATE_FILES.result);
  const argv = useFlake
    ? ["nix", "build", "--out-link", result, `path:${ctx.artifactsDir}#${m.flakeAttr}`]
    : ["nix-build", path.join(ctx.artifactsDir, "default.nix"), "-A", m.nixAttr, "-o", result];
  ctx.stdout.write(
    `Building the VM of \`${m.deployment}\` (${useFlake ? "flake" : "default.nix"}): ${argv.join(" ")}\n`,
  );
  const buildLog = path.join(ctx.stateDir, STATE_FILES.build);
  const log = openSync(buildLog, "w");
  let r: Run;
  try {
    r = await run(argv, env, { tee: ctx.stderr, log, signal: ctx.signal });
  } finally {
    closeSync(log);
  }
  if (r.error?.code === "ENOENT") throw NIX_MISSING(argv[0] as string);
  if (r.code !== 0) {
    if (/experimental Nix feature '(flakes|nix-command)' is disabled/.test(r.stderr)) {
      throw FLAKES_DISABLED;
    }
    const hint = /file 'nixpkgs' was not found in the Nix search path/.test(r.stderr)
      ? " This Nix has no `<nixpkgs>`: pin one with `renderers.nixos-vm.nixpkgsRev` (default.nix then fetches it), add a channel (`nix-channel --add https://nixos.org/channels/nixos-24.11 nixpkgs && nix-channel --update`), or use flakes."
      : "";
    throw new NixosVmError(
      "BUILD_FAILED",
      `Building the VM failed (${r.error?.message ?? `exit ${r.code}`}); the build output is above and in ${buildLog}.${hint}`,
    );
  }

  const script = path.join(result, m.runScript);
  if (!existsSync(script)) {
    throw new NixosVmError(
      "NO_RUN_SCRIPT",
      `The build has no VM start script at ${script}; is ${useFlake ? m.flakeAttr : m.nixAttr} a \`system.build.vm\`?`,
    );
  }
  const consoleLog = path.join(ctx.stateDir, STATE_FILES.console);
  const out = openSync(consoleLog, "a");
  const child = spawn(script, [], {
    cwd: ctx.stateDir,
    // The VM's disk (its persistent state) lives in the state directory.
    env: { ...env, NIX_DISK_IMAGE: path.join(ctx.stateDir, `${m.hostName}.qcow2`) },
    detached: true,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  const exited = await new Promise<number | null | "running">((resolve) => {
    const timer = setTimeout(() => resolve("running"), opts.startupGrace ?? 1500);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.once("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
  if (exited !== "running" || child.pid === undefined) {
    throw new NixosVmError(
      "VM_EXITED",
      `The VM exited at once (${exited === null ? "it could not be started" : `exit ${exited}`}); see its console log ${consoleLog}.`,
    );
  }
  child.unref();
  const pid: PidFile = { pid: child.pid, startedAt: new Date().toISOString() };
  writeFileSync(path.join(ctx.stateDir, STATE_FILES.pid), `${JSON.stringify(pid)}\n`);
  const lines = [
    `The VM \`${m.hostName}\` is starting in the background (pid ${child.pid}).`,
    `Console log: ${consoleLog} (\`nix2dream logs -f\`); stop it with \`nix2dream down\`.`,
  ];
  const addr = addresses(m);
  if (addr.length) lines.push("Forwarded ports:", ...addr);
  lines.push(sshHint(m));
  ctx.stdout.write(`${lines.join("\n")}\n`);
  return { exitCode: 0, data: { ...pid, console: consoleLog } };
}

async function down(ctx: ManagerContext, opts: NixosVmManagerOptions): Promise<ActionResult> {
  const vm = runningVm(ctx.stateDir);
  const volumes = flagOf(ctx, "volumes", "v") === true;
  if (vm === null) {
    ctx.stdout.write(`No VM is running for \`${ctx.deployment.name}\`.\n`);
  } else {
    // The VM runs in its own process group (the start script and qemu): signal all of it.
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-vm.pid, sig);
      } catch {
        // Already gone.
      }
    };
    signal("SIGTERM");
    const deadline = Date.now() + (opts.stopTimeout ?? 30) * 1000;
    while (alive(vm.pid) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const killed = alive(vm.pid);
    if (killed) {
      signal("SIGKILL");
      while (alive(vm.pid)) await new Promise((r) => setTimeout(r, 50));
    }
    rmSync(path.join(ctx.stateDir, STATE_FILES.pid), { force: true });
    ctx.stdout.write(
      `Stopped the VM (pid ${vm.pid})${killed ? " with SIGKILL after the timeout" : ""}.\n`,
    );
  }
  if (volumes) {
    let m: VmManifest | null = null;
    try {
      m = readManifest(ctx.artifactsDir);
    } catch {
      m = null;
    }
    const disk = path.join(ctx.stateDir, `${m?.hostName ?? ctx.deployment.name}.qcow2`);
    if (existsSync(disk)) {
      rmSync(disk);
      ctx.stdout.write(`Removed the VM's disk ${disk} (its volumes and state).\n`);
    }
  }
  return { exitCode: 0 };
}

async function status(ctx: ManagerContext): Promise<ActionResult> {
  const m = readManifest(ctx.artifactsDir);
  const vm = runningVm(ctx.stateDir);
  const consoleLog = path.join(ctx.stateDir, STATE_FILES.console);
  if (vm === null) {
    ctx.stdout.write(`The VM \`${m.hostName}\` is not running. Start it with \`nix2dream up\`.\n`);
    return { exitCode: 0, data: { running: false } };
  }
  const lines = [
    `The VM \`${m.hostName}\` is running (pid ${vm.pid}, since ${vm.startedAt}).`,
    `Console log: ${consoleLog}`,
  ];
  const addr = addresses(m);
  if (addr.length) lines.push("Forwarded ports:", ...addr);
  lines.push(sshHint(m));
  ctx.stdout.write(`${lines.join("\n")}\n`);
  return {
    exitCode: 0,
    data: { running: true, ...vm, console: consoleLog, ports: m.forwardedPorts },
  };
}

/** The last `n` lines of a file (all when null). */
function lastLines(text: string, n: number | null): string {
  if (n === null) return text;
  const lines = text.split("\n");
  const end = text.endsWith("\n") ? lines.length - 1 : lines.length;
  return lines.slice(Math.max(0, end - n)).join("\n");
}

async function logs(ctx: ManagerContext, opts: NixosVmManagerOptions): Promise<ActionResult> {
  const file = path.join(ctx.stateDir, STATE_FILES.console);
  if (!existsSync(file)) {
    throw new NixosVmError(
      "NO_LOG",
      `There is no console log yet (${file}); start the VM with \`nix2dream up\`.`,
    );
  }
  const tailFlag = flagOf(ctx, "tail", "n");
  let n: number | null = opts.tail === undefined ? 100 : opts.tail;
  if (tailFlag === "all") n = null;
  else if (typeof tailFlag === "string") {
    n = Number(tailFlag);
    if (!Number.isInteger(n) || n < 0) {
      throw new NixosVmError(
        "BAD_FLAG",
        `\`--tail\` takes a number of lines or \`all\`, not \`${tailFlag}\`.`,
      );
    }
  }
  const text = readFileSync(file, "utf8");
  ctx.stdout.write(lastLines(text, n));
  if (flagOf(ctx, "follow", "f") !== true) return { exitCode: 0 };
  let offset = Buffer.byteLength(text);
  const buf = Buffer.alloc(64 * 1024);
  while (!ctx.signal.aborted) {
    await new Promise<void>((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        ctx.signal.removeEventListener("abort", onAbort);
        resolve();
      }, 200);
      ctx.signal.addEventListener("abort", onAbort, { once: true });
    });
    const size = statSync(file).size;
    if (size < offset) offset = 0;
    if (size === offset) continue;
    const fd = openSync(file, "r");
    try {
      for (;;) {
        const got = readSync(fd, buf, 0, buf.length, offset);
        if (got <= 0) break;
        ctx.stdout.write(buf.subarray(0, got));
        offset += got;
      }
    } finally {
      closeSync(fd);
    }
  }
  return { exitCode: 0 };
}

async function ssh(ctx: ManagerContext): Promise<ActionResult> {
  const m = readManifest(ctx.artifactsDir);
  ctx.stdout.write(`${sshHint(m)}\n`);
  return { exitCode: 0, data: { port: m.sshPort, user: m.user } };
}

async function consoleHint(ctx: ManagerContext): Promise<ActionResult> {
  const m = readManifest(ctx.artifactsDir);
  const file = path.join(ctx.stateDir, STATE_FILES.console);
  ctx.stdout.write(
    `The serial console of \`${m.hostName}\` is logged to ${file}; follow it with \`nix2dream logs -f\`. The test user \`${m.user}\` is logged in on it. For an interactive console, run the VM in the foreground instead: \`nix run ${ctx.artifactsDir}#${m.nixAttr}\` (or \`nix-build ${path.join(ctx.artifactsDir, "default.nix")} -A ${m.nixAttr} && ./result/${m.runScript}\`).\n`,
  );
  return { exitCode: 0, data: { console: file } };
}

/** `restart`/`stop` of a service: the VM's own systemd does it, not this manager. */
function insideTheVm(action: "restart" | "stop") {
  return async (ctx: ManagerContext): Promise<ActionResult> => {
    const unit = `${ctx.deployment.name}-${ctx.args[0] ?? "<service>"}.service`;
    throw new NixosVmError(
      "UNSUPPORTED",
      `\`${action}\` of a service is not something the nixos-vm manager can do: the services run under the VM's own systemd.`,
      {
        hint: `Run \`nix2dream ssh\`, then \`sudo systemctl ${action} ${unit}\` inside the VM; \`nix2dream down\` stops the whole VM.`,
      },
    );
  };
}

/**
 * The NixOS VM manager (`nixos-vm`), acting on the render of `@nix2dream/render-nixos-vm`.
 * `up` builds `system.build.vm` (flake or default.nix) and starts it in the background with its
 * console in `<state>/console.log` and its disk in `<state>/<host>.qcow2`; `down [--volumes]`
 * stops it (SIGTERM to its process group, SIGKILL after `stopTimeout`) and with `--volumes`
 * removes the disk; `status`/`ps`, `logs [-f] [--tail N]`, `ssh` and `console` describe it.
 * Missing Nix and disabled flakes are thrown as {@link NixosVmError}s (the CLI prints one
 * paragraph, exit code 1).
 */
export default function nixosVm(opts: NixosVmManagerOptions = {}): Manager<"nixos-vm"> {
  return defineManager({
    name: "nixos-vm",
    renderer: "nixos-vm",
    descriptions: {
      up: "build the VM with Nix and start it in the background (--flake / --no-flake)",
      down: "stop the VM (--volumes also removes its disk)",
      status: "whether the VM runs, its forwarded ports and how to reach it",
      ps: "the same as status",
      logs: "the VM's console log (-f to follow, --tail N)",
      ssh: "the ssh command that reaches the VM's test user",
      console: "where the VM's console is and how to get an interactive one",
      restart: "not available: the services run inside the VM (ssh in and use systemctl)",
      stop: "not available: the services run inside the VM (ssh in and use systemctl); `down` stops the VM",
    },
    actions: {
      up: (ctx) => up(ctx, opts),
      down: (ctx) => down(ctx, opts),
      status,
      ps: status,
      logs: (ctx) => logs(ctx, opts),
      ssh,
      console: consoleHint,
      restart: insideTheVm("restart"),
      stop: insideTheVm("stop"),
    },
  });
}

export { nixosVm };

/** @deprecated Use {@link nixosVm} (the same function); this name goes in the next minor. */
export const nixosVmManager = nixosVm;
