/**
 * The deployment-level options: `name`, `services.<name>`, and the `renderers.<name>` /
 * `managers.<name>` option trees contributed by the renderers and managers in use.
 */
import {
  defineModule,
  type Module,
  mkOption,
  type SubmoduleInstance,
  types,
} from "@nix2dream/modules";
import type { Manager, Renderer } from "../contracts.js";
import { serviceModules } from "./service.js";
import { checkedType } from "./types.js";

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * @internal Receives each evaluated submodule instance whose definitions are tracked (a service,
 * a plugin's option set): its path and its options tree. A submodule's options are not part of
 * the root options tree, so the files that defined them are read there.
 */
export type OptionsSink = (instance: SubmoduleInstance) => void;

/**
 * The submodule type of `modules` (as `types.submodule`), handing each instance to `sink`. The
 * engine calls it, rather than a function module in every instance: a type of plain modules
 * lets every instance share what the declarations compute.
 */
function trackedSubmodule(modules: Module[], sink: OptionsSink | undefined) {
  return types.submoduleWith({
    modules,
    shorthandOnlyDefinesConfig: true,
    ...(sink ? { onInstance: sink } : {}),
  });
}

function pluginOptions(
  entries: Array<{ name: string; module: Module | undefined }>,
  sink: OptionsSink | undefined,
): Record<string, ReturnType<typeof mkOption>> {
  const options: Record<string, ReturnType<typeof mkOption>> = {};
  for (const { name, module } of [...entries].sort((a, b) => a.name.localeCompare(b.name))) {
    options[name] = mkOption({
      type: trackedSubmodule([module ?? {}], sink),
      default: {},
      description: `Options of \`${name}\`.`,
    });
  }
  return options;
}

/**
 * The deployment module for a set of renderers and managers: `name`, `services.<name>` (the core
 * service options plus `services.<svc>.renderers.<name>` from each renderer's `serviceModule`),
 * `renderers.<name>` from each `deploymentModule` and `managers.<name>` from each manager's
 * `module`. Every plugin in use gets its option (an empty set when it declares none), so
 * `deployment.renderers.<name>` and `service.renderers.<name>` always exist for them.
 */
export function deploymentModule(
  renderers: readonly Renderer[] = [],
  managers: readonly Manager[] = [],
): Module {
  return trackedDeploymentModule(renderers, managers, undefined);
}

/**
 * @internal {@link deploymentModule} that also hands each evaluated submodule's options tree to
 * `sink` (evaluation reads the defining files there); not part of the root export.
 */
export function trackedDeploymentModule(
  renderers: readonly Renderer[],
  managers: readonly Manager[],
  sink: OptionsSink | undefined,
): Module {
  // One renderers type for every service: its declarations do not depend on the service.
  const serviceRenderers: Module = defineModule(import.meta.url, {
    options: {
      renderers: mkOption({
        type: types.submodule({
          options: pluginOptions(
            renderers.map((r) => ({ name: r.name, module: r.serviceModule })),
            sink,
          ),
        }),
        default: {},
        description: "Per-service options of each renderer in use.",
      }),
    },
  });
  return defineModule(import.meta.url, {
    key: "@nix2dream/core:deployment",
    options: {
      name: mkOption({
        type: checkedType<string>(
          "deployment name (letters, digits, `_`, `.`, `-`)",
          (v) => typeof v === "string" && NAME_RE.test(v),
          (z) => z.string().regex(NAME_RE),
        ),
        example: "shop",
        description:
          "Name of the deployment; used for output directories, project names and namespaces.",
      }),
      services: mkOption({
        type: types.attrsOf(trackedSubmodule([...serviceModules(), serviceRenderers], sink)),
        default: {},
        example: { api: { command: ["node", "api.mjs"], ports: { http: 8080 } } },
        description: "The services of the deployment, by name.",
      }),
      renderers: mkOption({
        type: types.submodule({
          options: pluginOptions(
            renderers.map((r) => ({ name: r.name, module: r.deploymentModule })),
            sink,
          ),
        }),
        default: {},
        description: "Deployment-wide options of each renderer in use.",
      }),
      managers: mkOption({
        type: types.submodule({
          options: pluginOptions(
            managers.map((m) => ({ name: m.name, module: m.module })),
            sink,
          ),
        }),
        default: {},
        description: "Options of each manager in use.",
      }),
    },
  });
}
