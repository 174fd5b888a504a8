/**
 * One service's `systemd.services.<unit>` attribute, composed from one function per aspect:
 * files, program, the shared systemd mapping, volumes, users, ports and `path`.
 */
import { type EvaluatedService, publishedHostPort } from "@nix2dream/core";
import {
  emptyRecord,
  type NixExpr,
  nixExpr,
  nixIndentedString,
  nixString,
} from "@nix2dream/core/nix";
import {
  parseExecLine,
  type SystemdService,
  systemdServiceOf,
  unitEscape,
  unitQuote,
} from "@nix2dream/core/systemd";
import {
  BIND_SAFE,
  type NixosContext,
  nixosUnitName,
  recursiveUpdate,
  type ServiceContext,
  serviceContextFor,
} from "./context.js";
import { filesOf } from "./files.js";
import { execStartOf, type PackageExpr, packageExpr, packageOf } from "./program.js";

/** The whole-service data of one `systemd.services.<unit>` attribute. */
export interface ServicePlan {
  unit: string;
  attrs: Record<string, unknown>;
}

/**
 * The `systemd.services` attribute of `service`; users, `/etc` files and firewall ports go
 * into the module-wide sets of `ctx`.
 */
export function servicePlanOf(service: EvaluatedService, ctx: NixosContext): ServicePlan {
  const sc = serviceContextFor(ctx, service);
  const bindReadOnly = filesOf(sc);
  const pkg = packageOf(sc);
  const mapped = mappedServiceOf(sc, execStartOf(sc, pkg));
  const bind = volumeBindsOf(sc);
  usersOf(sc);
  firewallPortsOf(sc);
  const path = pathOf(sc, pkg);
  if (bind.length) mapped.service.BindPaths = [...(mapped.service.BindPaths ?? []), ...bind];
  if (bindReadOnly.length) {
    mapped.service.BindReadOnlyPaths = [
      ...(mapped.service.BindReadOnlyPaths ?? []),
      ...bindReadOnly,
    ];
  }
  return {
    unit: sc.unit,
    attrs: recursiveUpdate(serviceAttrsOf(sc, mapped, path), sc.own.override),
  };
}

/** Core's systemd mapping of the service, its scripts rewritten as `pkgs.writeShellScript`. */
function mappedServiceOf(ctx: ServiceContext, execStart: string[]): SystemdService {
  const s = ctx.service;
  const mapped = systemdServiceOf(s, ctx.deployment, {
    resolve: ctx.resolve,
    execStart,
    unitName: (name) => `${nixosUnitName(ctx.dep, name)}.service`,
    shell: ctx.shell,
    dynamicUser: ctx.dynamicUser,
    filePath: () => null,
    restartSteps: ctx.opts.restartSteps ?? true,
    environmentFiles: Object.values(s.secrets).some(
      (x) => x.fromEnv !== null || x.fromFile === null,
    )
      ? [
          `-${unitEscape(ctx.own.environmentFile ?? `/run/secrets/nix2dream/${ctx.dep}/${s.name}.env`)}`,
        ]
      : [],
  });
  ctx.diagnostics.push(...mapped.diagnostics);
  for (const [key, kind] of [
    ["ExecStartPre", "pre"],
    ["ExecStart", "start"],
    ["ExecStartPost", "post"],
  ] as const) {
    const lines = mapped.service[key];
    if (!lines) continue;
    mapped.service[key] = lines.map((line, i) =>
      scriptLine(
        ctx,
        line,
        `${ctx.unit}-${kind}${lines.length > 1 ? `-${i + 1}` : ""}`,
        mapped.execArgv.get(line),
      ),
    );
  }
  return mapped;
}

/**
 * An Exec line `<shell> -ec <script> <name> <args…>` of the shared mapping, rewritten as
 * `${pkgs.writeShellScript "<name>" ''<script>''} <args…>` so the script reads as shell in the
 * module. Lines holding a specifier (`%S`, `%t`: only valid on the Exec line itself) stay.
 * `words` is the line's argv when the mapping recorded it (`execArgv`: no specifier in it), so
 * that only other lines are parsed back.
 */
function scriptLine(
  ctx: NixosContext,
  unitLine: string,
  name: string,
  words: readonly string[] | undefined,
): string {
  const { shell } = ctx;
  const argv = words ?? parsedScriptLine(unitLine, shell);
  if (argv === null) return unitLine;
  if (argv[0] !== shell || argv[1] !== "-ec" || argv.length < 4) return unitLine;
  const text = `set -e\n${argv[2]}\n`;
  const literal = nixIndentedString(text, 10) ?? nixString(text);
  // The arguments after `$0` by index: a spread of a mapped array here made V8 drop and
  // recompile this function (an empty and a full array have different shapes).
  let line = ctx.nix.uniqueMarker(`pkgs.writeShellScript ${nixString(name)} ${literal}`);
  for (let i = 4; i < argv.length; i++) line += ` ${unitQuote(argv[i] as string)}`;
  return line;
}

/**
 * The argv of an Exec line `<shell> -ec …` with `%S` and `%t` as /var/lib and /run (as for
 * system services), or null when it is another line, another specifier is in it or it does not
 * parse.
 */
function parsedScriptLine(unitLine: string, shell: string): readonly string[] | null {
  const line = unitLine.replace(
    /(^|[^%])((?:%%)*)%([St])/g,
    (_m, before: string, pairs: string, spec: string) =>
      `${before}${pairs}${spec === "S" ? "/var/lib" : "/run"}`,
  );
  if (!line.startsWith(`${shell} -ec `) || /(^|[^%])(%%)*%[^%]/.test(line)) return null;
  try {
    return parseExecLine(line);
  } catch {
    return null;
  }
}

