/**
 * The swarm manager: `up` (build, `docker stack deploy --prune`, wait until converged), `down`
 * (`docker stack rm`, wait until the networks are gone), `ps`, `status`, `logs`, `restart`
 * (a forced rolling update) on the compose render.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  type ActionResult,
  definitionFilesOf,
  type Manager,
  type ManagerContext,
  runCommand,
  textTable,
} from "@nix2dream/core";
import { parse, stringify } from "yaml";
import {
  type Convergence,
  checkSwarm,
  convergenceOf,
  docker,
  type ServiceState,
  STACK_LABEL,
  type SwarmInfo,
  serviceTasks,
  stackServices,
  type TaskState,
} from "./engine.js";
import { SwarmManagerError } from "./errors.js";
import {
  DEFAULT_ROLLBACK,
  DEFAULT_UPDATE,
  type SwarmManagerSettings,
  type SwarmModuleDefaults,
  swarmManagerModule,
} from "./options.js";
import { type StackFile, stackFileOf } from "./stack.js";

/** Name of the compose file the compose renderer writes. */
const COMPOSE_FILE = "compose.yaml";
/** Name of the stack file the manager writes into its state directory. */
export const STACK_FILE = "stack.yaml";

/** Options of {@link swarm}: defaults of `managers.swarm.*`. */
export type SwarmManagerOptions = SwarmModuleDefaults;

/** The stack name for a deployment name: lowercase letters, digits, `-` and `_`. */
export function stackNameOf(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9_-]+/g, "");
  return s.replace(/^[_-]+/, "") || "nix2dream";
}

interface Session {
  ctx: ManagerContext;
  stack: string;
  env: NodeJS.ProcessEnv;
  settings: SwarmManagerSettings;
  swarm: SwarmInfo;
}

function settingsOf(ctx: ManagerContext, opts: SwarmManagerOptions): SwarmManagerSettings {
  // The module is in use whenever this manager is, but a programmatic caller may pass a bare deployment.
  const configured = ctx.deployment.managers.swarm as SwarmManagerSettings | undefined;
  return (
    configured ?? {
      stackName: opts.stackName ?? null,
      waitTimeout: opts.waitTimeout ?? 180,
      endpointMode: opts.endpointMode ?? "dnsrr",
      placement: { constraints: [], spread: [], maxPerNode: null },
      update: DEFAULT_UPDATE,
      rollback: DEFAULT_ROLLBACK,
      registry: opts.registry ?? null,
      services: {},
    }
  );
}

/** ` (defined in a.ts, b.ts)` for an option, or nothing when its files are unknown. */
function definedIn(ctx: ManagerContext, option: string): string {
  const files = definitionFilesOf(ctx.deployment, option);
  return files.length > 0 ? ` (defined in ${files.join(", ")})` : "";
}

async function session(ctx: ManagerContext, opts: SwarmManagerOptions): Promise<Session> {
  const file = path.join(ctx.artifactsDir, COMPOSE_FILE);
  if (!existsSync(file)) {
    throw new SwarmManagerError(
      "NO_RENDER",
      `There is no compose file at ${file}. Render the deployment first (\`nix2dream render compose\`) or run \`nix2dream up --manager swarm\`.`,
    );
  }
  // The classic builder works with every engine; a value in the environment wins.
  const env: NodeJS.ProcessEnv = { DOCKER_BUILDKIT: "0", ...process.env };
  const settings = settingsOf(ctx, opts);
  const unknown = Object.keys(settings.services).filter((n) => !(n in ctx.deployment.services));
  if (unknown.length > 0) {
    throw new SwarmManagerError(
      "UNKNOWN_SERVICE",
      `\`managers.swarm.services\` names ${unknown.map((n) => `\`${n}\``).join(", ")}, which ${unknown.length > 1 ? "are not services" : "is not a service"} of \`${ctx.deployment.name}\` (services: ${Object.keys(ctx.deployment.services).join(", ")}). Fix the name or remove the entry${definedIn(ctx, `managers.swarm.services.${unknown[0]}`)}.`,
    );
  }
  const swarm = await checkSwarm(env);
  const stack = stackNameOf(settings.stackName ?? ctx.deployment.name);
  return { ctx, stack, env, settings, swarm };
}

function readIfFile(file: string): Buffer | null {
  try {
    return statSync(file).isFile() ? readFileSync(file) : null;
  } catch {
    return null;
  }
}

