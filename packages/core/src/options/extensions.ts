/**
 * Options third-party modules add to every service or to the deployment itself. The same
 * declarations give the runtime shape (evaluation passes every declared option on) and, through
 * `InferOptions`, the types merged into `ServiceExtensions` / `DeploymentExtensions`.
 */
import { defineModule, type Module, mkOption, type OptionsTree, types } from "@nix2dream/modules";

/**
 * A module declaring `options` on every service (`services.<svc>.<option>`); `file` (usually
 * `import.meta.url`) is named in messages. Type the evaluated service from the same tree:
 * ```ts
 * const teamOptions = defineOptions({ team: mkOption({ type: types.str, default: "platform" }) });
 * export const teamModule = serviceOptionsModule(import.meta.url, teamOptions);
 * declare module "@nix2dream/core" {
 *   interface ServiceExtensions extends InferOptions<typeof teamOptions> {}
 * }
 * ```
 */
export function serviceOptionsModule(file: string | URL, options: OptionsTree): Module {
  return defineModule(file, {
    options: {
      services: mkOption({ type: types.attrsOf(types.submodule({ options })) }),
    },
  });
}

/**
 * A module declaring `options` at the top of the deployment (beside `name` and `services`);
 * type them with `interface DeploymentExtensions extends InferOptions<typeof options> {}`.
 */
export function deploymentOptionsModule(file: string | URL, options: OptionsTree): Module {
  return defineModule(file, { options });
}
