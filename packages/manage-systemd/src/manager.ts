import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  type ActionResult,
  type Manager,
  type ManagerContext,
  textTable,
  UserError,
} from "@nix2dream/core";
import { defineModule, mkOption, types } from "@nix2dream/modules";
import { serviceUnitName, targetUnitName } from "@nix2dream/render-systemd";
import { userSwitchWarnings } from "./user-switch.js";

/** Which systemd manager the units are given to. */
export type SystemdScope = "user" | "system";

/** Options of {@link systemd}. */
export interface SystemdManagerOptions {
  /** Default scope when neither `--user` nor `--system` is given (and `managers.systemd.scope` is unset). Default `user`. */
  scope?: SystemdScope;
  /** The `systemctl` program (looked up on PATH). Default `systemctl`. */
  systemctl?: string;
  /** The `journalctl` program (looked up on PATH). Default `journalctl`. */
  journalctl?: string;
  /** Environment of the spawned programs. Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /**
   * User id of the user manager (for the warning about `user`/`group` under a non-root user
   * manager). Default: this process's, which is whose manager `systemctl --user` reaches.
   */
  uid?: number;
}

/** `managers.systemd.*`: the systemd manager's options in the config. */
export interface SystemdManagerSettings {
  /** `user` (`systemctl --user`) or `system` (`systemctl --system`, needs root). */
  scope: SystemdScope;
}

/** @deprecated Use {@link SystemdManagerSettings}; this name goes in the next minor. */
export type SystemdManagerModuleOptions = SystemdManagerSettings;

declare module "@nix2dream/core" {
  interface DeploymentManagers {
    systemd: SystemdManagerSettings;
  }
}

/** Declares `managers.systemd.*`. */
export const systemdManagerModule = defineModule(import.meta.url, {
  options: {
    scope: mkOption({
      type: types.enum(["user", "system"]),
      default: "user",
      description:
        "Which systemd manager runs the units: `user` (`systemctl --user`, the default) or `system` (`systemctl --system`, needs root). `--user`/`--system` on the command line win.",
    }),
  },
});

/**
 * A user mistake or a missing precondition (or a target that did not start); the CLI prints it
 * as `error: manager systemd: …` (and `hint: …`), exit code 1.
 */
export class SystemdManagerError extends UserError {
  declare readonly code: "MANAGE_SYSTEMD";
  constructor(message: string, hint?: string) {
    super("MANAGE_SYSTEMD", message, {
      source: "manager systemd",
      ...(hint === undefined ? {} : { hint }),
    });
    this.name = "SystemdManagerError";
  }
}

/** File listing the units `up` linked last time, in the state directory. */
const LINKED_FILE = "linked-units.json";

interface Tools {
  systemctl: string;
  journalctl: string;
  env: NodeJS.ProcessEnv;
  uid: number | undefined;
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion, capturing its output (or streaming stdout to `out`). */
function run(
  program: string,
  args: string[],
  tools: Tools,
  opts: { out?: NodeJS.WritableStream; signal?: AbortSignal } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: tools.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const onAbort = () => child.kill("SIGTERM");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (b: Buffer) => {
      if (opts.out) opts.out.write(b);
      else stdout += b.toString("utf8");
    });
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString("utf8");
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      opts.signal?.removeEventListener("abort", onAbort);
      if (err.code === "ENOENT") {
        reject(
          new SystemdManagerError(
            `\`${program}\` was not found on PATH. @nix2dream/manage-systemd drives systemd's service manager, so it runs only where systemd is installed and is the init system (Debian's \`systemd\` package). Elsewhere — a container without systemd, macOS — use @nix2dream/manage-local (\`nix2dream up --manager local\`).`,
          ),
        );
      } else reject(err);
    });
    child.on("close", (code, sig) => {
      opts.signal?.removeEventListener("abort", onAbort);
      resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr });
    });
  });
}

