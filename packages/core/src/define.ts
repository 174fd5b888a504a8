/**
 * The typed input side: what a user writes in `defineDeployment({...})`, and the identity
 * helpers renderer and manager packages use to get their contracts checked.
 */
import type { Definable, Module, ModuleArgs, ModuleObject } from "@nix2dream/modules";
import type { Manager, Renderer } from "./contracts.js";
import type {
  DependencyCondition,
  DeploymentExtensions,
  DeploymentManagers,
  DeploymentRenderers,
  RestartPolicy,
  ServiceExtensions,
  ServiceRenderers,
} from "./deployment.js";
import type { Duration } from "./duration.js";
import type { ModuleCheck } from "./option-agreement.js";
import { checkedRenderResult } from "./render-check.js";

/** A value as a definition: plain, or wrapped in `mkIf`/`mkMerge`/`mkOverride`/`mkDefault`/`mkForce`/`mkOrder`. */
export type Def<T> = Definable<T>;

/**
 * Deep-partial definition of an evaluated shape: every field optional, every level may be
 * wrapped in `mk*`. Used for the option sets renderers and managers add.
 */
export type DeepDefinition<T> = Def<
  T extends (...args: never[]) => unknown
    ? T
    : T extends readonly unknown[]
      ? T
      : T extends object
        ? { [K in keyof T]?: DeepDefinition<T[K]> }
        : T
>;

/** `services.<svc>.package`. */
export interface PackageDefinition {
  /**
   * A Nix derivation providing the program: a flake reference (`nixpkgs#redis`) or an attribute
   * path (`pkgs.redis`).
   *
   * @defaultValue `null`
   */
  nix?: Def<string | null>;
  /**
   * An OCI image providing the program, for container targets.
   *
   * @defaultValue `null`
   */
  image?: Def<string | null>;
}

/** `services.<svc>.secrets.<VAR>`; a string is shorthand for `{ fromEnv }`. */
export interface SecretDefinition {
  /**
   * Read the value from this variable of the launching environment.
   *
   * @defaultValue `the secret's own name, when `fromFile` is not set either`
   */
  fromEnv?: Def<string | null>;
  /**
   * Read the value from this file on the machine that runs the service.
   *
   * @defaultValue `null`
   */
  fromFile?: Def<string | null>;
  /**
   * Refuse to start the service when the secret is missing.
   *
   * @defaultValue `true`
   */
  required?: Def<boolean>;
}

/** `services.<svc>.files.<path>`; a string is shorthand for `{ text }`. */
export interface FileDefinition {
  /**
   * Inline content of the file. Exactly one of `text` and `source` is set.
   *
   * @defaultValue `null`
   */
  text?: Def<string | null>;
  /**
   * A file to copy, relative to the config file's directory or absolute. Exactly one of `text`
   * and `source` is set.
   *
   * @defaultValue `null`
   */
  source?: Def<string | null>;
  /**
   * POSIX permissions of the file, as an octal string.
   *
   * @defaultValue `"0644"`
   */
  mode?: Def<string>;
}

/** `services.<svc>.volumes.<name>`. */
export interface VolumeDefinition {
  /**
   * Where the service sees the volume: inside its container, or relocated under the
   * deployment's state directory on local targets.
   *
   * @defaultValue `/var/lib/<service>/<volume>`
   */
  path?: Def<string>;
  /**
   * Keep the contents across `down`/`up` and re-creation of the service.
   *
   * @defaultValue `true`
   */
  persistent?: Def<boolean>;
  /**
   * Requested size; targets that cannot size volumes report a diagnostic.
   *
   * @defaultValue `null`
   */
  size?: Def<string | null>;
  /**
   * Shell run when the volume is empty (first start).
   *
   * @defaultValue `""`
   */
  init?: Def<string>;
  /**
   * Shell run on every start before the service; a non-zero exit stops the start.
   *
   * @defaultValue `""`
   */
  check?: Def<string>;
  /**
   * Shell run when the volume is cleared (`down --volumes`).
   *
   * @defaultValue `""`
   */
  clear?: Def<string>;
}

/** `services.<svc>.ports.<name>`; a number is shorthand for `{ port }`. */
export interface PortDefinition {
  /**
   * The port the program listens on.
   */
  port: Def<number>;
  /**
   * Transport protocol.
   *
   * @defaultValue `"tcp"`
   */
  protocol?: Def<"tcp" | "udp">;
  /**
   * Publish the port beyond the deployment: on the host, or outside the cluster, where the
   * target has one.
   *
   * @defaultValue `false`
   */
  expose?: Def<boolean>;
  /**
   * Host port to publish on. Setting it publishes the port; when only `expose` is set the host
   * port is `port`.
   *
   * @defaultValue ``port`, when `expose` is set`
   */
  hostPort?: Def<number | null>;
}

