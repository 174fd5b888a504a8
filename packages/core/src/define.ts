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
  /** A Nix derivation: `nixpkgs#redis`, `pkgs.redis`. */
  nix?: Def<string | null>;
  /** An OCI image: `redis:7`. */
  image?: Def<string | null>;
}

/** `services.<svc>.secrets.<VAR>`; a string is shorthand for `{ fromEnv }`. */
export interface SecretDefinition {
  fromEnv?: Def<string | null>;
  fromFile?: Def<string | null>;
  required?: Def<boolean>;
}

/** `services.<svc>.files.<path>`; a string is shorthand for `{ text }`. */
export interface FileDefinition {
  text?: Def<string | null>;
  source?: Def<string | null>;
  /** Octal string, e.g. `"0600"`. */
  mode?: Def<string>;
}

/** `services.<svc>.volumes.<name>`. */
export interface VolumeDefinition {
  path?: Def<string>;
  persistent?: Def<boolean>;
  size?: Def<string | null>;
  init?: Def<string>;
  check?: Def<string>;
  clear?: Def<string>;
}

/** `services.<svc>.ports.<name>`; a number is shorthand for `{ port }`. */
export interface PortDefinition {
  port: Def<number>;
  protocol?: Def<"tcp" | "udp">;
  expose?: Def<boolean>;
  hostPort?: Def<number | null>;
}

/** `services.<svc>.healthcheck`; `type` is inferred from `command` (exec), `path` (http) or `port` (tcp). */
export interface HealthcheckDefinition {
  type?: Def<"exec" | "http" | "tcp" | null>;
  /** For `exec`. */
  command?: Def<string[]>;
  /** For `http`/`tcp`: a port name of this service. */
  port?: Def<string | null>;
  /** For `http`; default `/`. */
  path?: Def<string | null>;
  scheme?: Def<"http" | "https">;
  interval?: Def<Duration>;
  timeout?: Def<Duration>;
  retries?: Def<number>;
  startPeriod?: Def<Duration>;
}

/** `services.<svc>.restart`; a policy string is shorthand for `{ policy }`. */
export interface RestartDefinition {
  policy?: Def<RestartPolicy>;
  maxRetries?: Def<number | null>;
  backoff?: Def<{ initial?: Def<Duration>; factor?: Def<number>; max?: Def<Duration> }>;
}

/** `services.<svc>.stop`. */
export interface StopDefinition {
  signal?: Def<string>;
  gracePeriod?: Def<Duration>;
}

/** `services.<svc>.resources`. */
export interface ResourcesDefinition {
  cpu?: Def<number | null>;
  memory?: Def<string | number | null>;
}

/** Per-renderer service options, typed by what renderer packages merge into `ServiceRenderers`. */
export type ServiceRenderersDefinition = {
  [K in keyof ServiceRenderers]?: DeepDefinition<ServiceRenderers[K]>;
};

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
  enable?: Def<boolean>;
  description?: Def<string>;
  package?: Def<PackageDefinition>;
  /** argv; a single string is the program alone. */
  command?: Def<string | string[]>;
  args?: Def<string[]>;
  preStart?: Def<string>;
  workingDir?: Def<string | null>;
  user?: Def<string | null>;
  group?: Def<string | null>;
  env?: Def<Record<string, Def<string | number | boolean>>>;
  secrets?: Def<Record<string, Def<string | SecretDefinition>>>;
  files?: Def<Record<string, Def<string | FileDefinition>>>;
  volumes?: Def<Record<string, Def<VolumeDefinition>>>;
  ports?: Def<Record<string, Def<number | PortDefinition>>>;
  healthcheck?: Def<HealthcheckDefinition | null>;
  /** A list of names means `started`. */
  dependsOn?: Def<string[] | Record<string, Def<DependencyCondition>>>;
  restart?: Def<RestartPolicy | RestartDefinition>;
  stop?: Def<StopDefinition>;
  resources?: Def<ResourcesDefinition>;
  replicas?: Def<number>;
  labels?: Def<Record<string, Def<string>>>;
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
  name: Def<string>;
  /** Renderers and managers in use; each contributes its option modules. */
  use?: Plugin[];
  services?: Def<Record<string, Def<ServiceDefinition> | ServiceModule>>;
  /** Further modules evaluated with this one (the NixOS `imports`). */
  modules?: Module[];
  /** Deployment-wide renderer options, typed through `DeploymentRenderers`. */
  renderers?: Def<{ [K in keyof DeploymentRenderers]?: DeepDefinition<DeploymentRenderers[K]> }>;
  /** Manager options, typed through `DeploymentManagers`. */
  managers?: Def<{ [K in keyof DeploymentManagers]?: DeepDefinition<DeploymentManagers[K]> }>;
}

/**
 * Declares a renderer with its contract checked. `render` must be pure: same deployment in,
 * byte-identical artifacts out. The renderer returned is the same but for `render`, whose
 * result gets core's output checks: a reference left unresolved in an artifact becomes an
 * error diagnostic naming the renderer, the file and line, and the option.
 */
export function defineRenderer<const Name extends string>(
  renderer: Renderer<Name>,
): Renderer<Name> {
  const render = renderer.render;
  return {
    ...renderer,
    render: (deployment) =>
      checkedRenderResult(renderer.name, deployment, render.call(renderer, deployment)),
  };
}

/** Declares a manager with its contract checked; returns it unchanged. */
export function defineManager<const Name extends string>(manager: Manager<Name>): Manager<Name> {
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