function scopeOf(ctx: ManagerContext, opts: SystemdManagerOptions): SystemdScope {
  if (ctx.flags.system && ctx.flags.user) {
    throw new SystemdManagerError("`--system` and `--user` exclude each other; give one.");
  }
  if (ctx.flags.system) return "system";
  if (ctx.flags.user) return "user";
  const fromConfig = (ctx.deployment.managers as { systemd?: SystemdManagerSettings }).systemd;
  return fromConfig?.scope ?? opts.scope ?? "user";
}

/** The rendered units of the deployment: the target first, then services sorted. */
function renderedUnits(ctx: ManagerContext): { target: string; services: string[] } {
  const target = targetUnitName(ctx.deployment.name);
  if (!existsSync(path.join(ctx.artifactsDir, target))) {
    throw new SystemdManagerError(
      `There is no ${target} in ${ctx.artifactsDir}. Render the deployment first (\`nix2dream render systemd\`), then run this again.`,
    );
  }
  const prefix = `${ctx.deployment.name}-`;
  const services = readdirSync(ctx.artifactsDir)
    .filter((f) => f.startsWith(prefix) && f.endsWith(".service"))
    .sort();
  return { target, services };
}

/** Unit names for the services named in `args` (all services of the render when empty). */
function selectedUnits(ctx: ManagerContext, all: string[]): string[] {
  if (ctx.args.length === 0) return all;
  return ctx.args.map((svc) => {
    const unit = serviceUnitName(ctx.deployment.name, svc);
    if (!all.includes(unit)) {
      const known = all.map((u) => u.slice(ctx.deployment.name.length + 1, -".service".length));
      throw new SystemdManagerError(
        `The deployment \`${ctx.deployment.name}\` has no service \`${svc}\` (services: ${known.join(", ") || "none"}).`,
      );
    }
    return unit;
  });
}

function flag(ctx: ManagerContext, ...names: string[]): string | boolean | undefined {
  for (const n of names) if (ctx.flags[n] !== undefined) return ctx.flags[n];
  return undefined;
}

/** One line of systemctl's complaint, for messages. */
function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? "no output"
  );
}

/** Fails with a clear paragraph when systemctl cannot reach a running manager of `scope`. */
async function requireManager(tools: Tools, scope: SystemdScope): Promise<void> {
  const r = await run(
    tools.systemctl,
    [`--${scope}`, "show", "--property=Version", "--value"],
    tools,
  );
  if (r.code === 0) return;
  const hint =
    scope === "user"
      ? "a user manager: a login session, or `loginctl enable-linger $USER` for one that outlives it (check with `systemctl --user status`)"
      : "systemd running as PID 1 and root (check with `systemctl status`)";
  throw new SystemdManagerError(
    `systemctl could not reach the systemd ${scope} manager: ${firstLine(r.stderr || r.stdout)}. @nix2dream/manage-systemd needs ${hint}. In a container or on a machine without systemd, use @nix2dream/manage-local (\`nix2dream up --manager local\`).`,
  );
}

/** Runs systemctl and turns a failure into an error naming the command. */
async function systemctl(tools: Tools, scope: SystemdScope, args: string[]): Promise<Ran> {
  const r = await run(tools.systemctl, [`--${scope}`, ...args], tools);
  if (r.code !== 0) {
    throw new SystemdManagerError(
      `\`systemctl --${scope} ${args.join(" ")}\` failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim() || "no output"}`,
    );
  }
  return r;
}

/** Variable names the rendered services take from the manager (`PassEnvironment=`), sorted. */
export function passedVariablesOf(unitTexts: string[]): string[] {
  const names = new Set<string>();
  for (const text of unitTexts) {
    for (const m of text.matchAll(/^PassEnvironment=(.*)$/gm)) {
      for (const n of (m[1] ?? "").split(/\s+/))
        if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) names.add(n);
    }
  }
  return [...names].sort();
}

