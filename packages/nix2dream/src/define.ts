import {
  type DeclaredNames,
  type Def,
  type DependencyCondition,
  type DeploymentDefinition,
  type HealthcheckDefinition,
  ref,
  type ServiceDefinition,
  type ServiceModule,
  type ServiceRefs,
} from "@nix2dream/core";
import { mkMerge } from "@nix2dream/modules";

/**
 * One service of the typed form: a {@link ServiceDefinition} whose `dependsOn` names services
 * of `Services` and whose `healthcheck.port` names one of the ports this service declares (any
 * string when its ports are not an object literal: see `DeclaredNames`).
 */
export type CheckedServiceDefinition<Services, Name extends keyof Services> = Omit<
  ServiceDefinition,
  "dependsOn" | "healthcheck"
> & {
  /** Services to wait for (see {@link ServiceDefinition.dependsOn}), by a name of `services`. */
  dependsOn?: Def<
    Array<keyof Services & string> | { [Dep in keyof Services & string]?: Def<DependencyCondition> }
  >;
  /** How to tell the service is healthy (see {@link ServiceDefinition.healthcheck}). */
  healthcheck?: Def<
    | (Omit<HealthcheckDefinition, "port"> & {
        port?: Def<DeclaredNames<Services[Name], "ports"> | null>;
      })
    | null
  >;
};

/** The `services` of the typed form: each checked against the others (or a service module). */
export type CheckedServices<Services> = {
  [Name in keyof Services]: CheckedServiceDefinition<Services, Name> | ServiceModule;
};

/**
 * Further definitions of the typed form's services, made with their typed references: one
 * entry per service that needs them, merged with its entry in `services` (as two modules
 * defining the same service would be).
 */
export type ServiceReferences<Services> = (scope: {
  /** Typed {@link ref}: `ref.<service>.ports.<port>` and the like exist only when declared. */
  ref: ServiceRefs<Services>;
}) => { [Name in keyof Services]?: CheckedServiceDefinition<Services, Name> | ServiceModule };

/**
 * Declares a deployment for `nix2dream.config.ts`, with every core service option, plus the
 * per-service options that installed renderer packages add through declaration merging
 * (`services.<svc>.renderers.<name>`), checked and completed by the editor.
 *
 * Two forms:
 * - `defineDeployment(definition)` returns the definition unchanged; references come from the
 *   global `ref`, whose service and port names are any string (checked at evaluation only).
 * - `defineDeployment(definition, ({ ref }) => services)` is typed over the service names:
 *   `dependsOn` must name services of `definition.services`, `healthcheck.port` one of the
 *   service's own ports, and the callback's `ref.<service>.ports.<port>` (likewise `address`,
 *   `volumes`, `files`) only what those services declare — under `strict` and
 *   `noUncheckedIndexedAccess` alike. What the callback returns is merged into `services`.
 *   A service defined only in an imported module is not known to the types: give it an entry
 *   (`cache: {}`, which merges with the module's) to name it; its ports are then any string
 *   (`ref.cache.port("redis")`), as for any service that does not write `ports` as an object.
 *
 * @example
 * export default defineDeployment(
 *   {
 *     name: "shop",
 *     use: [procfile(), local()],
 *     services: {
 *       db: { command: ["postgres"], ports: { pg: 5432 } },
 *       api: { command: ["node", "api.mjs"], dependsOn: ["db"] },
 *     },
 *   },
 *   ({ ref }) => ({ api: { env: { DATABASE_URL: `postgres://${ref.db.address.pg}/shop` } } }),
 * );
 */
export function defineDeployment<const Services extends CheckedServices<Services>>(
  definition: Omit<DeploymentDefinition, "services"> & { services: Services },
  references: ServiceReferences<Services>,
): DeploymentDefinition;
export function defineDeployment(definition: DeploymentDefinition): DeploymentDefinition;
export function defineDeployment(
  definition: DeploymentDefinition,
  references?: ServiceReferences<Record<string, ServiceDefinition>>,
): DeploymentDefinition {
  if (!references) return definition;
  return { ...definition, services: withReferences(definition.services, references({ ref })) };
}

type ServicesDefinition = NonNullable<DeploymentDefinition["services"]>;

/** `services` with each service's further definitions merged in (mkMerge, as two modules). */
function withReferences(
  services: ServicesDefinition | undefined,
  further: Record<string, unknown>,
): ServicesDefinition {
  const merged: Record<string, unknown> = { ...(services as Record<string, unknown>) };
  for (const [name, more] of Object.entries(further)) {
    if (more === undefined) continue;
    merged[name] = name in merged ? mkMerge([merged[name], more]) : more;
  }
  return merged as ServicesDefinition;
}
