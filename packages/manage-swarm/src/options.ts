/**
 * `managers.swarm.*`: what Swarm needs that Compose does not — the stack name, endpoint mode,
 * placement, update and rollback policy, the registry built images go to — deployment-wide and
 * per service (`managers.swarm.services.<svc>.*`).
 */
import { defineModule, mkOption, types } from "@nix2dream/modules";

/** How other services reach a service: a virtual IP (needs IPVS on every node) or DNS round robin. */
export type EndpointMode = "vip" | "dnsrr";

/** How Swarm replaces tasks during an update (`deploy.update_config`) or a rollback (`deploy.rollback_config`). */
export interface UpdatePolicy {
  /** Tasks replaced at once; 0: all at once. */
  parallelism: number;
  /** Seconds between two batches. */
  delay: number;
  /** `stop-first`: the old task stops before the new starts; `start-first`: they overlap. */
  order: "stop-first" | "start-first";
  /** What Swarm does when a new task fails: roll back to the previous spec, pause, or go on. */
  failureAction: "rollback" | "pause" | "continue";
  /** Seconds a new task is watched for failure before the next batch. */
  monitor: number;
}

/** Where tasks may run (`deploy.placement`). */
export interface Placement {
  /** Swarm constraints, e.g. `node.role == manager`, `node.labels.disk == ssd`. */
  constraints: string[];
  /** Spread tasks evenly over the values of these node labels (`node.labels.zone`). */
  spread: string[];
  /** At most this many tasks of a service on one node; null: no limit. */
  maxPerNode: number | null;
}

/** `managers.swarm.services.<svc>`: per-service swarm settings; null fields take the deployment's. */
export interface SwarmServiceSettings {
  endpointMode: EndpointMode | null;
  placement: Placement;
  update: UpdatePolicy | null;
  rollback: UpdatePolicy | null;
}

/** `managers.swarm`: options of the swarm manager. */
export interface SwarmManagerSettings {
  /** Stack name; null: derived from the deployment name. */
  stackName: string | null;
  /** Seconds `up` and `restart` wait for every service to converge, and `down` for the networks to go. */
  waitTimeout: number;
  endpointMode: EndpointMode;
  placement: Placement;
  update: UpdatePolicy;
  rollback: UpdatePolicy;
  /** Registry (and path) built images are pushed to, e.g. `registry.example:5000/shop`; null: not pushed. */
  registry: string | null;
  services: Record<string, SwarmServiceSettings>;
}

declare module "@nix2dream/core" {
  interface DeploymentManagers {
    swarm: SwarmManagerSettings;
  }
}

/** Defaults of the update policy: one task at a time, health-gated, rolled back on failure. */
export const DEFAULT_UPDATE: UpdatePolicy = {
  parallelism: 1,
  delay: 0,
  order: "stop-first",
  failureAction: "rollback",
  monitor: 5,
};
/** Defaults of the rollback policy: one task at a time, pause when the rollback fails too. */
export const DEFAULT_ROLLBACK: UpdatePolicy = { ...DEFAULT_UPDATE, failureAction: "pause" };

const endpointMode = types.enum(["vip", "dnsrr"]);

function updatePolicyModule(defaults: UpdatePolicy, what: string) {
  return defineModule(import.meta.url, {
    options: {
      parallelism: mkOption({
        type: types.ints.unsigned,
        default: defaults.parallelism,
        description: `Tasks replaced at once during ${what}; 0 replaces all at once.`,
      }),
      delay: mkOption({
        type: types.float,
        default: defaults.delay,
        description: `Seconds to wait between two batches of ${what}.`,
      }),
      order: mkOption({
        type: types.enum(["stop-first", "start-first"]),
        default: defaults.order,
        description:
          "`stop-first` stops an old task before its replacement starts (works with fixed host ports); `start-first` overlaps them (no capacity dip, but two tasks hold the port).",
      }),
      failureAction: mkOption({
        type: types.enum(["rollback", "pause", "continue"]),
        default: defaults.failureAction,
        description: `What Swarm does when a task fails or turns unhealthy during ${what}.`,
      }),
      monitor: mkOption({
        type: types.float,
        default: defaults.monitor,
        description: `Seconds each new task is watched for failure before ${what} moves on.`,
      }),
    },
  });
}