function passedVariables(ctx: ManagerContext, services: string[]): string[] {
  return passedVariablesOf(
    services.map((u) => readFileSync(path.join(ctx.artifactsDir, u), "utf8")),
  );
}

function readLinked(ctx: ManagerContext): string[] {
  try {
    const v = JSON.parse(readFileSync(path.join(ctx.stateDir, LINKED_FILE), "utf8")) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

async function up(ctx: ManagerContext, tools: Tools, scope: SystemdScope): Promise<ActionResult> {
  const { target, services } = renderedUnits(ctx);
  await requireManager(tools, scope);
  const units = [target, ...services];
  // Units the previous `up` linked that the deployment no longer has.
  const stale = readLinked(ctx).filter((u) => !units.includes(u));
  if (stale.length > 0) {
    await run(tools.systemctl, [`--${scope}`, "stop", ...stale], tools);
    await systemctl(tools, scope, ["disable", ...stale]);
  }
  await systemctl(tools, scope, ["link", ...units.map((u) => path.join(ctx.artifactsDir, u))]);
  mkdirSync(ctx.stateDir, { recursive: true });
  writeFileSync(path.join(ctx.stateDir, LINKED_FILE), `${JSON.stringify(units, null, 2)}\n`);
  await systemctl(tools, scope, ["daemon-reload"]);
  // `fromEnv` secrets reach the units through PassEnvironment= from the manager's environment:
  // hand over the ones set here by name (systemctl reads the values itself; none is in argv).
  const passed = passedVariables(ctx, services);
  const present = passed.filter((v) => tools.env[v] !== undefined);
  if (present.length > 0) await systemctl(tools, scope, ["import-environment", ...present]);
  for (const v of passed.filter((x) => tools.env[x] === undefined)) {
    ctx.stderr.write(
      `Note: ${v} is not set here; services that read a secret from it get it only if the ${scope} manager's environment has it (\`systemctl --${scope} set-environment\`).\n`,
    );
  }
  for (const w of userSwitchWarnings(ctx.deployment, scope, tools.uid)) ctx.stderr.write(`${w}\n`);
  if (flag(ctx, "enable")) await systemctl(tools, scope, ["enable", target]);
  ctx.stdout.write(
    `Starting ${target} (${services.length} service(s)) with systemctl --${scope}; it returns once every service is started and healthy.\n`,
  );
  const start = await run(tools.systemctl, [`--${scope}`, "start", target], tools);
  if (start.code !== 0) {
    throw new SystemdManagerError(
      start.stderr.trim() || `systemctl --${scope} start ${target} failed (exit ${start.code}).`,
      `See \`nix2dream logs\` or \`journalctl --${scope} -u ${ctx.deployment.name}-<service>\`.`,
    );
  }
  const status = await unitStates(tools, scope, units);
  ctx.stdout.write(psTable(status));
  return { exitCode: status.every((s) => s.active === "active") ? 0 : 1, data: status };
}

async function down(ctx: ManagerContext, tools: Tools, scope: SystemdScope): Promise<ActionResult> {
  const { target, services } = renderedUnits(ctx);
  await requireManager(tools, scope);
  const stop = await run(tools.systemctl, [`--${scope}`, "stop", target, ...services], tools);
  // Units that were never linked (no `up` yet) are "not loaded": already stopped, not a failure.
  const notLoaded = stop.stderr
    .split("\n")
    .filter((l) => l.trim() !== "")
    .every((l) => /not loaded/.test(l));
  if (stop.code !== 0 && !notLoaded) {
    throw new SystemdManagerError(
      `\`systemctl --${scope} stop\` failed (exit ${stop.code}): ${stop.stderr.trim() || "no output"}`,
    );
  }
  if (flag(ctx, "volumes", "v")) {
    // StateDirectory= (persistent volumes) and RuntimeDirectory= are removed by systemd itself.
    await systemctl(tools, scope, ["clean", "--what=state", "--what=runtime", ...services]);
  }
  if (flag(ctx, "unlink")) {
    await systemctl(tools, scope, ["disable", target, ...services]);
    await systemctl(tools, scope, ["daemon-reload"]);
  }
  ctx.stdout.write(`Stopped ${target} and its ${services.length} service(s).\n`);
  return { exitCode: 0 };
}

/** The state of one unit as `systemctl show` reports it. */
export interface UnitState {
  unit: string;
  load: string;
  active: string;
  sub: string;
  pid: number | null;
  restarts: number;
}

/** Parses `systemctl show -p Id,LoadState,…` output: one `Key=Value` block per unit. */
export function parseShow(text: string): UnitState[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const kv: Record<string, string> = {};
      for (const line of block.split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0) kv[line.slice(0, eq)] = line.slice(eq + 1);
      }
      const pid = Number(kv.MainPID ?? "0");
      return {
        unit: kv.Id ?? "",
        load: kv.LoadState ?? "",
        active: kv.ActiveState ?? "",
        sub: kv.SubState ?? "",
        pid: pid > 0 ? pid : null,
        restarts: Number(kv.NRestarts ?? "0") || 0,
      };
    })
    .filter((s) => s.unit !== "");
}

