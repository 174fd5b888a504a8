// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Nix source holds literal ${...}
/**
 * The VM render: the deployment's NixOS module (from render-nixos), a machine configuration with
 * `virtualisation.vmVariant`, a flake and a non-flake entry, and `vm.json` for manage-nixos-vm.
 */
import {
  type Artifact,
  type Diagnostic,
  diagnostic,
  type EvaluatedDeployment,
  nixExpr,
  nixKey,
  nixString,
  publishedHostPort,
  type RenderResult,
  toNix,
} from "@nix2dream/core";
import { nixosModuleFor, recursiveUpdate } from "@nix2dream/render-nixos";
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
/** The manifest manage-nixos-vm reads. */
export const VM_MANIFEST = "vm.json";
/** Version of {@link VmManifest}. */
export const VM_MANIFEST_VERSION = 1;

/** One port of a service forwarded from the host into the VM. */
export interface ForwardedPort {
  service: string;
  port: string;
  protocol: "tcp" | "udp";
  host: number;
  guest: number;
}

/** What manage-nixos-vm needs to build, start and describe the VM (`vm.json`). */
export interface VmManifest {
  version: typeof VM_MANIFEST_VERSION;
  deployment: string;
  hostName: string;
  system: string;
  /** Flake output to build: `nixosConfigurations.<deployment>.config.system.build.vm`. */
  flakeAttr: string;
  /** Attribute of default.nix to build with nix-build: `<deployment>-vm`. */
  nixAttr: string;
  /** The VM's start script inside the build result: `bin/run-<hostName>-vm`. */
  runScript: string;
  user: string;
  sshPort: number | null;
  forwardedPorts: ForwardedPort[];
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

function header(lines: string[]): string {
  return lines.map((l) => `# ${l}`.trimEnd()).join("\n");
}

/** nixpkgs as a flake URL, pinned to `rev` when given. */
function flakeUrl(o: NixosVmDeploymentOptions): string {
  if (o.nixpkgsRev === null) return o.nixpkgs;
  const gh = /^github:([^/]+)\/([^/?]+)/.exec(o.nixpkgs);
  if (gh) return `github:${gh[1]}/${gh[2]}/${o.nixpkgsRev}`;
  return `${o.nixpkgs}${o.nixpkgs.includes("?") ? "&" : "?"}rev=${o.nixpkgsRev}`;
}

/** Renders the VM artifacts. Pure. */
export function renderNixosVm(d: EvaluatedDeployment, opts: NixosVmOptions = {}): RenderResult {
  const diagnostics: Diagnostic[] = [];
  const o: NixosVmDeploymentOptions = {
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
  const key = nixKey(dep);
  const hostName = vmHostName(dep);
  const vmName = `${dep}-vm`;
  const vmKey = nixKey(vmName);
  const runScript = `bin/run-${hostName}-vm`;

  const module = nixosModuleFor(d, {
    rendererName: RENDERER,
    hostPortsForwarded: true,
    restartSteps: opts.restartSteps ?? true,
  });
  diagnostics.push(...module.diagnostics);
  if (hostName !== dep) {
    diagnostics.push(
      diagnostic(d, {
        option: "name",
        message: `The VM's host name is \`${hostName}\`: a host name cannot hold \`${dep}\`.`,
      }),
    );
  }

  // Exposed ports, forwarded from the host (at hostPort) to the service's port in the VM.
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
    diagnostics.push(
      diagnostic(d, {
        option: `renderers.${RENDERER}.sshPort`,
        severity: "error",
        message: `Host port ${o.sshPort} is forwarded to ssh and to \`${hostPorts.get(`tcp/${o.sshPort}`)}\`; set \`renderers.${RENDERER}.sshPort\` to a free port.`,
      }),
    );
  }

  const forwards: Record<string, unknown>[] = forwardedPorts.map((f) => ({
    from: "host",
    host: { port: f.host },
    guest: { port: f.guest },
    proto: f.protocol,
  }));
  const vmVariant: Record<string, unknown> = {
    virtualisation: {
      memorySize: o.memory,
      cores: o.cores,
      diskSize: o.diskSize,
      graphics: false,
      forwardPorts: [
        ...forwards,
        ...(o.sshPort === null
          ? []
          : [{ from: "host", host: { port: o.sshPort }, guest: { port: 22 }, proto: "tcp" }]),
      ],
    },
    users: {
      users: {
        [o.user]: { isNormalUser: true, extraGroups: ["wheel"], initialPassword: o.password },
      },
    },
    services: {
      getty: { autologinUser: o.user },
      ...(o.sshPort === null
        ? {}
        : { openssh: { enable: true, settings: { PasswordAuthentication: true } } }),
    },
    security: { sudo: { wheelNeedsPassword: false } },
  };
  let configuration: Record<string, unknown> = {
    services: { nix2dream: { [dep]: { enable: true } } },
    networking: { hostName },
    system: { stateVersion: o.stateVersion },
    boot: { loader: { grub: { device: nixExpr('lib.mkDefault "nodev"') } } },
    fileSystems: {
      "/": nixExpr('lib.mkDefault { device = "/dev/disk/by-label/nixos"; fsType = "ext4"; }'),
    },
    virtualisation: { vmVariant },
  };
  configuration = recursiveUpdate(configuration, o.configuration);

  const configurationNix = [
    header([
      `The machine of the nix2dream deployment ${JSON.stringify(dep)} and its VM; generated by nix2dream, do not edit.`,
      "The root file system and boot loader are placeholders so the machine evaluates on its own;",
      "the VM (virtualisation.vmVariant) replaces them. The test user exists in the VM only.",
    ]),
    "{ config, lib, pkgs, ... }:",
    "",
    `${toNix(configuration, { paths: true, indentedStrings: true })}`,
    "",
  ].join("\n");

  const flakeNix = [
    header([
      `Flake of the nix2dream deployment ${JSON.stringify(dep)}: a NixOS machine and its VM; generated by nix2dream, do not edit.`,
      `  nix run .#${vmName}    build and start the VM (its console is this terminal)`,
      `  nix build .#nixosConfigurations.${key}.config.system.build.vm`,
    ]),
    "{",
    `  description = ${nixString(`NixOS VM running the nix2dream deployment ${dep}`)};`,
    "",
    `  inputs.nixpkgs.url = ${nixString(flakeUrl(o))};`,
    "",
    "  outputs = { self, nixpkgs }:",
    "    let",
    `      system = ${nixString(o.system)};`,
    "    in",
    "    {",
    `      nixosModules.${key} = import ./${module.fileName};`,
    "",
    `      nixosConfigurations.${key} = nixpkgs.lib.nixosSystem {`,
    "        inherit system;",
    `        modules = [ self.nixosModules.${key} ./configuration.nix ];`,
    "      };",
    "",
    "      packages.${system} = {",
    `        ${vmKey} = self.nixosConfigurations.${key}.config.system.build.vm;`,
    `        default = self.packages.\${system}.${vmKey};`,
    "      };",
    "",
    "      apps.${system} = {",
    `        ${vmKey} = {`,
    '          type = "app";',
    `          program = "\${self.packages.\${system}.${vmKey}}/${runScript}";`,
    "        };",
    `        default = self.apps.\${system}.${vmKey};`,
    "      };",
    "    };",
    "}",
    "",
  ].join("\n");

  let nixpkgsDefault = "<nixpkgs>";
  if (o.nixpkgsRev !== null) {
    const gh = /^github:([^/]+)\/([^/?]+)/.exec(o.nixpkgs);
    if (gh) {
      const url = `https://github.com/${gh[1]}/${gh[2]}/archive/${o.nixpkgsRev}.tar.gz`;
      const sha = o.nixpkgsSha256 === null ? "" : ` sha256 = ${nixString(o.nixpkgsSha256)};`;
      nixpkgsDefault = `builtins.fetchTarball { url = ${nixString(url)};${sha} }`;
    } else {
      diagnostics.push(
        diagnostic(d, {
          option: `renderers.${RENDERER}.nixpkgsRev`,
          message: `default.nix can pin only GitHub nixpkgs (\`github:owner/repo\`); it uses <nixpkgs>, not ${o.nixpkgs} at ${o.nixpkgsRev}.`,
        }),
      );
    }
  }
  const defaultNix = [
    header([
      `Non-flake entry of the nix2dream deployment ${JSON.stringify(dep)}; generated by nix2dream, do not edit.`,
      `  nix-build -A ${vmName} && ./result/${runScript}`,
    ]),
    `{ nixpkgs ? ${nixpkgsDefault}, system ? ${nixString(o.system)} }:`,
    "",
    "let",
    '  machine = import (nixpkgs + "/nixos") {',
    "    inherit system;",
    `    configuration.imports = [ ./${module.fileName} ./configuration.nix ];`,
    "  };",
    "in",
    "{",
    `  nixosConfigurations.${key} = machine;`,
    `  ${vmKey} = machine.vm;`,
    "}",
    "",
  ].join("\n");

  const manifest: VmManifest = {
    version: VM_MANIFEST_VERSION,
    deployment: dep,
    hostName,
    system: o.system,
    flakeAttr: `nixosConfigurations.${key}.config.system.build.vm`,
    nixAttr: vmName,
    runScript,
    user: o.user,
    sshPort: o.sshPort,
    forwardedPorts,
  };

  const artifacts: Artifact[] = [
    { path: "configuration.nix", content: configurationNix },
    { path: "default.nix", content: defaultNix },
    { path: "flake.nix", content: flakeNix },
    { path: module.fileName, content: module.source },
    { path: VM_MANIFEST, content: `${JSON.stringify(manifest, null, 2)}\n` },
  ];
  artifacts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { artifacts, diagnostics };
}
