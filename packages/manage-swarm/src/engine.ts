/**
 * Talking to the Docker engine of a swarm manager node: running `docker`, reading the stack's
 * services and tasks, and judging whether a service has converged.
 */
import { type CommandResult, runCommand } from "@nix2dream/core";
import { SwarmManagerError } from "./errors.js";

/** Label `docker stack deploy` puts on every service, network, config, secret and task container. */
export const STACK_LABEL = "com.docker.stack.namespace";

/** Runs `docker …` and returns its stdout; a non-zero exit is a {@link SwarmManagerError}. */
export async function docker(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const r = await runCommand(["docker", ...args], { env });
  if (r.code !== 0) {
    throw new SwarmManagerError(
      "DOCKER_FAILED",
      `\`docker ${args.join(" ")}\` failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`,
    );
  }
  return r.stdout;
}

/** The swarm this engine belongs to, as `docker info` reports it. */
export interface SwarmInfo {
  engine: string;
  client: string;
  nodes: number;
}

/**
 * Checks that a Docker engine answers and is a manager of an active swarm.
 * @throws SwarmManagerError `NO_DOCKER`, `NO_ENGINE`, `NO_SWARM` or `NOT_MANAGER`, each saying
 * what to do.
 */
export async function checkSwarm(env: NodeJS.ProcessEnv): Promise<SwarmInfo> {
  let r: CommandResult;
  const format =
    "{{.ServerVersion}} {{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.Nodes}}";
  try {
    r = await runCommand(["docker", "info", "--format", format], { env });
  } catch {
    throw new SwarmManagerError(
      "NO_DOCKER",
      "The `docker` command is not installed; the swarm manager needs it: `apt-get install -y docker.io`.",
    );
  }
  const [engine = "", state = "", control = "", nodes = "0"] = r.stdout.trim().split(/\s+/);
  if (r.code !== 0 || !engine || engine === "<no") {
    const why = r.stderr.trim().split("\n").pop() ?? "";
    throw new SwarmManagerError(
      "NO_ENGINE",
      `No Docker engine answers (\`docker info\` failed${why ? `: ${why}` : ""}). Start it (\`dockerd\`, or \`systemctl start docker\`) or point DOCKER_HOST at a swarm manager.`,
    );
  }
  if (state !== "active") {
    throw new SwarmManagerError(
      "NO_SWARM",
      `The Docker engine ${engine} is not part of a swarm (state: ${state || "unknown"}). Make it one with \`docker swarm init\` (a single node: \`docker swarm init --advertise-addr 127.0.0.1\`), or point DOCKER_HOST at a manager of an existing swarm.`,
    );
  }
  if (control !== "true") {
    throw new SwarmManagerError(
      "NOT_MANAGER",
      "This Docker engine is a swarm worker; stacks are deployed through a manager node. Point DOCKER_HOST (or `docker context use`) at a manager.",
    );
  }
  const client = (
    await runCommand(["docker", "version", "--format", "{{.Client.Version}}"], { env })
  ).stdout.trim();
  return { engine, client, nodes: Number(nodes) || 1 };
}

/** One service of the stack, from `docker service inspect`. */
export interface ServiceState {
  id: string;
  /** Full swarm name, `<stack>_<service>`. */
  name: string;
  /** The nix2dream service name. */
  service: string;
  replicas: number;
  image: string;
  /** `none`, `on-failure` or `any`. */
  restart: string;
  /** `updating`, `completed`, `paused`, `rollback_started`, `rollback_completed`, … or null. */
  update: { state: string; startedAt: string; message: string } | null;
  ports: string[];
}

interface RawService {
  ID: string;
  Spec: {
    Name: string;
    Labels?: Record<string, string>;
    Mode: { Replicated?: { Replicas: number }; Global?: object };
    TaskTemplate: {
      ContainerSpec: { Image: string };
      RestartPolicy?: { Condition?: string };
    };
  };
  UpdateStatus?: { State: string; StartedAt?: string; Message?: string };
  Endpoint?: { Ports?: Array<{ TargetPort: number; PublishedPort?: number; Protocol: string }> };
}

