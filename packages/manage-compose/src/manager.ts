/**
 * The compose manager: `up` (build, start, wait until healthy), `down`, `ps`, `logs`, `restart`
 * on the compose render, with `docker compose` (v2) or `docker-compose` (v1).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import {
  type ActionResult,
  type Manager,
  type ManagerContext,
  runCommand,
  textTable,
} from "@nix2dream/core";
import { defineModule, mkOption, types } from "@nix2dream/modules";
import { ComposeManagerError, type ComposeTool, checkEngine, findCompose } from "./tool.js";

/** Name of the compose file the compose renderer writes. */
const COMPOSE_FILE = "compose.yaml";
/** Label Compose (v1 and v2) puts on every container, network and volume of a project. */
export const PROJECT_LABEL = "com.docker.compose.project";
const SERVICE_LABEL = "com.docker.compose.service";

/** `managers.compose`: options of the compose manager. */
export interface ComposeManagerSettings {
  /** Compose project name; null: derived from the deployment name. */
  projectName: string | null;
  /** Seconds `up` and `restart` wait for every service to be ready. */
  waitTimeout: number;
}

declare module "@nix2dream/core" {
  interface DeploymentManagers {
    compose: ComposeManagerSettings;
  }
}

/** Options of {@link compose}. */
export interface ComposeManagerOptions {
  /** Use this Compose major version only (default: v2 when present, else v1). */
  prefer?: 1 | 2;
  /** Default of `managers.compose.projectName`. */
  projectName?: string;
  /** Default of `managers.compose.waitTimeout` (seconds, default 180). */
  waitTimeout?: number;
}

/** One container of the project, as `ps` reports it. */
export interface ContainerStatus {
  service: string;
  container: string;
  /** Docker's state: `created`, `running`, `restarting`, `exited`, `paused`, `dead`. */
  state: string;
  /** `healthy`, `unhealthy`, `starting`, or `none` without a healthcheck. */
  health: string;
  exitCode: number;
  restarts: number;
  /** `127.0.0.1:8080->8080/tcp` for each published port. */
  ports: string[];
}

/** The Compose project name for a deployment name: lowercase letters, digits, `-` and `_`. */
export function projectNameOf(name: string): string {
  const p = name.toLowerCase().replace(/[^a-z0-9_-]+/g, "");
  return p.replace(/^[_-]+/, "") || "nix2dream";
}

export function moduleWith(opts: ComposeManagerOptions) {
  return defineModule(import.meta.url, {
    options: {
      projectName: mkOption({
        type: types.nullOr(types.str),
        default: opts.projectName ?? null,
        defaultText: "the deployment name, lowercased",
        example: "shop-staging",
        description: "Compose project name (`-p`); containers, networks and volumes carry it.",
      }),
      waitTimeout: mkOption({
        type: types.ints.positive,
        default: opts.waitTimeout ?? 180,
        description: "Seconds `up` and `restart` wait for every service to be running and healthy.",
      }),
    },
  });
}

interface Session {
  ctx: ManagerContext;
  tool: ComposeTool;
  project: string;
  env: NodeJS.ProcessEnv;
  settings: ComposeManagerSettings;
}

async function session(ctx: ManagerContext, opts: ComposeManagerOptions): Promise<Session> {
  const file = path.join(ctx.artifactsDir, COMPOSE_FILE);
  if (!existsSync(file)) {
    throw new ComposeManagerError(
      "NO_RENDER",
      `There is no compose file at ${file}. Render the deployment first (\`nix2dream render compose\`) or run \`nix2dream up --manager compose\`.`,
    );
  }
  // docker-compose 1.29 would build through the docker CLI with BuildKit, which needs buildx;
  // the classic builder works with every engine (a value in the environment wins).
  const env: NodeJS.ProcessEnv = {
    DOCKER_BUILDKIT: "0",
    COMPOSE_DOCKER_CLI_BUILD: "0",
    ...process.env,
  };
  const tool = await findCompose(env, opts.prefer);
  await checkEngine(env);
  // The module is in use whenever this manager is, but a programmatic caller may pass a bare deployment.
  const configured = ctx.deployment.managers.compose as ComposeManagerSettings | undefined;
  const settings: ComposeManagerSettings = configured ?? {
    projectName: null,
    waitTimeout: opts.waitTimeout ?? 180,
  };
  const project = projectNameOf(settings.projectName ?? opts.projectName ?? ctx.deployment.name);
  return { ctx, tool, project, env, settings };
}

