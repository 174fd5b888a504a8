/**
 * The evaluated deployment: plain, fully forced data that renderers read.
 * The option declarations in `./options/` produce exactly this shape.
 */

/** Options renderers add per service, by declaration merging: `interface ServiceRenderers { k8s: K8sServiceOptions }`. */
// biome-ignore lint/suspicious/noEmptyInterface: extended by renderer packages through declaration merging
export interface ServiceRenderers {}
/** Options renderers add per deployment (`renderers.<name>.*`), by declaration merging. */
// biome-ignore lint/suspicious/noEmptyInterface: extended by renderer packages through declaration merging
export interface DeploymentRenderers {}
/** Options managers add per deployment (`managers.<name>.*`), by declaration merging. */
// biome-ignore lint/suspicious/noEmptyInterface: extended by manager packages through declaration merging
export interface DeploymentManagers {}

/**
 * Options a module adds to every service (`services.<svc>.<option>`), by declaration merging.
 * Declare them with `serviceOptions` and derive the interface from the same declarations, so
 * the type is exactly what arrives:
 * `interface ServiceExtensions extends InferOptions<typeof teamOptions> {}`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: extended by module packages through declaration merging
export interface ServiceExtensions {}
/**
 * Options a module adds at the top of the deployment (`<option>`, beside `name` and
 * `services`), by declaration merging, as for {@link ServiceExtensions}.
 */
// biome-ignore lint/suspicious/noEmptyInterface: extended by module packages through declaration merging
export interface DeploymentExtensions {}

/** What a dependent waits for: the dependency started, passes its healthcheck, or exited with 0. */
export type DependencyCondition = "started" | "healthy" | "completed";
/** When a program is restarted after it exits: never, after a non-zero exit, or always. */
export type RestartPolicy = "no" | "on-failure" | "always";

/** Where the program comes from. Neither set: a program found on PATH. */
export interface ServicePackage {
  /** A Nix derivation: `nixpkgs#redis`, `pkgs.redis`, or a flake reference. */
  nix: string | null;
  /** An OCI image reference: `redis:7`. */
  image: string | null;
}

/** A variable whose value is read at run time and never written into a rendered file. */
export interface SecretSource {
  /** Read from this variable of the launching environment. */
  fromEnv: string | null;
  /** Read from this file (path on the machine that runs the service). */
  fromFile: string | null;
  /** Fail to start when the secret is missing (default true). */
  required: boolean;
}

/** A config file the service sees at its target path (the key of `files`). */
export interface ServiceFile {
  /** Inline content. Exactly one of `text` / `source` is set. */
  text: string | null;
  /** Path of a file to copy, relative to the config file's directory or absolute. */
  source: string | null;
  /** Octal string, e.g. `"0644"`. */
  mode: string;
}

/** Storage a service keeps, with the scripts run on it. */
export interface ServiceVolume {
  /** Where the service sees the volume (inside a container, or relocated under the state dir locally). */
  path: string;
  /** Survives `down`/`up` and re-creation. */
  persistent: boolean;
  /** Requested size, e.g. `"1Gi"`; targets that cannot size volumes ignore it with a diagnostic. */
  size: string | null;
  /** Shell run when the volume is empty (first start). */
  init: string;
  /** Shell run on every start before the service; non-zero exit stops the start. */
  check: string;
  /** Shell run on `down --volumes` / clearing the volume. */
  clear: string;
}

/** A port a service listens on; other services reach it through references. */
export interface ServicePort {
  /** Port the program listens on. */
  port: number;
  protocol: "tcp" | "udp";
  /** Published beyond the deployment (host port, NodePort, firewall). */
  expose: boolean;
  /** Host port to publish on (default: `port`), when `expose` or on local targets. */
  hostPort: number | null;
}

/** How a healthcheck probes: a command, an HTTP request, or a TCP connection to a named port. */
export type HealthcheckKind =
  | { type: "exec"; command: string[] }
  | { type: "http"; port: string; path: string; scheme: "http" | "https" }
  | { type: "tcp"; port: string };

/** Timing fields are in seconds. */
export type Healthcheck = HealthcheckKind & {
  interval: number;
  timeout: number;
  retries: number;
  startPeriod: number;
};

/** When and how fast a service is restarted. */
export interface RestartSettings {
  policy: RestartPolicy;
  /** null: unlimited. */
  maxRetries: number | null;
  /** Exponential backoff, seconds: initial delay, factor, cap. */
  backoff: { initial: number; factor: number; max: number };
}

/** How a service is stopped. */
export interface StopSettings {
  /** e.g. `"SIGTERM"`. */
  signal: string;
  /** Seconds before SIGKILL. */
  gracePeriod: number;
}

/** Files whose change restarts a service under `up --watch`. */
export interface WatchSettings {
  /** Files or directories, relative to the config file's directory (or absolute). */
  paths: string[];
  /** Globs of changes to ignore inside watched directories. */
  ignore: string[];
  /** Seconds of quiet after the last change before the restart. */
  debounce: number;
}

/** Resource limits; null where unset. */
export interface Resources {
  /** CPUs, e.g. 0.5. */
  cpu: number | null;
  /** Bytes, Kubernetes-style quantity string, e.g. `"512Mi"`. */
  memory: string | null;
}

/**
 * One service after evaluation. String values (env, args, command, files' text) may contain
 * reference tokens (see `./refs.ts`); renderers resolve them with `resolveRefs`. Every option
 * a module declared for services is here too, typed through {@link ServiceExtensions}.
 */
export interface EvaluatedService extends ServiceExtensions {
  name: string;
  enable: boolean;
  description: string;
  package: ServicePackage;
  command: string[];
  args: string[];
  preStart: string;
  workingDir: string | null;
  user: string | null;
  group: string | null;
  env: Record<string, string>;
  secrets: Record<string, SecretSource>;
  /** Keyed by target path. */
  files: Record<string, ServiceFile>;
  volumes: Record<string, ServiceVolume>;
  ports: Record<string, ServicePort>;
  healthcheck: Healthcheck | null;
  dependsOn: Record<string, DependencyCondition>;
  restart: RestartSettings;
  stop: StopSettings;
  watch: WatchSettings;
  resources: Resources;
  replicas: number;
  labels: Record<string, string>;
  renderers: ServiceRenderers;
}

/**
 * The whole evaluated deployment handed to `Renderer.render`. Every top-level option a module
 * declared is here too, typed through {@link DeploymentExtensions}.
 */
export interface EvaluatedDeployment extends DeploymentExtensions {
  name: string;
  /** Enabled services only, keys sorted. */
  services: Record<string, EvaluatedService>;
  renderers: DeploymentRenderers;
  managers: DeploymentManagers;
  /** Directory of the config file (absolute), for resolving `files.*.source`; null when evaluated from memory. */
  root: string | null;
  /** Where each option was defined: option path → files. For diagnostics. */
  definitionFiles: Record<string, string[]>;
  warnings: string[];
}