function placementModule() {
  return defineModule(import.meta.url, {
    options: {
      constraints: mkOption({
        type: types.listOf(types.str),
        default: [],
        example: ["node.role == manager", "node.labels.disk == ssd"],
        description: "Swarm placement constraints (`deploy.placement.constraints`).",
      }),
      spread: mkOption({
        type: types.listOf(types.str),
        default: [],
        example: ["node.labels.zone"],
        description:
          "Node labels to spread the tasks over evenly (`deploy.placement.preferences`).",
      }),
      maxPerNode: mkOption({
        type: types.nullOr(types.ints.positive),
        default: null,
        example: 1,
        description:
          "At most this many tasks of the service on one node (`deploy.placement.max_replicas_per_node`); the service's own value wins.",
      }),
    },
  });
}

const serviceSettingsModule = defineModule(import.meta.url, {
  options: {
    endpointMode: mkOption({
      type: types.nullOr(endpointMode),
      default: null,
      defaultText: "`managers.swarm.endpointMode`",
      description: "Endpoint mode of this service (`deploy.endpoint_mode`).",
    }),
    placement: mkOption({
      type: types.submodule(placementModule()),
      default: {},
      description:
        "Placement of this service's tasks, added to `managers.swarm.placement` (a service with a persistent volume should be pinned to one node here).",
    }),
    update: mkOption({
      type: types.nullOr(types.submodule(updatePolicyModule(DEFAULT_UPDATE, "an update"))),
      default: null,
      defaultText: "`managers.swarm.update`",
      description: "Update policy of this service (`deploy.update_config`).",
    }),
    rollback: mkOption({
      type: types.nullOr(types.submodule(updatePolicyModule(DEFAULT_ROLLBACK, "a rollback"))),
      default: null,
      defaultText: "`managers.swarm.rollback`",
      description: "Rollback policy of this service (`deploy.rollback_config`).",
    }),
  },
});

/** Defaults the factory can set for `managers.swarm.*`. */
export interface SwarmModuleDefaults {
  stackName?: string;
  waitTimeout?: number;
  endpointMode?: EndpointMode;
  registry?: string;
}

/** Declares `managers.swarm.*`. */
export function swarmManagerModule(defaults: SwarmModuleDefaults = {}) {
  return defineModule(import.meta.url, {
    options: {
      stackName: mkOption({
        type: types.nullOr(types.str),
        default: defaults.stackName ?? null,
        defaultText: "the deployment name, lowercased",
        example: "shop-staging",
        description:
          "Swarm stack name (`docker stack deploy <name>`); services, networks, configs and secrets are prefixed with it.",
      }),
      waitTimeout: mkOption({
        type: types.ints.positive,
        default: defaults.waitTimeout ?? 180,
        description:
          "Seconds `up` and `restart` wait for every service to converge, and `down` for the stack's networks to be gone.",
      }),
      endpointMode: mkOption({
        type: endpointMode,
        default: defaults.endpointMode ?? "dnsrr",
        description:
          "How services reach each other by name: `dnsrr` (the service name resolves to the task IPs; works on every engine) or `vip` (one virtual IP load-balanced by IPVS, which the kernel of every node must provide; needed for routing-mesh ingress ports). Default `dnsrr`, because VIP silently fails where IPVS is missing.",
      }),
      placement: mkOption({
        type: types.submodule(placementModule()),
        default: {},
        description: "Placement of every service's tasks.",
      }),
      update: mkOption({
        type: types.submodule(updatePolicyModule(DEFAULT_UPDATE, "an update")),
        default: {},
        description: "Update policy of every service (`deploy.update_config`).",
      }),
      rollback: mkOption({
        type: types.submodule(updatePolicyModule(DEFAULT_ROLLBACK, "a rollback")),
        default: {},
        description: "Rollback policy of every service (`deploy.rollback_config`).",
      }),
      registry: mkOption({
        type: types.nullOr(types.str),
        default: defaults.registry ?? null,
        example: "registry.example:5000/shop",
        description:
          "Where the images built for services without `package.image` are pushed (tagged `<registry>/<image>`), so that every node can pull them; null keeps them on this node only, which is enough for a single-node swarm.",
      }),
      services: mkOption({
        type: types.attrsOf(types.submodule(serviceSettingsModule)),
        default: {},
        description: "Per-service swarm settings, by service name.",
      }),
    },
  });
}