function composeArgv(s: Session, ...args: string[]): string[] {
  return [
    ...s.tool.argv,
    "-p",
    s.project,
    "-f",
    path.join(s.ctx.artifactsDir, COMPOSE_FILE),
    "--project-directory",
    s.ctx.artifactsDir,
    ...args,
  ];
}

/** Runs a compose subcommand with its output shown; fails with a message on a non-zero exit. */
async function runCompose(s: Session, what: string, ...args: string[]): Promise<void> {
  const r = await runCommand(composeArgv(s, ...args), {
    env: s.env,
    stdout: s.ctx.stderr,
    stderr: s.ctx.stderr,
    signal: s.ctx.signal,
  });
  if (r.code !== 0) {
    throw new ComposeManagerError(
      "COMPOSE_FAILED",
      `\`${s.tool.argv.join(" ")} ${args.join(" ")}\` failed (exit ${r.code}) while ${what}; its output is above.`,
    );
  }
}

/** Every container of the project, sorted by service and name. */
export async function projectContainers(
  project: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ContainerStatus[]> {
  const ids = await runCommand(
    ["docker", "ps", "-a", "-q", "--filter", `label=${PROJECT_LABEL}=${project}`],
    { env },
  );
  if (ids.code !== 0) {
    throw new ComposeManagerError("DOCKER_FAILED", `\`docker ps\` failed: ${ids.stderr.trim()}`);
  }
  const list = ids.stdout.split(/\s+/).filter(Boolean);
  if (list.length === 0) return [];
  const r = await runCommand(["docker", "inspect", ...list], { env });
  // A container removed between `ps` and `inspect` makes inspect fail for it only.
  const data = JSON.parse(r.stdout || "[]") as Array<{
    Name: string;
    RestartCount: number;
    State: { Status: string; ExitCode: number; Health?: { Status: string } };
    Config: { Labels: Record<string, string> | null };
    NetworkSettings: { Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> };
  }>;
  return data
    .map((c) => ({
      service: c.Config.Labels?.[SERVICE_LABEL] ?? "",
      container: c.Name.replace(/^\//, ""),
      state: c.State.Status,
      health: c.State.Health?.Status ?? "none",
      exitCode: c.State.ExitCode,
      restarts: c.RestartCount,
      ports: Object.entries(c.NetworkSettings.Ports ?? {})
        .flatMap(([port, binds]) => (binds ?? []).map((b) => `${b.HostIp}:${b.HostPort}->${port}`))
        .sort(),
    }))
    .sort((a, b) =>
      a.service === b.service
        ? a.container.localeCompare(b.container)
        : a.service.localeCompare(b.service),
    );
}

type Readiness = "ready" | "waiting" | "failed";

/** Whether one container counts as up: running and healthy (or no healthcheck), or completed with 0. */
export function readiness(c: ContainerStatus): Readiness {
  if (c.health === "unhealthy") return "failed";
  if (c.state === "exited" || c.state === "dead") return c.exitCode === 0 ? "ready" : "failed";
  if (c.state === "restarting") return "failed";
  if (c.state !== "running") return "waiting";
  return c.health === "starting" ? "waiting" : "ready";
}

function describe(c: ContainerStatus): string {
  if (c.state === "exited") return `exited ${c.exitCode}`;
  return c.health === "none" ? c.state : `${c.state}, ${c.health}`;
}

/** Waits until every container of `services` (all when empty) is ready; the failing one otherwise. */
async function waitReady(s: Session, services: string[]): Promise<ContainerStatus[]> {
  const deadline = Date.now() + s.settings.waitTimeout * 1000;
  const seen = new Map<string, string>();
  for (;;) {
    if (s.ctx.signal.aborted) throw new ComposeManagerError("INTERRUPTED", "Interrupted.");
    const all = await projectContainers(s.project, s.env);
    const rows = services.length ? all.filter((c) => services.includes(c.service)) : all;
    for (const c of rows) {
      const text = describe(c);
      if (seen.get(c.container) !== text) {
        seen.set(c.container, text);
        s.ctx.stderr.write(`  ${c.container}: ${text}\n`);
      }
    }
    const failed = rows.find((c) => readiness(c) === "failed");
    if (failed) {
      await showLogs(s, failed.service);
      throw new ComposeManagerError(
        "UNHEALTHY",
        `Service \`${failed.service}\` failed to start (${describe(failed)}); its last log lines are above.`,
      );
    }
    const expected = services.length ? services : Object.keys(s.ctx.deployment.services);
    const present = new Set(rows.map((c) => c.service));
    if (expected.every((n) => present.has(n)) && rows.every((c) => readiness(c) === "ready")) {
      return rows;
    }
    if (Date.now() > deadline) {
      const waiting = rows.filter((c) => readiness(c) !== "ready");
      const first = waiting[0];
      if (first) await showLogs(s, first.service);
      throw new ComposeManagerError(
        "TIMEOUT",
        `Not ready after ${s.settings.waitTimeout}s: ${waiting.map((c) => `${c.container} (${describe(c)})`).join(", ") || "no containers"}. Raise \`managers.compose.waitTimeout\` if the services are just slow.`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Reads of a failed service's logs before showing them empty (see {@link showLogs}). */
const LOG_TRIES = 4;

/**
 * The last log lines of a service that failed. Read again, a second apart, while they come back
 * empty: on a loaded machine a container seen restarting once had no line in its logs, though it
 * had printed why it failed before exiting. Our reading, not proven: the engine had not written
 * its last output to the log yet.
 */
async function showLogs(s: Session, service: string): Promise<void> {
  s.ctx.stderr.write(`--- last log lines of ${service} ---\n`);
  for (let tries = 1; ; tries++) {
    const r = await runCommand(composeArgv(s, "logs", "--no-color", "--tail", "50", service), {
      env: s.env,
    });
    if (tries < LOG_TRIES && !hasLogLines(r.stdout)) {
      await new Promise((done) => setTimeout(done, 1000));
      continue;
    }
    s.ctx.stderr.write(r.stdout);
    s.ctx.stderr.write(r.stderr);
    return;
  }
}

/**
 * @internal Whether `compose logs` printed a line of a container, not only docker-compose v1's
 * "Attaching to …" line.
 */
export function hasLogLines(output: string): boolean {
  return output.split("\n").some((line) => line.trim() !== "" && !line.startsWith("Attaching to "));
}

/** The `ps` table. */
export function psTable(rows: ContainerStatus[]): string {
  const header = ["SERVICE", "CONTAINER", "STATE", "HEALTH", "EXIT", "RESTARTS", "PORTS"];
  const cells = rows.map((r) => [
    r.service,
    r.container,
    r.state,
    r.health === "none" ? "-" : r.health,
    r.state === "exited" ? String(r.exitCode) : "-",
    String(r.restarts),
    r.ports.join(", ") || "-",
  ]);
  return textTable([header, ...cells]);
}

async function up(s: Session): Promise<ActionResult> {
  const start = Date.now();
  s.ctx.stderr.write(
    `Building images of \`${s.ctx.deployment.name}\` (project ${s.project}, ${s.tool.argv.join(" ")} ${s.tool.version})\n`,
  );
  await runCompose(s, "building the images", "build");
  try {
    await runCompose(s, "starting the containers", "up", "-d", "--remove-orphans");
  } catch (err) {
    // Compose itself stops when a dependency gate fails (unhealthy, or a job exiting non-zero):
    // show what that service said.
    const failed = (await projectContainers(s.project, s.env)).find(
      (c) => readiness(c) === "failed",
    );
    if (!failed) throw err;
    await showLogs(s, failed.service);
    throw new ComposeManagerError(
      "UNHEALTHY",
      `Service \`${failed.service}\` failed to start (${describe(failed)}), so Compose did not start what depends on it; its last log lines are above.`,
    );
  }
  s.ctx.stderr.write("Waiting until every service is running and healthy\n");
  const rows = await waitReady(s, []);
  const seconds = (Date.now() - start) / 1000;
  s.ctx.stdout.write(
    `All ${rows.length} container(s) of \`${s.ctx.deployment.name}\` are ready (${seconds.toFixed(1)}s). Stop them with \`nix2dream down --manager compose\`.\n`,
  );
  if (s.ctx.flags.json !== true) s.ctx.stdout.write(`${psTable(rows)}\n`);
  return { exitCode: 0, data: { project: s.project, seconds, containers: rows } };
}

async function down(s: Session): Promise<ActionResult> {
  const volumes = s.ctx.flags.volumes === true || s.ctx.flags.v === true;
  await runCompose(
    s,
    "stopping the project",
    "down",
    "--remove-orphans",
    ...(volumes ? ["--volumes"] : []),
  );
  s.ctx.stdout.write(
    `Stopped and removed the containers of \`${s.ctx.deployment.name}\`${volumes ? " and its volumes" : "; named volumes are kept (`--volumes` removes them)"}.\n`,
  );
  return { exitCode: 0 };
}

async function ps(s: Session): Promise<ActionResult> {
  const rows = await projectContainers(s.project, s.env);
  if (s.ctx.flags.json !== true) {
    s.ctx.stdout.write(
      rows.length ? `${psTable(rows)}\n` : `No containers of project ${s.project}.\n`,
    );
  }
  return { exitCode: 0, data: rows };
}

async function logs(s: Session): Promise<ActionResult> {
  const follow = s.ctx.flags.follow === true || s.ctx.flags.f === true;
  const tail = s.ctx.flags.tail;
  const args = ["logs", "--no-color"];
  if (follow) args.push("--follow");
  if (typeof tail === "string") args.push("--tail", tail);
  const r = await runCommand(composeArgv(s, ...args, ...s.ctx.args), {
    env: s.env,
    stdout: s.ctx.stdout,
    stderr: s.ctx.stderr,
    signal: s.ctx.signal,
  });
  return { exitCode: s.ctx.signal.aborted ? 0 : r.code };
}

/** The service names given to `action`; a {@link ComposeManagerError} naming unknown ones. */
function namedServices(s: Session, action: string): string[] {
  const unknown = s.ctx.args.filter((n) => !(n in s.ctx.deployment.services));
  if (s.ctx.args.length === 0 || unknown.length > 0) {
    throw new ComposeManagerError(
      "UNKNOWN_SERVICE",
      `\`${action}\` needs service names of \`${s.ctx.deployment.name}\`${unknown.length ? ` (unknown: ${unknown.join(", ")})` : ""}; services: ${Object.keys(s.ctx.deployment.services).join(", ")}.`,
    );
  }
  return s.ctx.args;
}

async function restart(s: Session): Promise<ActionResult> {
  namedServices(s, "restart");
  await runCompose(s, "restarting", "restart", ...s.ctx.args);
  const rows = await waitReady(s, s.ctx.args);
  s.ctx.stdout.write(`Restarted ${s.ctx.args.join(", ")}.\n`);
  return { exitCode: 0, data: rows };
}

/** `stop <service…>`: stops their containers and leaves the others running (`up` starts them again). */
async function stop(s: Session): Promise<ActionResult> {
  const names = namedServices(s, "stop");
  await runCompose(s, "stopping", "stop", ...names);
  const rows = (await projectContainers(s.project, s.env)).filter((c) => names.includes(c.service));
  s.ctx.stdout.write(`Stopped ${names.join(", ")}.\n`);
  return { exitCode: 0, data: rows };
}

type Step = (s: Session) => Promise<ActionResult>;

/** An action over a {@link Session}; its {@link ComposeManagerError}s reach the caller. */
function action(opts: ComposeManagerOptions, step: Step) {
  return async (ctx: ManagerContext): Promise<ActionResult> => step(await session(ctx, opts));
}

/**
 * The compose manager: runs the compose render with `docker compose` (v2) or `docker-compose`
 * (v1, Debian's), whichever is installed. `up` builds the images, starts the project detached
 * and returns once every container is running and healthy (or completed with exit 0), or fails
 * with the failing service's logs; `down` keeps named volumes unless `--volumes`.
 */
export default function compose(opts: ComposeManagerOptions = {}): Manager<"compose"> {
  return {
    name: "compose",
    renderer: "compose",
    module: moduleWith(opts),
    descriptions: {
      up: "Build the images, start every container in the background and wait until all are healthy (fails with the unhealthy service's logs).",
      down: "Stop and remove the containers and network; --volumes also removes the named volumes.",
      ps: "Show each container: state, health, exit code, restarts, ports (--json for data).",
      logs: "Show the logs of every service or of the named ones (--follow/-f, --tail N).",
      restart: "Restart the named services and wait until they are healthy again.",
      stop: "Stop the named services' containers, leaving the others running (`up` starts them again).",
      status: "Same as ps.",
    },
    actions: {
      up: action(opts, up),
      down: action(opts, down),
      ps: action(opts, ps),
      logs: action(opts, logs),
      restart: action(opts, restart),
      stop: action(opts, stop),
      status: action(opts, ps),
    },
  };
}

export { compose };

/** @deprecated Use {@link compose} (the same function); this name goes in the next minor. */
export const composeManager = compose;
