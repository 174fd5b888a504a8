/** The options render-systemd adds: `services.<svc>.renderers.systemd.*` and `renderers.systemd.*`. */
import { defineModule, mkOption, types } from "@nix2dream/modules";

/**
 * Unit-file settings merged over what the renderer generates: section → key → value. A string
 * or a list replaces every value the renderer wrote for that key; `null` removes the key. Values
 * are written verbatim (unit-file text: `%` starts a specifier, Exec lines are not re-quoted).
 */
export type UnitOverride = Record<string, Record<string, string | string[] | null>>;

/** Per-service options (`services.<svc>.renderers.systemd`). */
export interface SystemdRendererServiceOptions {
  /** Merged over the generated `<deployment>-<svc>.service`, after the deployment-wide override. */
  override: UnitOverride;
  /** Run as a transient user (`DynamicUser=yes`) instead of `user`/`group`. */
  dynamicUser: boolean;
  /** `EnvironmentFile=` entries (read by systemd at start; a leading `-` makes one optional). */
  environmentFiles: string[];
}

/** Deployment-wide options (`renderers.systemd`). */
export interface SystemdRendererDeploymentOptions {
  /** Merged over every generated service unit, before the per-service override. */
  override: UnitOverride;
  /** Merged over the generated `<deployment>.target`. */
  targetOverride: UnitOverride;
  /** `WantedBy=` of the target (what `systemctl enable` hooks it into). */
  wantedBy: string[];
}

const overrideType = types.attrsOf(
  types.attrsOf(types.nullOr(types.either(types.str, types.listOf(types.str)))),
);

/** Declares `services.<svc>.renderers.systemd.*`. */
export const systemdServiceModule = defineModule(import.meta.url, {
  options: {
    override: mkOption({
      type: overrideType,
      default: {},
      example: { Service: { LimitNOFILE: "65536", ProtectSystem: "strict" } },
      description:
        "Unit-file settings merged over the generated service unit: section → key → value (a list for repeated keys, null to remove a key). Written verbatim.",
    }),
    dynamicUser: mkOption({
      type: types.bool,
      default: false,
      description:
        "Run the service as a transient user (`DynamicUser=yes`) instead of `user`/`group`.",
    }),
    environmentFiles: mkOption({
      type: types.listOf(types.str),
      default: [],
      example: ["-/etc/shop/api.env"],
      description:
        "`EnvironmentFile=` entries: files of KEY=value lines read by systemd at start (a leading `-` makes a file optional). A way to pass secrets that never enter the unit.",
    }),
  },
});

/** Declares `renderers.systemd.*`. */
export const systemdDeploymentModule = defineModule(import.meta.url, {
  options: {
    override: mkOption({
      type: overrideType,
      default: {},
      description:
        "Unit-file settings merged over every generated service unit (before the per-service override).",
    }),
    targetOverride: mkOption({
      type: overrideType,
      default: {},
      description: "Unit-file settings merged over the generated `<deployment>.target`.",
    }),
    wantedBy: mkOption({
      type: types.listOf(types.str),
      default: ["default.target"],
      description: "`WantedBy=` of the deployment's target, used by `systemctl enable`.",
    }),
  },
});