/** Every service of `stack`, sorted by name. */
export async function stackServices(
  stack: string,
  env: NodeJS.ProcessEnv,
): Promise<ServiceState[]> {
  const ids = (
    await docker(["service", "ls", "-q", "--filter", `label=${STACK_LABEL}=${stack}`], env)
  )
    .split(/\s+/)
    .filter(Boolean);
  if (ids.length === 0) return [];
  const r = await runCommand(["docker", "service", "inspect", ...ids], { env });
  const raw = JSON.parse(r.stdout || "[]") as RawService[];
  return raw
    .map((s) => ({
      id: s.ID,
      name: s.Spec.Name,
      service: s.Spec.Name.startsWith(`${stack}_`)
        ? s.Spec.Name.slice(stack.length + 1)
        : s.Spec.Name,
      replicas: s.Spec.Mode.Replicated?.Replicas ?? 1,
      image: s.Spec.TaskTemplate.ContainerSpec.Image.replace(/@sha256:.*$/, ""),
      restart: s.Spec.TaskTemplate.RestartPolicy?.Condition ?? "any",
      update: s.UpdateStatus
        ? {
            state: s.UpdateStatus.State,
            startedAt: s.UpdateStatus.StartedAt ?? "",
            message: s.UpdateStatus.Message ?? "",
          }
        : null,
      ports: (s.Endpoint?.Ports ?? []).map(
        (p) => `${p.PublishedPort ? `${p.PublishedPort}->` : ""}${p.TargetPort}/${p.Protocol}`,
      ),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** One task (a container slot) of a service, from `docker inspect` of the task. */
export interface TaskState {
  id: string;
  serviceId: string;
  /** `<stack>_<service>.<slot>`. */
  name: string;
  slot: number;
  node: string;
  desired: string;
  /** `new`, `pending`, `assigned`, `preparing`, `starting`, `running`, `complete`, `failed`, `rejected`, `shutdown`, … */
  state: string;
  error: string;
  exitCode: number | null;
  createdAt: string;
  /** When the task reached its current state. */
  since: string;
}

interface RawTask {
  ID: string;
  ServiceID: string;
  Slot?: number;
  NodeID?: string;
  DesiredState: string;
  CreatedAt: string;
  Status: {
    State: string;
    Err?: string;
    Timestamp: string;
    ContainerStatus?: { ExitCode?: number };
  };
}

/** Every task (current and past) of `services`, newest first per slot. */
export async function serviceTasks(
  services: ServiceState[],
  env: NodeJS.ProcessEnv,
): Promise<TaskState[]> {
  if (services.length === 0) return [];
  const r = await runCommand(
    ["docker", "service", "ps", "-q", "--no-trunc", ...services.map((s) => s.id)],
    { env },
  );
  const ids = [...new Set(r.stdout.split(/\s+/).filter(Boolean))];
  if (ids.length === 0) return [];
  // A task removed between `ps` and `inspect` makes inspect fail for it only.
  const raw = JSON.parse(
    (await runCommand(["docker", "inspect", "--type", "task", ...ids], { env })).stdout || "[]",
  ) as RawTask[];
  const names = new Map(services.map((s) => [s.id, s.name]));
  return raw
    .map((t) => ({
      id: t.ID,
      serviceId: t.ServiceID,
      name: `${names.get(t.ServiceID) ?? t.ServiceID}.${t.Slot ?? 0}`,
      slot: t.Slot ?? 0,
      node: t.NodeID ?? "",
      desired: t.DesiredState,
      state: t.Status.State,
      error: t.Status.Err ?? "",
      exitCode: t.Status.ContainerStatus?.ExitCode ?? null,
      createdAt: t.CreatedAt,
      since: t.Status.Timestamp,
    }))
    .sort((a, b) =>
      a.name === b.name ? b.createdAt.localeCompare(a.createdAt) : a.name.localeCompare(b.name),
    );
}

/** Whether a service is where its spec says, still moving, or stuck, and why. */
export interface Convergence {
  state: "converged" | "waiting" | "failed";
  /** `2/2 running`, `the update failed and was rolled back (…)`, `task failed: …`. */
  reason: string;
}

const UPDATE_FAILED_TEXT: Record<string, string> = {
  paused: "the update paused",
  rollback_completed: "the update failed and was rolled back",
  rollback_paused: "the update failed and its rollback paused",
};
const UPDATE_FAILED = new Set(Object.keys(UPDATE_FAILED_TEXT));

/**
 * Judges one service. `before` is its update status before this deploy (a stale rollback of an
 * earlier deploy must not fail this one); `fresh` are the tasks created since the deploy began.
 * A service converges when no update is running and as many tasks run as it has replicas (for
 * `restart: none` also completed ones); an update that paused or rolled back, a rejected task,
 * or three failed tasks fail it. Failed tasks are not counted while an update runs: Swarm's
 * update controller judges them then, by the policy's `failureAction`.
 */
export function convergenceOf(
  s: ServiceState,
  tasks: TaskState[],
  fresh: TaskState[],
  before: string | null,
): Convergence {
  const update = s.update && s.update.startedAt !== before ? s.update : null;
  const current = tasks.filter((t) => t.desired === "running" || t.desired === "ready");
  const running = current.filter((t) => t.state === "running").length;
  // Swarm calls a rollback completed once it has started the old tasks: let them come up first.
  if (update?.state === "rollback_completed" && running < s.replicas) {
    return { state: "waiting", reason: `rolling back, ${running}/${s.replicas} running` };
  }
  if (update && UPDATE_FAILED.has(update.state)) {
    const what = UPDATE_FAILED_TEXT[update.state] ?? update.state;
    const why = update.message && update.message !== what ? ` (${update.message})` : "";
    return { state: "failed", reason: `${what}${why}` };
  }
  const rejected = fresh.find((t) => t.state === "rejected");
  if (rejected) return { state: "failed", reason: `task rejected: ${rejected.error}` };
  const moving =
    update !== null && (update.state === "updating" || update.state === "rollback_started");
  // While an update runs, Swarm's update controller judges failed tasks (rolls back, pauses or
  // goes on, as `failureAction` says): counting them here would race it.
  const failed = moving ? [] : fresh.filter((t) => t.state === "failed");
  if (failed.length >= 3 && s.restart !== "none") {
    return { state: "failed", reason: `${failed.length} tasks failed, last: ${failed[0]?.error}` };
  }
  if (s.restart === "none" && failed.length > 0) {
    return { state: "failed", reason: `task failed: ${failed[0]?.error}` };
  }
  const done = s.restart === "none" ? tasks.filter((t) => t.state === "complete").length : 0;
  const ok =
    !moving &&
    running + done >= s.replicas &&
    current.every((t) => t.state === "running" || t.state === "complete");
  return {
    state: ok ? "converged" : "waiting",
    reason: moving
      ? `${update.state}, ${running}/${s.replicas} running`
      : `${running}/${s.replicas} running${done ? `, ${done} complete` : ""}`,
  };
}
