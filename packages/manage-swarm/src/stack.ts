/**
 * The stack file: the compose render rewritten for `docker stack deploy`. Swarm reads the
 * Compose file format 3 and drops or refuses what only a single engine can do, so each such
 * field is rewritten here or reported as a diagnostic — never silently lost.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { type Diagnostic, diagnostic, type EvaluatedDeployment } from "@nix2dream/core";
import { SwarmManagerError } from "./errors.js";
import {
  DEFAULT_ROLLBACK,
  DEFAULT_UPDATE,
  type Placement,
  type SwarmManagerSettings,
  type SwarmServiceSettings,
  type UpdatePolicy,
} from "./options.js";

/** An image to build before the deploy (a service without `package.image`). */
export interface ImageBuild {
  service: string;
  /** The tag the render gave it. */
  image: string;
  /** Absolute build context. */
  context: string;
  /** `<registry>/<image>` when `managers.swarm.registry` is set: tagged and pushed. */
  pushAs: string | null;
}

/** What {@link stackFileOf} returns. */
export interface StackFile {
  /** The stack file as data (written as YAML for `docker stack deploy -c`). */
  doc: Record<string, unknown>;
  builds: ImageBuild[];
  /** Names of the swarm configs and secrets the stack uses (older ones of the stack are pruned). */
  objects: { configs: string[]; secrets: string[] };
  diagnostics: Diagnostic[];
}

/** How {@link stackFileOf} reads the files the render points at. */
export interface StackInput {
  deployment: EvaluatedDeployment;
  settings: SwarmManagerSettings;
  stack: string;
  /** The render directory (relative paths in compose.yaml are against it). */
  renderDir: string;
  /** The content of a file, or null when it does not exist. */
  readFile: (absolute: string) => Buffer | null;
}

/** Swarm's limit on the size of a config or secret. */
const MAX_OBJECT_BYTES = 500 * 1024;

type Entry = Record<string, unknown>;
type Warn = (option: string, message: string) => void;

function hash12(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex").slice(0, 12);
}

/** `1.5` → `1500ms`, `5` → `5s`: a Go duration. */
function goDuration(seconds: number): string {
  return Number.isInteger(seconds) ? `${seconds}s` : `${Math.round(seconds * 1000)}ms`;
}

function policyOf(p: UpdatePolicy): Entry {
  return {
    parallelism: p.parallelism,
    delay: goDuration(p.delay),
    order: p.order,
    failure_action: p.failureAction,
    monitor: goDuration(p.monitor),
  };
}

const NO_SERVICE_SETTINGS: SwarmServiceSettings = {
  endpointMode: null,
  placement: { constraints: [], spread: [], maxPerNode: null },
  update: null,
  rollback: null,
};

/** `deploy:` of one service: the render's (replicas, resources) plus what Swarm adds. */
function deployOf(name: string, entry: Entry, input: StackInput): Entry {
  const { deployment, settings } = input;
  const own = settings.services[name] ?? NO_SERVICE_SETTINGS;
  const service = deployment.services[name];
  const rendered = (entry.deploy ?? {}) as Entry;
  const deploy: Entry = {
    ...rendered,
    mode: "replicated",
    replicas: service?.replicas ?? rendered.replicas ?? 1,
    endpoint_mode: own.endpointMode ?? settings.endpointMode,
    update_config: policyOf(own.update ?? settings.update ?? DEFAULT_UPDATE),
    rollback_config: policyOf(own.rollback ?? settings.rollback ?? DEFAULT_ROLLBACK),
  };
  const restart = restartPolicyOf(name, entry, input);
  if (restart) deploy.restart_policy = restart;
  const placement = placementOf(settings.placement, own.placement);
  if (placement) deploy.placement = placement;
  return deploy;
}

function placementOf(all: Placement, own: Placement): Entry | null {
  const constraints = [...all.constraints, ...own.constraints];
  const spread = [...all.spread, ...own.spread];
  const maxPerNode = own.maxPerNode ?? all.maxPerNode;
  const out: Entry = {};
  if (constraints.length > 0) out.constraints = constraints;
  if (spread.length > 0) out.preferences = spread.map((s) => ({ spread: s }));
  if (maxPerNode !== null) out.max_replicas_per_node = maxPerNode;
  return Object.keys(out).length > 0 ? out : null;
}

/** Swarm ignores `restart:`; the same policy as `deploy.restart_policy`. */
function restartPolicyOf(name: string, entry: Entry, input: StackInput): Entry | null {
  const r = input.deployment.services[name]?.restart;
  if (!r) {
    const text = typeof entry.restart === "string" ? entry.restart : null;
    if (text === null) return null;
    const [policy, max] = text.split(":");
    const condition = policy === "no" ? "none" : policy === "on-failure" ? "on-failure" : "any";
    return max ? { condition, max_attempts: Number(max) } : { condition };
  }
  const out: Entry = {
    condition: r.policy === "no" ? "none" : r.policy === "on-failure" ? "on-failure" : "any",
    delay: goDuration(r.backoff.initial),
  };
  if (r.maxRetries !== null) out.max_attempts = r.maxRetries;
  return out;
}