/**
 * `BindPaths=` entries that show each volume at its declared path too (a bind mount inside
 * the service's namespace); `clear` scripts, which NixOS cannot run, are reported.
 */
function volumeBindsOf(ctx: ServiceContext): string[] {
  const s = ctx.service;
  const bind: string[] = [];
  for (const [name, v] of Object.entries(s.volumes)) {
    const dir = ctx.volumeDir(s.name, name);
    if (v.path === dir) continue;
    if (!BIND_SAFE.test(v.path)) {
      ctx.warn(
        ctx.at(`volumes.${name}.path`),
        `BindPaths= cannot carry ${JSON.stringify(v.path)}; the volume is only at ${dir} (reach it with \`ref.${s.name}.volumes.${name}\`).`,
      );
      continue;
    }
    bind.push(`${dir}:${v.path}`);
  }
  for (const [name, v] of Object.entries(s.volumes)) {
    if (v.clear) {
      ctx.warn(
        ctx.at(`volumes.${name}.clear`),
        "NixOS has no `down --volumes`: the clear script is not rendered (remove the state directory by hand).",
      );
    }
  }
  return bind;
}

/** The user and group the service runs as, into `users.users`/`users.groups`. */
function usersOf(ctx: ServiceContext): void {
  const s = ctx.service;
  if (ctx.dynamicUser || !ctx.wide.createUsers) return;
  if (s.user !== null && s.user !== "root") {
    const group = s.group ?? s.user;
    ctx.users[s.user] = { isSystemUser: true, group };
    ctx.groups[group] = {};
  } else if (s.group !== null && s.group !== "root") {
    ctx.groups[s.group] = {};
  }
}

/** The firewall opens what is exposed; a host port NixOS cannot remap is reported. */
function firewallPortsOf(ctx: ServiceContext): void {
  for (const [name, p] of Object.entries(ctx.service.ports)) {
    const host = publishedHostPort(p);
    if (host === null) continue;
    if (host !== p.port && !ctx.opts.hostPortsForwarded) {
      ctx.warn(
        ctx.at(`ports.${name}.hostPort`),
        `A NixOS host cannot remap ports: the service listens on ${p.port}, and that port is opened, not ${host}.`,
      );
    }
    if (ctx.wide.openFirewall) (p.protocol === "udp" ? ctx.udp : ctx.tcp).add(p.port);
  }
}

/** `path`: tools the generated scripts call, then the user's packages. */
function pathOf(ctx: ServiceContext, pkg: PackageExpr | undefined): NixExpr[] {
  const s = ctx.service;
  const path: NixExpr[] = [];
  const addPath = (expr: string) => {
    if (!path.some((p) => p.__nix2dreamNixExpr === expr)) path.push(nixExpr(expr));
  };
  const h = s.healthcheck;
  const hasVolumeScripts = Object.values(s.volumes).some((v) => v.init || v.check);
  // The package's own tools (initdb, pg_isready) serve volume scripts and exec healthchecks.
  if (pkg && !pkg.flake) addPath(pkg.expr);
  if (hasVolumeScripts) addPath("pkgs.bash");
  if (h?.type === "http") addPath("pkgs.curl");
  if (h?.type === "tcp") addPath("pkgs.netcat");
  for (const p of ctx.own.path) {
    const e = packageExpr(p);
    if (e) addPath(e.expr);
    else
      ctx.warn(
        ctx.at(`renderers.${ctx.rendererName}.path`),
        `\`${p}\` is not a package attribute path or flake reference; it is left out of \`path\`.`,
        "error",
      );
  }
  return path;
}

/** [Unit] keys NixOS has options of its own for (`description`, `after`, …). */
const NIXOS_UNIT_NAMES: ReadonlySet<string> = new Set([
  "Description",
  "After",
  "Requires",
  "Wants",
  "PartOf",
]);
const NO_NAMES: ReadonlySet<string> = new Set();

/** A section as attributes, but the keys in `skip`: a single value as itself, else the list. */
function sectionAttrs(
  section: Record<string, string[]>,
  skip: ReadonlySet<string>,
): Record<string, string | string[]> {
  const out = emptyRecord<string | string[]>();
  for (const key of Object.keys(section)) {
    const v = section[key] as string[];
    if (!skip.has(key)) out[key] = v.length === 1 ? (v[0] as string) : v;
  }
  return out;
}

/** The attribute set of the unit: NixOS's own names for [Unit] dependencies, the rest as config. */
function serviceAttrsOf(
  ctx: ServiceContext,
  mapped: SystemdService,
  path: NixExpr[],
): Record<string, unknown> {
  const s = ctx.service;
  const unit = mapped.unit;
  const unitConfig = sectionAttrs(unit, NIXOS_UNIT_NAMES);
  const attrs: Record<string, unknown> = {
    description: unit.Description?.[0],
    wantedBy: ctx.own.wantedBy.length && s.replicas > 0 ? ctx.own.wantedBy : undefined,
    after: unit.After,
    requires: unit.Requires,
    wants: unit.Wants,
    partOf: unit.PartOf,
    path: path.length ? path : undefined,
    environment: Object.keys(mapped.environment).length ? mapped.environment : undefined,
    unitConfig: Object.keys(unitConfig).length ? unitConfig : undefined,
    serviceConfig: sectionAttrs(mapped.service, NO_NAMES),
  };
  if (s.replicas === 0) attrs.enable = false;
  return attrs;
}
