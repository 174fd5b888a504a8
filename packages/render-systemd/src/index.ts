/**
 * `@nix2dream/render-systemd`: a nix2dream deployment as systemd unit files for any systemd
 * Linux: `<deployment>-<service>.service` per service and `<deployment>.target` grouping them.
 */
import { defineRenderer, type EvaluatedDeployment, type Renderer } from "@nix2dream/core";
import {
  type SystemdRendererDeploymentOptions as DeploymentOptionsDecl,
  type SystemdRendererServiceOptions as ServiceOptionsDecl,
  systemdDeploymentModule,
  systemdServiceModule,
} from "./options.js";
import { type SystemdRenderOptions as RenderOptionsDecl, renderSystemd } from "./render.js";

export type { UnitOverride } from "./options.js";
export { systemdDeploymentModule, systemdServiceModule } from "./options.js";
export { serviceUnitName, targetUnitName } from "./render.js";

/** `services.<svc>.renderers.systemd`: the per-service options of the systemd renderer. */
export type SystemdServiceOptions = ServiceOptionsDecl;
/** `renderers.systemd`: the deployment-wide options of the systemd renderer. */
export type SystemdDeploymentOptions = DeploymentOptionsDecl;
/** Options of the {@link systemd} factory. */
export type SystemdOptions = RenderOptionsDecl;
/** @deprecated Use {@link SystemdOptions}; this name goes in the next minor. */
export type SystemdRenderOptions = SystemdOptions;
/** @deprecated Use {@link SystemdServiceOptions}; this name goes in the next minor. */
export type SystemdRendererServiceOptions = SystemdServiceOptions;
/** @deprecated Use {@link SystemdDeploymentOptions}; this name goes in the next minor. */
export type SystemdRendererDeploymentOptions = SystemdDeploymentOptions;

declare module "@nix2dream/core" {
  interface ServiceRenderers {
    systemd: SystemdServiceOptions;
  }
  interface DeploymentRenderers {
    systemd: SystemdDeploymentOptions;
  }
}

/**
 * The systemd renderer. `render` writes `<deployment>-<svc>.service` for each service (the
 * mapping of core's `systemdServiceOf`, with the deployment-wide then the per-service override
 * merged in) and `<deployment>.target` that wants them all, and reports every option systemd
 * cannot express as a diagnostic. Pure and deterministic.
 */
export default function systemd(opts: SystemdOptions = {}): Renderer<"systemd"> {
  return defineRenderer({
    name: "systemd",
    serviceModule: systemdServiceModule,
    deploymentModule: systemdDeploymentModule,
    render: (deployment: EvaluatedDeployment) => renderSystemd(deployment, opts),
  });
}

export { systemd };