/** `127.0.0.1:8080:80/tcp`, `127.0.0.1::80/tcp`, `8080:80` → the long syntax in host mode. */
function portOf(spec: unknown): Entry | null {
  if (typeof spec !== "string") return spec && typeof spec === "object" ? (spec as Entry) : null;
  const [main = "", protocol = "tcp"] = spec.split("/");
  const parts = main.split(":");
  const target = Number(parts.pop());
  const published = parts.pop();
  const port: Entry = { target, protocol, mode: "host" };
  if (published) port.published = Number(published);
  return port;
}

/**
 * Ports published by Swarm: only those with `expose: true`, in host mode (the routing mesh's
 * ingress mode needs IPVS and the VIP endpoint mode). Swarm cannot publish on 127.0.0.1, so
 * a port the render publishes on loopback only (not exposed) stays on the stack network; one
 * with an explicit `hostPort` but no `expose` gets a warning.
 */
function portsOf(name: string, entry: Entry, input: StackInput, warn: Warn): Entry[] {
  const service = input.deployment.services[name];
  const out: Entry[] = [];
  for (const spec of Array.isArray(entry.ports) ? entry.ports : []) {
    const port = portOf(spec);
    if (!port) continue;
    const [key, declared] =
      Object.entries(service?.ports ?? {}).find(
        ([, p]) => p.port === port.target && p.protocol === port.protocol,
      ) ?? [];
    if (declared && !declared.expose) {
      if (declared.hostPort !== null) {
        warn(
          `services.${name}.ports.${key}.hostPort`,
          `Not published: Swarm publishes a port on every interface of the node, never on 127.0.0.1 only, so only ports with \`expose: true\` are published. Set \`services.${name}.ports.${key}.expose\` to publish it; other services reach it over the stack network either way.`,
        );
      }
      continue;
    }
    out.push(port);
  }
  return out;
}

/** A name Swarm accepts for a config or secret: `<stack>_<key>`, at most 64 characters. */
function objectName(stack: string, key: string): string {
  const name = `${stack}_${key}`.replace(/[^A-Za-z0-9_.-]+/g, "-");
  return name.length <= 64 ? name : `${name.slice(0, 51)}-${hash12(name)}`;
}

function absolute(renderDir: string, p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(renderDir, p);
}

/** Read-only bind mounts of files become swarm configs: they exist on every node. */
function mountsOf(
  name: string,
  entry: Entry,
  input: StackInput,
  configs: Entry,
  warn: Warn,
): {
  volumes: Entry[];
  configs: Entry[];
} {
  const volumes: Entry[] = [];
  const mounted: Entry[] = [];
  const service = input.deployment.services[name];
  for (const m of (entry.volumes ?? []) as Entry[]) {
    if (m.type === "bind" && typeof m.source === "string") {
      const source = absolute(input.renderDir, m.source);
      const data = m.read_only === true ? input.readFile(source) : null;
      if (data === null) {
        warn(
          `services.${name}.volumes`,
          `The bind mount of ${JSON.stringify(source)} needs that path on every node that runs \`${name}\`.`,
        );
        volumes.push({ ...m, source });
        continue;
      }
      if (data.length > MAX_OBJECT_BYTES) {
        throw new SwarmManagerError(
          "FILE_TOO_LARGE",
          `The file ${JSON.stringify(m.target)} of service \`${name}\` (services.${name}.files) is ${data.length} bytes; a swarm config holds at most 500 KiB. Put it into the image or a volume instead.`,
        );
      }
      const key = `${name}-${path.basename(String(m.target))}-${hash12(data)}`;
      configs[key] = { file: source, name: objectName(input.stack, key) };
      const mode = service?.files[String(m.target)]?.mode ?? "0444";
      mounted.push({ source: key, target: m.target, mode: Number.parseInt(mode, 8) });
      continue;
    }
    if (m.type === "volume" && service && !hasConstraints(name, input)) {
      warn(
        `services.${name}.volumes`,
        `The persistent volume \`${String(m.source)}\` of \`${name}\` is local to the node that runs the task: if Swarm moves the task to another node it starts there with an empty volume. Pin the service to one node with \`managers.swarm.services.${name}.placement.constraints\` (e.g. \`node.hostname == db1\`) or use a volume driver shared by all nodes.`,
      );
    }
    volumes.push(m);
  }
  return { volumes, configs: mounted };
}

function hasConstraints(name: string, input: StackInput): boolean {
  const own = input.settings.services[name]?.placement.constraints ?? [];
  return own.length + input.settings.placement.constraints.length > 0;
}

