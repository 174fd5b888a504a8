/** The options render-nixos adds: `services.<svc>.renderers.nixos.*` and `renderers.nixos.*`. */
import { defineModule, mkOption, types } from "@nix2dream/modules";

/** Per-service options (`services.<svc>.renderers.nixos`). */
export interface NixosServiceOptions {
  /**
   * Run under a transient user (`DynamicUser=yes`); null: when the service sets no `user`.
   * With a `user`, the user (and its group) is declared in `users.users`/`users.groups`.
   */
  dynamicUser: boolean | null;
  /** Nix packages added to the service's `path` (`"pkgs.curl"`, `"curl"`, `"nixpkgs#curl"`). */
  path: string[];
  /** Targets that start the service (`wantedBy`). */
  wantedBy: string[];
  /**
   * `KEY=value` file systemd reads at start for the service's `fromEnv` secrets (never in the
   * Nix store); null: `/run/secrets/nix2dream/<deployment>/<service>.env`.
   */
  environmentFile: string | null;
  /** Deep-merged (like `lib.recursiveUpdate`) into `systemd.services.<unit>`; `nixExpr()` values are written as Nix code. */
  override: Record<string, unknown>;
}

/** Deployment-wide options (`renderers.nixos`). */
export interface NixosDeploymentOptions {
  /** Open the firewall (`networking.firewall.allowed{TCP,UDP}Ports`) for exposed ports. */
  openFirewall: boolean;
  /** Declare `users.users`/`users.groups` for services that name a `user`. */
  createUsers: boolean;
  /** Deep-merged (like `lib.recursiveUpdate`) into the module's `config`; `nixExpr()` values are written as Nix code. */
  override: Record<string, unknown>;
}

declare module "@nix2dream/core" {
  interface ServiceRenderers {
    nixos: NixosServiceOptions;
  }
  interface DeploymentRenderers {
    nixos: NixosDeploymentOptions;
  }
}

/** The per-service option module, mounted at `services.<svc>.renderers.nixos`. */
export const nixosServiceModule = defineModule(import.meta.url, {
  options: {
    dynamicUser: mkOption({
      type: types.nullOr(types.bool),
      default: null,
      description:
        "Run under a transient user (`DynamicUser=yes`); null: when the service sets no `user`.",
    }),
    path: mkOption({
      type: types.listOf(types.str),
      default: [],
      description:
        'Nix packages put on the service\'s PATH (`path`): `"pkgs.curl"`, `"curl"` or `"nixpkgs#curl"`.',
    }),
    wantedBy: mkOption({
      type: types.listOf(types.str),
      default: ["multi-user.target"],
      description: "Targets that pull the service in at boot (`wantedBy`).",
    }),
    environmentFile: mkOption({
      type: types.nullOr(types.str),
      default: null,
      description:
        "`KEY=value` file systemd reads at start for `fromEnv` secrets (outside the Nix store); null: `/run/secrets/nix2dream/<deployment>/<service>.env`.",
    }),
    override: mkOption({
      type: types.attrsOf(types.anything),
      default: {},
      description:
        "Deep-merged like `lib.recursiveUpdate` into `systemd.services.<unit>`; values made with `nixExpr()` are written as Nix code.",
    }),
  },
});

/** The deployment-wide option module, mounted at `renderers.nixos`. */
export const nixosDeploymentModule = defineModule(import.meta.url, {
  options: {
    openFirewall: mkOption({
      type: types.bool,
      default: true,
      description: "Open `networking.firewall` for the ports of services with `expose`.",
    }),
    createUsers: mkOption({
      type: types.bool,
      default: true,
      description:
        "Declare a system user and group (`users.users`, `users.groups`) for each service `user`.",
    }),
    override: mkOption({
      type: types.attrsOf(types.anything),
      default: {},
      description:
        "Deep-merged like `lib.recursiveUpdate` into the module's `config`; values made with `nixExpr()` are written as Nix code.",
    }),
  },
});