/** The stack file of the current render, with its diagnostics printed as warnings. */
function stackOf(s: Session): StackFile {
  const compose = parse(readFileSync(path.join(s.ctx.artifactsDir, COMPOSE_FILE), "utf8"));
  const stack = stackFileOf(compose as Record<string, unknown>, {
    deployment: s.ctx.deployment,
    settings: s.settings,
    stack: s.stack,
    renderDir: s.ctx.artifactsDir,
    readFile: readIfFile,
  });
  for (const d of stack.diagnostics) {
    s.ctx.stderr.write(`warning: ${d.option}: ${d.message}\n`);
  }
  return stack;
}

async function run(s: Session, what: string, args: string[]): Promise<void> {
  const r = await runCommand(["docker", ...args], {
    env: s.env,
    stdout: s.ctx.stderr,
    stderr: s.ctx.stderr,
    signal: s.ctx.signal,
  });
  if (r.code !== 0) {
    throw new SwarmManagerError(
      "DOCKER_FAILED",
      `\`docker ${args.join(" ")}\` failed (exit ${r.code}) while ${what}; its output is above.`,
    );
  }
}

/** Builds (and with a registry, pushes) the images of services without `package.image`. */
async function buildImages(s: Session, stack: StackFile): Promise<void> {
  if (stack.builds.length > 0 && s.settings.registry === null && s.swarm.nodes > 1) {
    s.ctx.stderr.write(
      `warning: managers.swarm.registry: the swarm has ${s.swarm.nodes} nodes, but the images built for ${stack.builds.map((b) => b.service).join(", ")} exist on this node only; tasks placed elsewhere fail with "No such image". Set \`managers.swarm.registry\` to a registry every node can pull from.\n`,
    );
  }
  for (const b of stack.builds) {
    s.ctx.stderr.write(`Building ${b.image} (${b.service})\n`);
    await run(s, `building the image of ${b.service}`, ["build", "-q", "-t", b.image, b.context]);
    if (b.pushAs) {
      await run(s, `tagging the image of ${b.service}`, ["tag", b.image, b.pushAs]);
      await run(s, `pushing the image of ${b.service}`, ["push", b.pushAs]);
    }
  }
}

interface Snapshot {
  updates: Map<string, string | null>;
  tasks: Set<string>;
}

async function snapshot(s: Session): Promise<Snapshot> {
  const services = await stackServices(s.stack, s.env);
  const tasks = await serviceTasks(services, s.env);
  return {
    updates: new Map(services.map((x) => [x.name, x.update?.startedAt ?? null])),
    tasks: new Set(tasks.map((t) => t.id)),
  };
}

/** A service of the stack with its tasks and whether it has converged. */
export interface Judged {
  service: ServiceState;
  convergence: Convergence;
  tasks: TaskState[];
}

async function judge(s: Session, before: Snapshot, names: string[]): Promise<Judged[]> {
  const services = (await stackServices(s.stack, s.env)).filter((x) => names.includes(x.service));
  const tasks = await serviceTasks(services, s.env);
  return services.map((service) => {
    const own = tasks.filter((t) => t.serviceId === service.id);
    const fresh = own.filter((t) => !before.tasks.has(t.id));
    const convergence = convergenceOf(
      service,
      own,
      fresh,
      before.updates.get(service.name) ?? null,
    );
    return { service, convergence, tasks: own };
  });
}

async function showLogs(s: Session, name: string): Promise<void> {
  s.ctx.stderr.write(`--- last log lines of ${name} ---\n`);
  await runCommand(["docker", "service", "logs", "--no-trunc", "--tail", "50", name], {
    env: s.env,
    stdout: s.ctx.stderr,
    stderr: s.ctx.stderr,
  });
}

