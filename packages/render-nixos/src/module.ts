/**
 * The NixOS module of a deployment: `systemd.services` from core's shared systemd mapping
 * (`systemdServiceOf`), plus what NixOS declares around it (users, `/etc` files, store paths,
 * firewall ports), printed as Nix with core's Nix printers. Each service's attribute is
 * composed from one function per aspect (`service.ts`, `files.ts`, `program.ts`).
 */
import type { Diagnostic, EvaluatedDeployment, EvaluatedService } from "@nix2dream/core";
import {
  emptyRecord,
  isNixExpr,
  type NixExpr,
  nixExpr,
  nixKey,
  nixString,
  setEntry,
  type ToNixOptions,
  toNix,
} from "@nix2dream/core/nix";
import {
  type NixosContext,
  type NixosModuleOptions,
  nixosContextFor,
  recursiveUpdate,
} from "./context.js";
import { servicePlanOf } from "./service.js";

export { type NixosModuleOptions, nixosUnitName, recursiveUpdate } from "./context.js";
export { packageExpr } from "./program.js";

/** The generated module and what it could not express. */
export interface NixosModule {
  /** File name: `nix2dream-<deployment>.nix`. */
  fileName: string;
  /** The module's Nix source. */
  source: string;
  diagnostics: Diagnostic[];
}

/** The file name of a deployment's NixOS module: `nix2dream-<deployment>.nix`. */
export function nixosModuleFileName(deployment: string): string {
  return `nix2dream-${deployment}.nix`;
}

/**
 * Generates the NixOS module of `deployment`: a function of `{ config, lib, pkgs, ... }` with
 * `options.services.nix2dream.<deployment>.enable` and, under `lib.mkIf`, one
 * `systemd.services.<deployment>-<service>` per service with users, files and firewall ports.
 * Pure and deterministic. render-nixos-vm imports the same text into its flake.
 */
export function nixosModuleFor(
  deployment: EvaluatedDeployment,
  opts: NixosModuleOptions = {},
): NixosModule {
  const ctx = nixosContextFor(deployment, opts);
  // Marked strings become interpolations as they are printed: no copy of the module to map them.
  const print: ToNixOptions = {
    indent: 2,
    paths: true,
    indentedStrings: true,
    strings: (s) => ctx.nix.value(s),
  };
  const services = Object.keys(deployment.services)
    .sort()
    .map((n) => deployment.services[n] as EvaluatedService)
    .filter((s) => s.enable);
  // Each unit is printed as soon as it is planned, where the module prints it (`systemd.services`
  // is a set of several units at depth 6), unless a module-wide override may change it: the
  // plans of thousands of services are not all kept alive (and promoted by the GC) until the end.
  const printEach = services.length > 1 && !Object.hasOwn(ctx.wide.override, "systemd");
  const names: string[] = [];
  const units: unknown[] = [];
  for (const s of services) {
    const p = servicePlanOf(s, ctx);
    names.push(p.unit);
    units.push(printEach ? printedUnit(p.attrs, print) : p.attrs);
  }
  const config = recursiveUpdate(
    {
      systemd: { services: unitsOf(names, units, printEach) },
      ...moduleWideConfigOf(ctx),
    },
    ctx.wide.override,
  );
  const body = toNix(config, print);
  return {
    fileName: nixosModuleFileName(ctx.dep),
    source: moduleSource(ctx.dep, body),
    diagnostics: ctx.diagnostics,
  };
}

/**
 * A unit's attributes as the module prints them among several units (indented 6): a `nixExpr`
 * of that text. A unit with a single attribute stays data, as the printer writes it as a path.
 */
function printedUnit(attrs: Record<string, unknown>, print: ToNixOptions): unknown {
  let defined = 0;
  for (const k of Object.keys(attrs)) if (attrs[k] !== undefined) defined++;
  return defined > 1 ? nixExpr(toNix(attrs, { ...print, indent: 6 })) : attrs;
}

/**
 * `systemd.services`: the units by name. When every unit is printed already (`printed`: there
 * are several, and no module-wide override can change them), the text of the whole set as the
 * module prints it (indented 4), joined here: the printer would walk a record of thousands of
 * keys to write the same text (and V8 compiled it again for that last walk).
 */
function unitsOf(names: readonly string[], units: readonly unknown[], printed: boolean): unknown {
  if (printed && units.every((u) => isNixExpr(u))) {
    let text = "{";
    for (let i = 0; i < names.length; i++) {
      text += `\n      ${nixKey(names[i] as string)} = ${(units[i] as NixExpr).__nix2dreamNixExpr};`;
    }
    return nixExpr(`${text}\n    }`);
  }
  const record = emptyRecord<unknown>();
  for (let i = 0; i < names.length; i++) setEntry(record, names[i] as string, units[i]);
  return record;
}

/** `users`, `environment.etc` and `networking.firewall`, each only when the services need it. */
function moduleWideConfigOf(ctx: NixosContext): Record<string, unknown> {
  const { users, groups, etc, tcp, udp } = ctx;
  const config: Record<string, unknown> = {};
  if (Object.keys(users).length || Object.keys(groups).length) {
    config.users = {
      users: Object.keys(users).length ? sortObject(users) : undefined,
      groups: Object.keys(groups).length ? sortObject(groups) : undefined,
    };
  }
  if (Object.keys(etc).length) config.environment = { etc: sortObject(etc) };
  if (tcp.size || udp.size) {
    config.networking = {
      firewall: {
        allowedTCPPorts: tcp.size ? [...tcp].sort((a, b) => a - b) : undefined,
        allowedUDPPorts: udp.size ? [...udp].sort((a, b) => a - b) : undefined,
      },
    };
  }
  return config;
}

/** The module's Nix source around `body` (its `config`): the enable option and the guard. */
function moduleSource(dep: string, body: string): string {
  const key = nixKey(dep);
  return [
    `# NixOS module of the nix2dream deployment ${JSON.stringify(dep)}; generated by nix2dream, do not edit.`,
    `# Import it (imports = [ ./${nixosModuleFileName(dep)} ];) and enable it:`,
    `#   services.nix2dream.${key}.enable = true;`,
    "{ config, lib, pkgs, ... }:",
    "",
    "let",
    `  cfg = config.services.nix2dream.${key};`,
    "in",
    "{",
    `  options.services.nix2dream.${key} = {`,
    `    enable = lib.mkEnableOption ${nixString(`the nix2dream deployment ${dep}`)};`,
    "  };",
    "",
    `  config = lib.mkIf cfg.enable ${body};`,
    "}",
    "",
  ].join("\n");
}

function sortObject<T>(o: Record<string, T>): Record<string, T> {
  const out = emptyRecord<T>();
  for (const k of Object.keys(o).sort()) setEntry(out, k, o[k] as T);
  return out;
}