async function unitStates(
  tools: Tools,
  scope: SystemdScope,
  units: string[],
): Promise<UnitState[]> {
  const r = await run(
    tools.systemctl,
    [
      `--${scope}`,
      "show",
      "--property=Id,LoadState,ActiveState,SubState,MainPID,NRestarts",
      ...units,
    ],
    tools,
  );
  if (r.code !== 0) {
    throw new SystemdManagerError(`\`systemctl --${scope} show\` failed: ${firstLine(r.stderr)}`);
  }
  return parseShow(r.stdout);
}

/** A fixed-width table of unit states. */
export function psTable(states: UnitState[]): string {
  const rows = [
    ["UNIT", "LOAD", "ACTIVE", "SUB", "PID", "RESTARTS"],
    ...states.map((s) => [
      s.unit,
      s.load,
      s.active,
      s.sub,
      s.pid === null ? "-" : String(s.pid),
      String(s.restarts),
    ]),
  ];
  return `${textTable(rows)}\n`;
}

async function ps(ctx: ManagerContext, tools: Tools, scope: SystemdScope): Promise<ActionResult> {
  const { target, services } = renderedUnits(ctx);
  await requireManager(tools, scope);
  const units = ctx.args.length ? selectedUnits(ctx, services) : [target, ...services];
  const states = await unitStates(tools, scope, units);
  if (flag(ctx, "json")) ctx.stdout.write(`${JSON.stringify(states, null, 2)}\n`);
  else ctx.stdout.write(psTable(states));
  return { exitCode: 0, data: states };
}

async function status(
  ctx: ManagerContext,
  tools: Tools,
  scope: SystemdScope,
): Promise<ActionResult> {
  const { target, services } = renderedUnits(ctx);
  await requireManager(tools, scope);
  const units = ctx.args.length ? selectedUnits(ctx, services) : [target, ...services];
  const r = await run(
    tools.systemctl,
    [`--${scope}`, "status", "--no-pager", "--full", ...units],
    tools,
    {
      out: ctx.stdout,
    },
  );
  if (r.stderr) ctx.stderr.write(r.stderr);
  // systemctl status exits 3 when a unit is not active: that is an answer, not a failure.
  return { exitCode: r.code === 0 || r.code === 3 ? r.code : 1 };
}