/** Waits until every service in `names` has converged; fails with the reason and the logs. */
async function waitConverged(s: Session, before: Snapshot, names: string[]): Promise<Judged[]> {
  const deadline = Date.now() + s.settings.waitTimeout * 1000;
  const seen = new Map<string, string>();
  for (;;) {
    if (s.ctx.signal.aborted) throw new SwarmManagerError("INTERRUPTED", "Interrupted.");
    const judged = await judge(s, before, names);
    for (const j of judged) {
      const text = `${j.convergence.state === "converged" ? "converged, " : ""}${j.convergence.reason}`;
      if (seen.get(j.service.name) !== text) {
        seen.set(j.service.name, text);
        s.ctx.stderr.write(`  ${j.service.name}: ${text}\n`);
      }
    }
    const failed = judged.find((j) => j.convergence.state === "failed");
    if (failed) {
      await showLogs(s, failed.service.name);
      throw new SwarmManagerError(
        "NOT_CONVERGED",
        `Service \`${failed.service.service}\` did not converge: ${failed.convergence.reason}. Its last log lines are above; \`nix2dream ps --manager swarm\` shows its tasks.`,
      );
    }
    const missing = names.filter((n) => !judged.some((j) => j.service.service === n));
    if (missing.length === 0 && judged.every((j) => j.convergence.state === "converged")) {
      return judged;
    }
    if (Date.now() > deadline) {
      const waiting = judged.filter((j) => j.convergence.state !== "converged");
      if (waiting[0]) await showLogs(s, waiting[0].service.name);
      throw new SwarmManagerError(
        "TIMEOUT",
        `Not converged after ${s.settings.waitTimeout}s: ${[...waiting.map((j) => `${j.service.service} (${j.convergence.reason})`), ...missing.map((n) => `${n} (no service)`)].join(", ")}. Raise \`managers.swarm.waitTimeout\` if the services are just slow.`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Removes the stack's configs and secrets that the current stack file no longer names. */
async function pruneObjects(s: Session, stack: StackFile): Promise<void> {
  for (const kind of ["config", "secret"] as const) {
    const keep = new Set(kind === "config" ? stack.objects.configs : stack.objects.secrets);
    const names = (
      await docker(
        [kind, "ls", "--filter", `label=${STACK_LABEL}=${s.stack}`, "--format", "{{.Name}}"],
        s.env,
      )
    )
      .split("\n")
      .filter((n) => n && !keep.has(n));
    // One still used by a task being shut down is refused; the next `up` removes it.
    if (names.length > 0) await runCommand(["docker", kind, "rm", ...names], { env: s.env });
  }
}

function deployArgs(s: Session, file: string): string[] {
  const args = ["stack", "deploy", "--prune", "-c", file];
  // Without a registry the images exist only on the engine: asking a registry for digests
  // would fail (or hang where no registry is reachable).
  args.push("--resolve-image", s.settings.registry === null ? "never" : "always");
  if (s.settings.registry !== null) args.push("--with-registry-auth");
  // The CLI waits by default from 26 on (and warns before that); the manager waits itself.
  if (Number(s.swarm.client.split(".")[0]) >= 26) args.push("--detach=true");
  return [...args, s.stack];
}

/** The `ps` table: one row per current task. */
export function psTable(rows: TaskState[]): string {
  const header = ["TASK", "NODE", "DESIRED", "STATE", "SINCE", "ERROR"];
  const cells = rows.map((t) => [
    t.name,
    t.node.slice(0, 12),
    t.desired,
    t.state,
    t.since.slice(0, 19),
    t.error || "-",
  ]);
  return textTable([header, ...cells]);
}

/** The `status` table: one row per service. */
export function statusTable(rows: Judged[]): string {
  const header = ["SERVICE", "REPLICAS", "STATE", "IMAGE", "PORTS"];
  const cells = rows.map((j) => [
    j.service.name,
    String(j.service.replicas),
    `${j.convergence.state}: ${j.convergence.reason}`,
    j.service.image,
    j.service.ports.join(", ") || "-",
  ]);
  return textTable([header, ...cells]);
}

async function up(s: Session): Promise<ActionResult> {
  const start = Date.now();
  const stack = stackOf(s);
  await buildImages(s, stack);
  mkdirSync(s.ctx.stateDir, { recursive: true });
  const file = path.join(s.ctx.stateDir, STACK_FILE);
  writeFileSync(file, stringify(stack.doc, { lineWidth: 0 }));
  const before = await snapshot(s);
  s.ctx.stderr.write(
    `Deploying stack ${s.stack} (engine ${s.swarm.engine}, ${s.swarm.nodes} node(s))\n`,
  );
  await run(s, "deploying the stack", deployArgs(s, file));
  const deployed = (Date.now() - start) / 1000;
  s.ctx.stderr.write("Waiting until every service has converged\n");
  const names = Object.keys(stack.doc.services as object);
  const judged = await waitConverged(s, before, names);
  await pruneObjects(s, stack);
  const seconds = (Date.now() - start) / 1000;
  s.ctx.stdout.write(
    `All ${judged.length} service(s) of stack ${s.stack} converged (${seconds.toFixed(1)}s, deployed after ${deployed.toFixed(1)}s). Remove it with \`nix2dream down --manager swarm\`.\n`,
  );
  if (s.ctx.flags.json !== true) s.ctx.stdout.write(`${statusTable(judged)}\n`);
  return {
    exitCode: 0,
    data: { stack: s.stack, seconds, deployedAfter: deployed, services: judged.map(summary) },
  };
}

function summary(j: Judged) {
  return {
    service: j.service.service,
    name: j.service.name,
    replicas: j.service.replicas,
    ...j.convergence,
  };
}

async function stackLeftovers(s: Session): Promise<string[]> {
  const filter = `label=${STACK_LABEL}=${s.stack}`;
  const networks = await docker(["network", "ls", "-q", "--filter", filter], s.env);
  const containers = await docker(["ps", "-aq", "--filter", filter], s.env);
  return [...networks.split(/\s+/), ...containers.split(/\s+/)].filter(Boolean);
}

async function down(s: Session): Promise<ActionResult> {
  const start = Date.now();
  const deadline = start + s.settings.waitTimeout * 1000;
  await removeStack(s, deadline);
  // `stack rm` returns at once; the tasks stop and the networks go afterwards.
  for (;;) {
    const left = await stackLeftovers(s);
    if (left.length === 0) break;
    if (Date.now() > deadline) {
      throw new SwarmManagerError(
        "TIMEOUT",
        `Stack ${s.stack} still has ${left.length} network(s) or container(s) after ${s.settings.waitTimeout}s (\`docker network ls --filter label=${STACK_LABEL}=${s.stack}\`).`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const seconds = (Date.now() - start) / 1000;
  s.ctx.stdout.write(
    `Removed stack ${s.stack}: services, networks, configs and secrets (${seconds.toFixed(1)}s). Named volumes stay on the nodes (\`docker volume ls --filter label=${STACK_LABEL}=${s.stack}\`).\n`,
  );
  return { exitCode: 0, data: { stack: s.stack, seconds } };
}

/** Tries of `docker stack rm` before `down` gives up (see {@link removeStack}). */
const STACK_RM_TRIES = 5;

/**
 * `docker stack rm`, tried again (a second apart, at most {@link STACK_RM_TRIES} times, within
 * the deadline) while it fails. It removes the services, then the networks, while the swarm is
 * still stopping their tasks; on a two-node swarm one try failed (exit 1) where the stack was
 * otherwise going away, and a removal that is already under way is safe to ask for again. Each
 * try's output is shown; the last failure is the error.
 */
async function removeStack(s: Session, deadline: number): Promise<void> {
  for (let tries = 1; ; tries++) {
    const r = await runCommand(["docker", "stack", "rm", s.stack], {
      env: s.env,
      stdout: s.ctx.stderr,
      stderr: s.ctx.stderr,
      signal: s.ctx.signal,
    });
    if (r.code === 0) return;
    if (tries >= STACK_RM_TRIES || Date.now() + 1000 > deadline || s.ctx.signal.aborted) {
      throw new SwarmManagerError(
        "DOCKER_FAILED",
        `\`docker stack rm ${s.stack}\` failed (exit ${r.code}) ${tries} time(s) while removing the stack; its output is above.`,
      );
    }
    s.ctx.stderr.write(
      `Removing stack ${s.stack} again in 1s (try ${tries + 1} of ${STACK_RM_TRIES}).\n`,
    );
    await new Promise((done) => setTimeout(done, 1000));
  }
}

function checkNames(s: Session, action: string): string[] {
  const unknown = s.ctx.args.filter((n) => !(n in s.ctx.deployment.services));
  if (unknown.length > 0) {
    throw new SwarmManagerError(
      "UNKNOWN_SERVICE",
      `\`${action}\` got ${unknown.map((n) => `\`${n}\``).join(", ")}, which ${unknown.length > 1 ? "are not services" : "is not a service"} of \`${s.ctx.deployment.name}\`; services: ${Object.keys(s.ctx.deployment.services).join(", ")}.`,
    );
  }
  return s.ctx.args.length > 0 ? s.ctx.args : Object.keys(s.ctx.deployment.services);
}

async function ps(s: Session): Promise<ActionResult> {
  const names = checkNames(s, "ps");
  const services = (await stackServices(s.stack, s.env)).filter((x) => names.includes(x.service));
  const rows = (await serviceTasks(services, s.env)).filter(
    (t) => t.desired === "running" || t.desired === "ready" || t.state === "running",
  );
  if (s.ctx.flags.json !== true) {
    s.ctx.stdout.write(rows.length ? `${psTable(rows)}\n` : `No tasks of stack ${s.stack}.\n`);
  }
  return { exitCode: 0, data: rows };
}

async function status(s: Session): Promise<ActionResult> {
  const names = checkNames(s, "status");
  const judged = await judge(s, { updates: new Map(), tasks: new Set() }, names);
  const missing = names.filter((n) => !judged.some((j) => j.service.service === n));
  if (s.ctx.flags.json !== true) {
    if (judged.length) s.ctx.stdout.write(`${statusTable(judged)}\n`);
    if (missing.length) s.ctx.stdout.write(`Not deployed: ${missing.join(", ")}.\n`);
  }
  const ok = missing.length === 0 && judged.every((j) => j.convergence.state === "converged");
  return { exitCode: ok ? 0 : 1, data: { stack: s.stack, services: judged.map(summary), missing } };
}

async function logs(s: Session): Promise<ActionResult> {
  const names = checkNames(s, "logs");
  const follow = s.ctx.flags.follow === true || s.ctx.flags.f === true;
  const tail = s.ctx.flags.tail;
  const args = ["service", "logs", "--no-trunc"];
  if (follow) args.push("--follow");
  if (typeof tail === "string") args.push("--tail", tail);
  const deployed = new Set((await stackServices(s.stack, s.env)).map((x) => x.service));
  // `docker service logs` takes one service; several are streamed side by side.
  const results = await Promise.all(
    names
      .filter((n) => deployed.has(n))
      .map((n) =>
        runCommand(["docker", ...args, `${s.stack}_${n}`], {
          env: s.env,
          stdout: s.ctx.stdout,
          stderr: s.ctx.stdout,
          signal: s.ctx.signal,
        }),
      ),
  );
  const failed = results.find((r) => r.code !== 0);
  return { exitCode: s.ctx.signal.aborted || !failed ? 0 : failed.code };
}

async function restart(s: Session): Promise<ActionResult> {
  if (s.ctx.args.length === 0) {
    throw new SwarmManagerError(
      "UNKNOWN_SERVICE",
      `\`restart\` needs service names of \`${s.ctx.deployment.name}\`; services: ${Object.keys(s.ctx.deployment.services).join(", ")}.`,
    );
  }
  const names = checkNames(s, "restart");
  const before = await snapshot(s);
  for (const n of names) {
    await run(s, `restarting ${n}`, [
      "service",
      "update",
      "--force",
      "--detach",
      "--quiet",
      `${s.stack}_${n}`,
    ]);
  }
  const judged = await waitConverged(s, before, names);
  s.ctx.stdout.write(
    `Restarted ${names.join(", ")} (rolling: ${s.settings.update.parallelism || "all"} task(s) at a time).\n`,
  );
  return { exitCode: 0, data: judged.map(summary) };
}

type Step = (s: Session) => Promise<ActionResult>;

/** An action over a {@link Session}; its {@link SwarmManagerError}s reach the caller (the CLI prints them). */
function action(opts: SwarmManagerOptions, step: Step) {
  return async (ctx: ManagerContext): Promise<ActionResult> => step(await session(ctx, opts));
}

/**
 * The swarm manager: runs the compose render as a Docker Swarm stack on the swarm the `docker`
 * CLI points at (DOCKER_HOST or the current context must be a manager node). `up` builds the
 * images of services without `package.image`, rewrites the render into a stack file (see the
 * README), deploys it with `--prune` and returns once every service has converged, or fails
 * with the reason and the service's logs.
 */
export default function swarm(opts: SwarmManagerOptions = {}): Manager<"swarm"> {
  return {
    name: "swarm",
    renderer: "compose",
    module: swarmManagerModule(opts),
    descriptions: {
      up: "Build the images, deploy the stack (docker stack deploy --prune) and wait until every service has converged.",
      down: "Remove the stack (services, networks, configs, secrets) and wait until its networks are gone; volumes stay.",
      ps: "Show the current tasks of every (or the named) service (--json for data).",
      status: "Show whether each service has converged; exit 1 when one has not (--json for data).",
      logs: "Show the logs of every service or of the named ones (--follow/-f, --tail N).",
      stop: "Not available: a swarm service has no stopped state (set `replicas: 0` and `up` instead).",
      restart:
        "Replace the tasks of the named services one batch at a time (docker service update --force) and wait.",
    },
    actions: {
      up: action(opts, up),
      down: action(opts, down),
      ps: action(opts, ps),
      status: action(opts, status),
      logs: action(opts, logs),
      stop: async () => {
        throw new SwarmManagerError(
          "UNSUPPORTED",
          "A swarm service has no stopped state: Swarm keeps its replicas running and replaces any task that stops.",
          {
            hint: "Set the service's `replicas: 0` and run `nix2dream up` (or `docker service scale <stack>_<service>=0`); `nix2dream down` removes the stack.",
          },
        );
      },
      restart: action(opts, restart),
    },
  };
}

export { swarm };

/** @deprecated Use {@link swarm} (the same function); this name goes in the next minor. */
export const swarmManager = swarm;
