/**
 * `@nix2dream/render-nixos`: a nix2dream deployment as a NixOS module
 * (`nix2dream-<deployment>.nix`) with one `systemd.services` entry per service.
 */
import { defineRenderer, type EvaluatedDeployment, type Renderer } from "@nix2dream/core";
import { type NixosModuleOptions, nixosModuleFor } from "./module.js";
import { nixosDeploymentModule, nixosServiceModule } from "./options.js";

export {
  type NixosModule,
  type NixosModuleOptions,
  nixosModuleFileName,
  nixosModuleFor,
  nixosUnitName,
  packageExpr,
  recursiveUpdate,
} from "./module.js";
export {
  type NixosDeploymentOptions,
  type NixosServiceOptions,
  nixosDeploymentModule,
  nixosServiceModule,
} from "./options.js";

/**
 * The NixOS renderer. `render` writes one file, `nix2dream-<deployment>.nix`: a NixOS module
 * guarded by `services.nix2dream.<deployment>.enable`, with `systemd.services.<deployment>-<svc>`
 * for every service (the mapping of core's `systemdServiceOf`), `users.users`/`users.groups`,
 * `environment.etc` and store-path files, and firewall ports; every option NixOS cannot express
 * is a diagnostic.
 */
/** Options of the {@link nixos} factory (the same as {@link nixosModuleFor}'s). */
export type NixosOptions = NixosModuleOptions;

export default function nixos(opts: NixosOptions = {}): Renderer<"nixos"> {
  return defineRenderer({
    name: "nixos",
    serviceModule: nixosServiceModule,
    deploymentModule: nixosDeploymentModule,
    render(deployment: EvaluatedDeployment) {
      const m = nixosModuleFor(deployment, opts);
      return { artifacts: [{ path: m.fileName, content: m.source }], diagnostics: m.diagnostics };
    },
  });
}

export { nixos };