async function logs(ctx: ManagerContext, tools: Tools, scope: SystemdScope): Promise<ActionResult> {
  const { services } = renderedUnits(ctx);
  const units = selectedUnits(ctx, services);
  const args = [`--${scope}`, "--no-pager", "--output=short-iso"];
  for (const u of units) args.push("-u", u);
  const tail = flag(ctx, "tail", "n");
  if (tail !== undefined && tail !== true) {
    if (tail !== "all" && !/^\d+$/.test(String(tail))) {
      throw new SystemdManagerError(
        `\`--tail\` takes a number of lines or \`all\`, not \`${tail}\`.`,
      );
    }
    args.push(`--lines=${tail}`);
  }
  if (flag(ctx, "follow", "f")) args.push("--follow");
  const r = await run(tools.journalctl, args, tools, { out: ctx.stdout, signal: ctx.signal });
  if (r.stderr) ctx.stderr.write(r.stderr);
  if (ctx.signal.aborted) return { exitCode: 0 };
  return { exitCode: r.code === 0 ? 0 : 1 };
}

async function restart(
  ctx: ManagerContext,
  tools: Tools,
  scope: SystemdScope,
): Promise<ActionResult> {
  const { services } = renderedUnits(ctx);
  await requireManager(tools, scope);
  const units = selectedUnits(ctx, services);
  await systemctl(tools, scope, ["restart", ...units]);
  ctx.stdout.write(`Restarted ${units.join(", ")}.\n`);
  return { exitCode: 0 };
}

/** `stop <service…>`: stops their units, leaving the target and the other services running. */
async function stop(ctx: ManagerContext, tools: Tools, scope: SystemdScope): Promise<ActionResult> {
  const { services } = renderedUnits(ctx);
  await requireManager(tools, scope);
  const units = selectedUnits(ctx, services);
  await systemctl(tools, scope, ["stop", ...units]);
  ctx.stdout.write(`Stopped ${units.join(", ")}.\n`);
  return { exitCode: 0 };
}

type Action = (ctx: ManagerContext, tools: Tools, scope: SystemdScope) => Promise<ActionResult>;

/**
 * The systemd manager: acts on the systemd render with `systemctl` (`--user` by default,
 * `--system` with the flag or `managers.systemd.scope`) and `journalctl`. `up` links the rendered
 * units, reloads, and starts `<deployment>.target` (which returns once every service is started
 * and healthy); `down` stops it; `ps`, `status`, `logs`, `restart` act on all services or the
 * named ones. Without systemd it fails with one paragraph saying what is missing.
 */
export default function systemd(opts: SystemdManagerOptions = {}): Manager<"systemd"> {
  const tools: Tools = {
    systemctl: opts.systemctl ?? "systemctl",
    journalctl: opts.journalctl ?? "journalctl",
    env: opts.env ?? process.env,
    uid: opts.uid ?? process.getuid?.(),
  };
  // A SystemdManagerError reaches the CLI, which prints it as `error: manager systemd: …`.
  const action =
    (f: Action) =>
    async (ctx: ManagerContext): Promise<ActionResult> =>
      f(ctx, tools, scopeOf(ctx, opts));
  return {
    name: "systemd",
    renderer: "systemd",
    module: systemdManagerModule,
    descriptions: {
      up: "Link the units, daemon-reload and start <deployment>.target; returns once every service is started and healthy (--enable also enables the target; --system for the system manager).",
      down: "Stop the target and every service (--volumes also removes their state and runtime directories; --unlink removes the links).",
      ps: "Show each unit: load, active and sub state, main pid, restarts (--json for data).",
      status: "systemctl status of the target and services, or of the named services.",
      logs: "journalctl of every service or the named ones (--follow/-f, --tail N).",
      restart: "Restart every service or the named ones.",
      stop: "Stop the named services, leaving the others running (`up` starts them again).",
    },
    actions: {
      up: action(up),
      down: action(down),
      ps: action(ps),
      status: action(status),
      logs: action(logs),
      restart: action(restart),
      stop: action(stop),
    },
  };
}

export { systemd };

/** @deprecated Use {@link systemd} (the same function); this name goes in the next minor. */
export const systemdManager = systemd;