/** `services.<svc>.healthcheck`; `type` is inferred from `command` (exec), `path` (http) or `port` (tcp). */
export interface HealthcheckDefinition {
  /**
   * How to probe: run a command, request a URL, or open a TCP connection.
   */
  type?: Def<"exec" | "http" | "tcp" | null>;
  /**
   * For `exec`: argv run in the service's environment; exit 0 means healthy.
   *
   * @defaultValue `[]`
   */
  command?: Def<string[]>;
  /**
   * For `http` and `tcp`: the name of one of the service's `ports`.
   *
   * @defaultValue `null`
   */
  port?: Def<string | null>;
  /**
   * For `http`: the request path; a 2xx or 3xx answer means healthy.
   *
   * @defaultValue `/`
   */
  path?: Def<string | null>;
  /**
   * For `http`: the URL scheme.
   *
   * @defaultValue `"http"`
   */
  scheme?: Def<"http" | "https">;
  /**
   * Time between probes. Seconds, or a string such as "5s", "500ms", "1m".
   *
   * @defaultValue `5`
   */
  interval?: Def<Duration>;
  /**
   * Time a probe may take before it counts as failed. Seconds, or a string such as "5s",
   * "500ms", "1m".
   *
   * @defaultValue `5`
   */
  timeout?: Def<Duration>;
  /**
   * Consecutive failures before the service is unhealthy.
   *
   * @defaultValue `3`
   */
  retries?: Def<number>;
  /**
   * Grace period after start during which failures do not count (a success ends it early), so
   * slow starters are not restarted. Seconds, or a string such as "5s", "500ms", "1m".
   *
   * @defaultValue `30`
   */
  startPeriod?: Def<Duration>;
}

/** `services.<svc>.restart`; a policy string is shorthand for `{ policy }`. */
export interface RestartDefinition {
  /**
   * When to restart the program after it exits: never, after a non-zero exit, or always.
   *
   * @defaultValue `"on-failure"`
   */
  policy?: Def<RestartPolicy>;
  /**
   * Give up after this many automatic restarts in a row: a run that lasts long enough (the
   * built-in supervisor: 10 s) resets the count, and restarts an operator asks for do not
   * count; null is unlimited.
   *
   * @defaultValue `null (unlimited)`
   */
  maxRetries?: Def<number | null>;
  /**
   * Exponential backoff between restarts.
   *
   * @defaultValue `{}`
   */
  backoff?: Def<{ initial?: Def<Duration>; factor?: Def<number>; max?: Def<Duration> }>;
}

/** `services.<svc>.stop`. */
export interface StopDefinition {
  /**
   * Signal sent to ask the program to stop.
   *
   * @defaultValue `"SIGTERM"`
   */
  signal?: Def<string>;
  /**
   * Time between the stop signal and SIGKILL. Seconds, or a string such as "5s", "500ms", "1m".
   *
   * @defaultValue `10`
   */
  gracePeriod?: Def<Duration>;
}

/** `services.<svc>.watch`. */
export interface WatchDefinition {
  /**
   * Files or directories (relative to the config file's directory) whose change restarts the
   * service under `nix2dream up --watch`. Directories are watched recursively.
   *
   * @defaultValue `[]`
   */
  paths?: Def<string[]>;
  /**
   * Globs of changes to ignore inside the watched directories: `**` crosses directories, `*`
   * does not; a glob without `/` matches any path segment.
   *
   * @defaultValue `[]`
   */
  ignore?: Def<string[]>;
  /**
   * Quiet time after the last change before the restart, so a burst of writes restarts once.
   * Seconds, or a string such as "5s", "500ms", "1m".
   *
   * @defaultValue `0.3`
   */
  debounce?: Def<Duration>;
}

/** `services.<svc>.resources`. */
export interface ResourcesDefinition {
  /**
   * CPU limit, in CPUs.
   *
   * @defaultValue `null`
   */
  cpu?: Def<number | null>;
  /**
   * Memory limit: bytes, or a quantity such as "512Mi" or "1Gi".
   *
   * @defaultValue `null`
   */
  memory?: Def<string | number | null>;
}

/**
 * Options keyed by plugin name, from a declaration-merged interface. With no plugin declaring
 * any, TypeScript would check an object literal against `{}`, which takes every key; the empty
 * case is a record of `never` instead, so `renderers: { nonsense: {} }` fails `tsc`.
 */
type PluginOptionsDefinition<Declared> = [keyof Declared] extends [never]
  ? Record<string, never>
  : { [K in keyof Declared]?: DeepDefinition<Declared[K]> };

