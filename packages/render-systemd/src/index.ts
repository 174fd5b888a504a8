/**
 * `@nix2dream/render-systemd`: a nix2dream deployment as systemd unit files for any systemd
 * Linux: `<deployment>-<service>.service` per service and `<deployment>.target` grouping them.
 */
import { defineRenderer, type EvaluatedDeployment, type Renderer } from "@nix2dream/core";
import {
  type SystemdRendererDeploymentOptions,
  type SystemdRendererServiceOptions,
  systemdDeploymentModule,
  systemdServiceModule,
} from "./options.js";
import { renderSystemd, type SystemdRenderOptions } from "./render.js";

export type {
  SystemdRendererDeploymentOptions,
  SystemdRendererServiceOptions,
  UnitOverride,
} from "./options.js";
export { systemdDeploymentModule, systemdServiceModule } from "./options.js";
export { type SystemdRenderOptions, serviceUnitName, targetUnitName } from "./render.js";

declare module "@nix2dream/core" {
  interface ServiceRenderers {
    systemd: SystemdRendererServiceOptions;
  }
  interface DeploymentRenderers {
    systemd: SystemdRendererDeploymentOptions;
  }
}

/**
 * The systemd renderer. `render` writes `<deployment>-<svc>.service` for each service (the
 * mapping of core's `systemdServiceOf`, with the deployment-wide then the per-service override
 * merged in) and `<deployment>.target` that wants them all, and reports every option systemd
 * cannot express as a diagnostic. Pure and deterministic.
 */
export default function systemd(opts: SystemdRenderOptions = {}): Renderer<"systemd"> {
  return defineRenderer({
    name: "systemd",
    serviceModule: systemdServiceModule,
    deploymentModule: systemdDeploymentModule,
    render: (deployment: EvaluatedDeployment) => renderSystemd(deployment, opts),
  });
}
