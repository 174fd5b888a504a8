/**
 * What the file functions of render-nixos-vm read: the deployment, its `renderers.nixos-vm`
 * options with the factory's defaults, the names derived from the deployment, and one list of
 * diagnostics made with core's `diagnostic()`.
 */
import {
  type Diagnostic,
  diagnostic,
  type EvaluatedDeployment,
  publishedHostPort,
} from "@nix2dream/core";
import { nixKey } from "@nix2dream/core/nix";
import { type NixosVmDeploymentOptions, VM_DEFAULTS } from "./options.js";

/** Options of the `nixosVm()` renderer: defaults for the deployment-wide options. */
export type NixosVmOptions = Partial<
  Omit<NixosVmDeploymentOptions, "override" | "configuration" | "openFirewall" | "createUsers">
> & {
  /** Write `RestartSteps=` for exponential restart backoff (systemd ≥ 254). Default true. */
  restartSteps?: boolean;
};

/** Name of the renderer, and of its option namespace. */
export const RENDERER = "nixos-vm";

/** One port of a service forwarded from the host into the VM. */
export interface ForwardedPort {
  service: string;
  port: string;
  protocol: "tcp" | "udp";
  host: number;
  guest: number;
}

/** The host name of the VM: the deployment name with what a host name cannot hold as `-`. */
export function vmHostName(deployment: string): string {
  const h = deployment
    .replace(/[^A-Za-z0-9-]/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return h || "nix2dream";
}

/** The render-wide context of the VM target. */
export interface VmContext {
  deployment: EvaluatedDeployment;
  /** `renderers.nixos-vm` over the factory's options over the defaults. */
  o: NixosVmDeploymentOptions;
  /** The deployment's name, and as a Nix attribute name. */
  dep: string;
  key: string;
  hostName: string;
  /** `<deployment>-vm`, and as a Nix attribute name. */
  vmName: string;
  vmKey: string;
  /** The VM's start script inside the build result. */
  runScript: string;
  /** The file name of the deployment's NixOS module. */
  moduleFile: string;
  diagnostics: Diagnostic[];
}

/** The context of a render of `d`; reports a host name that had to change. */
export function vmContextFor(
  d: EvaluatedDeployment,
  opts: NixosVmOptions,
  moduleFile: string,
  diagnostics: Diagnostic[],
): VmContext {
  const o = {
    ...VM_DEFAULTS,
    openFirewall: true,
    createUsers: true,
    override: {},
    configuration: {},
    ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    ...(d.renderers as unknown as Record<string, Partial<NixosVmDeploymentOptions> | undefined>)[
      RENDERER
    ],
  } as NixosVmDeploymentOptions;
  const dep = d.name;
  const hostName = vmHostName(dep);
  if (hostName !== dep) {
    diagnostics.push(
      diagnostic(d, {
        option: "name",
        message: `The VM's host name is \`${hostName}\`: a host name cannot hold \`${dep}\`.`,
      }),
    );
  }
  return {
    deployment: d,
    o,
    dep,
    key: nixKey(dep),
    hostName,
    vmName: `${dep}-vm`,
    vmKey: nixKey(`${dep}-vm`),
    runScript: `bin/run-${hostName}-vm`,
    moduleFile,
    diagnostics,
  };
}

/**
 * Exposed ports, forwarded from the host (at hostPort) to the service's port in the VM; a host
 * port taken by both a service and ssh is an error.
 */
export function forwardedPortsOf(ctx: VmContext): ForwardedPort[] {
  const { deployment: d, o } = ctx;
  const forwardedPorts: ForwardedPort[] = [];
  const hostPorts = new Map<string, string>();
  for (const s of Object.values(d.services)) {
    if (!s.enable) continue;
    for (const [name, p] of Object.entries(s.ports)) {
      const host = publishedHostPort(p);
      if (host === null) continue;
      forwardedPorts.push({
        service: s.name,
        port: name,
        protocol: p.protocol,
        host,
        guest: p.port,
      });
      hostPorts.set(`${p.protocol}/${host}`, `services.${s.name}.ports.${name}`);
    }
  }
  if (o.sshPort !== null && hostPorts.has(`tcp/${o.sshPort}`)) {
    ctx.diagnostics.push(
      diagnostic(d, {
        option: `renderers.${RENDERER}.sshPort`,
        severity: "error",
        message: `Host port ${o.sshPort} is forwarded to ssh and to \`${hostPorts.get(`tcp/${o.sshPort}`)}\`; set \`renderers.${RENDERER}.sshPort\` to a free port.`,
      }),
    );
  }
  return forwardedPorts;
}