/** Per-renderer service options, typed by what renderer packages merge into `ServiceRenderers`. */
export type ServiceRenderersDefinition = PluginOptionsDefinition<ServiceRenderers>;

/** Definitions of the options modules add to services, typed through `ServiceExtensions`. */
export type ServiceExtensionsDefinition = {
  [K in keyof ServiceExtensions]?: DeepDefinition<ServiceExtensions[K]>;
};

/** Definitions of the options modules add to the deployment, typed through `DeploymentExtensions`. */
export type DeploymentExtensionsDefinition = {
  [K in keyof DeploymentExtensions]?: DeepDefinition<DeploymentExtensions[K]>;
};

/**
 * What a user writes for one service (`services.<name>`): every core option optional, with
 * shorthand forms and `mk*` wrappers, and the options modules add (`ServiceExtensions`). For a service module with `imports` or reading its own
 * `config`, write a function (`ServiceModule`) instead.
 */
export interface ServiceDefinition extends ServiceExtensionsDefinition {
  /**
   * Whether the service is part of the deployment.
   *
   * @defaultValue `true`
   */
  enable?: Def<boolean>;
  /**
   * What the service is, for people and for targets that show a description.
   *
   * @defaultValue `""`
   */
  description?: Def<string>;
  /**
   * Where the program comes from: a Nix derivation (`nix`), an OCI image (`image`), or neither
   * (a program on PATH).
   *
   * @defaultValue `{}`
   */
  package?: Def<PackageDefinition>;
  /**
   * argv of the main program (its first element is the program). A single string is the program
   * alone. Values may contain references.
   *
   * @defaultValue `[]`
   */
  command?: Def<string | string[]>;
  /**
   * Arguments appended to `command`; definitions from several modules are concatenated. Values
   * may contain references.
   *
   * @defaultValue `[]`
   */
  args?: Def<string[]>;
  /**
   * Shell run before the main program on every start. May contain references.
   *
   * @defaultValue `""`
   */
  preStart?: Def<string>;
  /**
   * Working directory of the program.
   *
   * @defaultValue `null`
   */
  workingDir?: Def<string | null>;
  /**
   * User to run as, where the target can switch users.
   *
   * @defaultValue `null`
   */
  user?: Def<string | null>;
  /**
   * Group to run as, where the target can switch groups.
   *
   * @defaultValue `null`
   */
  group?: Def<string | null>;
  /**
   * Environment variables. Values may contain references to other services (`ref.db.host`);
   * numbers and booleans become strings.
   *
   * @defaultValue `{}`
   */
  env?: Def<Record<string, Def<string | number | boolean>>>;
  /**
   * Environment variables whose values are read at run time from the environment or a file,
   * never written into a rendered file. A string is shorthand for `{ fromEnv: <string> }`; with
   * neither `fromEnv` nor `fromFile` the variable of the same name is read.
   *
   * @defaultValue `{}`
   */
  secrets?: Def<Record<string, Def<string | SecretDefinition>>>;
  /**
   * Config files, by target path. A string is shorthand for `{ text: <string> }`. Text may
   * contain references.
   *
   * @defaultValue `{}`
   */
  files?: Def<Record<string, Def<string | FileDefinition>>>;
  /**
   * Storage the service keeps, by name, with scripts run on it.
   *
   * @defaultValue `{}`
   */
  volumes?: Def<Record<string, Def<VolumeDefinition>>>;
  /**
   * Ports the service listens on, by name. A number is shorthand for `{ port: <number> }`.
   *
   * @defaultValue `{}`
   */
  ports?: Def<Record<string, Def<number | PortDefinition>>>;
  /**
   * How to tell the service is healthy: `exec` (a command), `http` (a URL on one of its ports)
   * or `tcp` (a port accepts connections), with timing.
   *
   * @defaultValue `null`
   */
  healthcheck?: Def<HealthcheckDefinition | null>;
  /**
   * Services to wait for before starting, with the condition: `started`, `healthy` (its
   * healthcheck passes) or `completed` (exited with 0). A list of names means `started`.
   *
   * @defaultValue `{}`
   */
  dependsOn?: Def<string[] | Record<string, Def<DependencyCondition>>>;
  /**
   * Restart policy (`no`, `on-failure`, `always`), max retries and exponential backoff. A
   * string is shorthand for `{ policy: <string> }`.
   *
   * @defaultValue `{}`
   */
  restart?: Def<RestartPolicy | RestartDefinition>;
  /**
   * How the service is stopped: the signal, then SIGKILL after the grace period.
   *
   * @defaultValue `{}`
   */
  stop?: Def<StopDefinition>;
  /**
   * Files whose change restarts the service during `nix2dream up --watch` (the built-in
   * supervisor), like Compose's `develop.watch` and nodemon.
   *
   * @defaultValue `{}`
   */
  watch?: Def<WatchDefinition>;
  /**
   * Resource limits, where the target supports them.
   *
   * @defaultValue `{}`
   */
  resources?: Def<ResourcesDefinition>;
  /**
   * Number of instances to run.
   *
   * @defaultValue `1`
   */
  replicas?: Def<number>;
  /**
   * Key/value metadata attached to the service where the target has labels.
   *
   * @defaultValue `{}`
   */
  labels?: Def<Record<string, Def<string>>>;
  /**
   * Per-service options of each renderer in use.
   *
   * @defaultValue `{}`
   */
  renderers?: Def<ServiceRenderersDefinition>;
}