/** Secrets read from files get a content-hashed name: a changed secret rolls the service. */
function secretsOf(doc: Entry, input: StackInput): Entry {
  const out: Entry = {};
  for (const [key, s] of Object.entries((doc.secrets ?? {}) as Record<string, Entry>)) {
    if (typeof s.file !== "string") {
      out[key] = s;
      continue;
    }
    const file = absolute(input.renderDir, s.file);
    const data = input.readFile(file);
    if (data === null) {
      const [svc = "", ...rest] = key.split("_");
      throw new SwarmManagerError(
        "NO_SECRET_FILE",
        `The secret file ${JSON.stringify(file)} (services.${svc}.secrets.${rest.join("_")}.fromFile) does not exist, so the swarm secret cannot be created. Create the file or change the option.`,
      );
    }
    out[key] = { file, name: objectName(input.stack, `${key}-${hash12(data)}`) };
  }
  return out;
}

function dependsOnWarnings(deployment: EvaluatedDeployment, warn: Warn): void {
  for (const [name, service] of Object.entries(deployment.services)) {
    const deps = Object.entries(service.dependsOn);
    if (deps.length === 0) continue;
    warn(
      `services.${name}.dependsOn`,
      `Swarm ignores \`dependsOn\` (${deps.map(([d, c]) => `${d}: ${c}`).join(", ")}): every service starts at once. \`${name}\` must retry until what it needs answers; its restart policy and the healthchecks settle the order.`,
    );
  }
}

function envWarnings(name: string, entry: Entry, warn: Warn): void {
  const env = (entry.environment ?? {}) as Record<string, unknown>;
  const passed = Object.keys(env).filter((k) => env[k] === null);
  if (passed.length === 0) return;
  warn(
    `services.${name}.secrets`,
    `Taken from the environment of \`docker stack deploy\` and stored in the service spec, readable with \`docker service inspect\`: ${passed.join(", ")}. Use \`fromFile\` to make them swarm secrets.`,
  );
}

/** The build of one service, or null for a ready image; drops `build:`, which Swarm ignores. */
function buildOf(name: string, entry: Entry, input: StackInput): ImageBuild | null {
  const build = entry.build as Entry | string | undefined;
  delete entry.build;
  if (build === undefined || typeof entry.image !== "string") return null;
  const context = typeof build === "string" ? build : String(build.context ?? ".");
  const image = entry.image;
  const registry = input.settings.registry?.replace(/\/+$/, "") ?? null;
  const pushAs = registry ? `${registry}/${image}` : null;
  if (pushAs) entry.image = pushAs;
  return { service: name, image, context: absolute(input.renderDir, context), pushAs };
}

/**
 * The stack file for `docker stack deploy` from the compose render `compose`: images built
 * first (`build:` dropped), `restart:` as `deploy.restart_policy`, ports in host mode, file bind
 * mounts as swarm configs and secret files as swarm secrets (both named by content hash, so a
 * change rolls the service), endpoint mode, placement and update/rollback policy from
 * `managers.swarm`; `depends_on` dropped with a warning, node-local volumes warned about.
 * @throws SwarmManagerError for a missing secret file or a file too large for a config.
 */
export function stackFileOf(compose: Entry, input: StackInput): StackFile {
  const diagnostics: Diagnostic[] = [];
  const warn: Warn = (option, message) =>
    diagnostics.push(diagnostic(input.deployment, { option, message }));
  const configs: Entry = {};
  const builds: ImageBuild[] = [];
  const services: Entry = {};
  for (const [name, raw] of Object.entries((compose.services ?? {}) as Record<string, Entry>)) {
    const entry: Entry = { ...raw };
    const build = buildOf(name, entry, input);
    if (build) builds.push(build);
    envWarnings(name, entry, warn);
    const ports = portsOf(name, entry, input, warn);
    if (ports.length > 0) entry.ports = ports;
    else delete entry.ports;
    const mounts = mountsOf(name, entry, input, configs, warn);
    if (mounts.volumes.length > 0) entry.volumes = mounts.volumes;
    else delete entry.volumes;
    if (mounts.configs.length > 0) entry.configs = mounts.configs;
    entry.deploy = deployOf(name, entry, input);
    delete entry.restart;
    delete entry.depends_on;
    services[name] = entry;
  }
  dependsOnWarnings(input.deployment, warn);
  const doc: Entry = { version: "3.8", ...compose, services };
  delete doc.secrets;
  const secrets = secretsOf(compose, input);
  if (Object.keys(secrets).length > 0) doc.secrets = secrets;
  if (Object.keys(configs).length > 0) doc.configs = configs;
  return {
    doc,
    builds,
    objects: {
      configs: Object.values(configs).map((c) => String((c as Entry).name)),
      secrets: Object.values(secrets).map((s) => String((s as Entry).name ?? "")),
    },
    diagnostics,
  };
}