/**
 * A service as a module function: `({ name, config }) => ({ imports: [...], config: {...} })`;
 * `name` is the service's name and `config` its own evaluated options.
 */
export type ServiceModule = (args: ModuleArgs) => ModuleObject;

/** A renderer or a manager, as listed in `use`. */
export type Plugin = Renderer | Manager;

/**
 * What a user writes in `nix2dream.config.ts`: the deployment's name, the renderers and
 * managers it uses, its services, and further modules. The object itself is a module
 * (its file is the config file), so definitions here merge with those of `modules`.
 */
export interface DeploymentDefinition extends DeploymentExtensionsDefinition {
  /**
   * Name of the deployment; used for output directories, project names and namespaces.
   */
  name: Def<string>;
  /** Renderers and managers in use; each contributes its option modules. */
  use?: Plugin[];
  /**
   * The services of the deployment, by name.
   *
   * @defaultValue `{}`
   */
  services?: Def<Record<string, Def<ServiceDefinition> | ServiceModule>>;
  /** Further modules evaluated with this one (the NixOS `imports`). */
  modules?: Module[];
  /**
   * Deployment-wide options of each renderer in use.
   *
   * @defaultValue `{}`
   */
  renderers?: Def<PluginOptionsDefinition<DeploymentRenderers>>;
  /**
   * Options of each manager in use.
   *
   * @defaultValue `{}`
   */
  managers?: Def<PluginOptionsDefinition<DeploymentManagers>>;
}

/**
 * Declares a renderer with its contract checked. `render` must be pure: same deployment in,
 * byte-identical artifacts out. The renderer returned is the same but for `render`, whose
 * result gets core's output checks: a reference left unresolved in an artifact becomes an
 * error diagnostic naming the renderer, the file and line, and the option.
 *
 * At compile time, `serviceModule` and `deploymentModule` are checked against the interfaces
 * the package merges into `ServiceRenderers[name]` and `DeploymentRenderers[name]`: the
 * options they declare (inferred with `InferOptions`) must fit those interfaces, key for key.
 * A module typed only as `Module` is not checked.
 */
export function defineRenderer<
  const Name extends string,
  const ServiceM extends Module | undefined = undefined,
  const DeploymentM extends Module | undefined = undefined,
>(
  renderer: Renderer<Name> & {
    serviceModule?: ServiceM;
    deploymentModule?: DeploymentM;
  } & ModuleCheck<ServiceM, ServiceRenderers, Name, "serviceModule"> &
    ModuleCheck<DeploymentM, DeploymentRenderers, Name, "deploymentModule">,
): Renderer<Name> {
  const render = renderer.render;
  return {
    ...renderer,
    render: (deployment) =>
      checkedRenderResult(renderer.name, deployment, render.call(renderer, deployment)),
  };
}

/**
 * Declares a manager with its contract checked; returns it unchanged. At compile time its
 * `module` is checked against the interface the package merges into `DeploymentManagers[name]`,
 * as {@link defineRenderer} checks a renderer's modules.
 */
export function defineManager<
  const Name extends string,
  const M extends Module | undefined = undefined,
>(
  manager: Manager<Name> & { module?: M } & ModuleCheck<M, DeploymentManagers, Name, "module">,
): Manager<Name> {
  return manager;
}

/** True for a renderer: an object with a `name` and a `render` function. */
export function isRenderer(value: unknown): value is Renderer {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { name?: unknown }).name === "string" &&
    typeof (value as { render?: unknown }).render === "function"
  );
}

/** True for a manager: an object with a `name`, the `renderer` it acts on and `actions`. */
export function isManager(value: unknown): value is Manager {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { name?: unknown }).name === "string" &&
    typeof (value as { renderer?: unknown }).renderer === "string" &&
    typeof (value as { actions?: unknown }).actions === "object" &&
    (value as { actions?: unknown }).actions !== null
  );
}
