/**
 * What the aspect functions of render-nixos read and write: the deployment-wide settings and
 * the module-wide attribute sets they fill ({@link NixosContext}), and one service's view
 * ({@link ServiceContext}). Diagnostics are made with core's `diagnostic()`, so each names the
 * file that defined its option.
 */
import {
  type Diagnostic,
  diagnostic,
  type EvaluatedDeployment,
  type EvaluatedService,
  type Ref,
} from "@nix2dream/core";
import { isNixExpr, type NixExpr, nixExpr, nixInterpolate } from "@nix2dream/core/nix";
import type { NixosDeploymentOptions, NixosServiceOptions } from "./options.js";

/** Options of {@link nixosModuleFor} (and of the `nixos()` renderer). */
export interface NixosModuleOptions {
  /**
   * Write `RestartSteps=`/`RestartMaxDelaySec=` for exponential restart backoff (systemd ≥ 254,
   * NixOS ≥ 24.05). Default true; false reports the backoff as a diagnostic instead.
   */
  restartSteps?: boolean;
  /**
   * Which renderer's options to read (`services.<svc>.renderers.<name>`, `renderers.<name>`):
   * default `"nixos"`; render-nixos-vm passes `"nixos-vm"`, whose options include these.
   */
  rendererName?: string;
  /**
   * The host forwards exposed ports to the machine itself (a VM's `forwardPorts`), so a
   * `hostPort` other than `port` is expressed elsewhere and not reported. Default false.
   */
  hostPortsForwarded?: boolean;
}

/** The systemd unit (and `systemd.services` attribute) name of a service: `<deployment>-<service>`. */
export function nixosUnitName(deployment: string, service: string): string {
  return `${deployment}-${service}`;
}

const SERVICE_DEFAULTS: NixosServiceOptions = {
  dynamicUser: null,
  path: [],
  wantedBy: ["multi-user.target"],
  environmentFile: null,
  override: {},
};
const DEPLOYMENT_DEFAULTS: NixosDeploymentOptions = {
  openFirewall: true,
  createUsers: true,
  override: {},
};

/** A path systemd's BindPaths=/BindReadOnlyPaths= can carry without quoting. */
export const BIND_SAFE = /^\/[A-Za-z0-9_@+,./=~-]*$/;

/** A plain attribute set (not a list, not a `nixExpr`). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !isNixExpr(v);
}

/**
 * Deep-merges `override` into `base` like nixpkgs' `lib.recursiveUpdate`: attribute sets merge
 * key by key, anything else (lists, strings, `nixExpr` values) in `override` replaces.
 */
export function recursiveUpdate(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    const old = out[k];
    out[k] = isPlainObject(old) && isPlainObject(v) ? recursiveUpdate(old, v) : v;
  }
  return out;
}

/**
 * True when `text` is in a key or a string of `data` as JSON would write it: values JSON leaves
 * out (undefined, functions, symbols) are skipped and `toJSON` is followed. A walk rather than
 * searching `JSON.stringify(data)`, which builds the text of the whole deployment.
 */
export function jsonMentions(data: unknown, text: string, key: string | number = ""): boolean {
  let v = data;
  if (typeof v === "string") return v.includes(text);
  if (v === null || typeof v !== "object") return false;
  if (typeof (v as { toJSON?: unknown }).toJSON === "function") {
    v = (v as { toJSON: (key: string) => unknown }).toJSON(String(key));
    if (typeof v === "string") return v.includes(text);
    if (v === null || typeof v !== "object") return false;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (jsonMentions(v[i], text, i)) return true;
    return false;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
    if (k.includes(text) || jsonMentions(x, text, k)) return true;
  }
  return false;
}

/**
 * Nix expressions inside unit-file text travel as markers made of characters systemd's quoting
 * leaves alone; the printer turns strings holding markers into interpolated Nix strings. The
 * marker's stem is chosen so that no user string contains it.
 */
export class Interpolations {
  private readonly stem: string;
  private readonly exprs: string[] = [];
  // Index of each expression in `exprs`: a lookup per marker, not a scan (one per service).
  private readonly indexOf = new Map<string, number>();
  /** A marker and the index of its expression. */
  private readonly markers: RegExp;
  /** `userData`: every value whose strings may reach the module. */
  constructor(userData: unknown) {
    let stem = "NIX2DREAMEXPR";
    while (jsonMentions(userData, stem)) stem += "Q";
    this.stem = stem;
    this.markers = new RegExp(`${stem}(\\d+)x`, "g");
  }
  /** A marker standing for the Nix expression `code` inside a string. */
  marker(code: string): string {
    let i = this.indexOf.get(code);
    if (i === undefined) {
      i = this.exprs.push(code) - 1;
      this.indexOf.set(code, i);
    }
    return `${this.stem}${i}x`;
  }
  /**
   * A marker for `code` without looking for the same expression marked before: for one asked for
   * once (a service's script), whose long text would only be hashed to find no match.
   */
  uniqueMarker(code: string): string {
    return `${this.stem}${this.exprs.push(code) - 1}x`;
  }
  /** A string as Nix data: unchanged, or a `nixExpr` interpolating the expressions it marks. */
  value(s: string): string | NixExpr {
    if (!s.includes(this.stem)) return s;
    const parts: Array<string | NixExpr> = [];
    let last = 0;
    const re = this.markers;
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      if (m.index > last) parts.push(s.slice(last, m.index));
      parts.push(nixExpr(this.exprs[Number(m[1])] as string));
      last = m.index + m[0].length;
    }
    if (last < s.length) parts.push(s.slice(last));
    return nixExpr(nixInterpolate(parts));
  }
}

/** The deployment-wide settings, and the module-wide attribute sets the services fill. */
export interface NixosContext {
  deployment: EvaluatedDeployment;
  opts: NixosModuleOptions;
  /** The deployment's name. */
  dep: string;
  /** Whose options to read: `nixos`, or `nixos-vm` for render-nixos-vm. */
  rendererName: string;
  wide: NixosDeploymentOptions;
  nix: Interpolations;
  /** The marker of `pkgs.runtimeShell`: the shell of generated scripts. */
  shell: string;
  diagnostics: Diagnostic[];
  /** Reports on a full option path. */
  warn: (option: string, message: string, severity?: Diagnostic["severity"]) => void;
  /** Resolves a reference: every service runs on this host. */
  resolve: (r: Ref) => string;
  /** The state (or runtime) directory of a service's volume. */
  volumeDir: (service: string, volume: string) => string;
  /** `environment.etc`, `users.users`, `users.groups` and the firewall ports, filled per service. */
  etc: Record<string, Record<string, unknown>>;
  users: Record<string, Record<string, unknown>>;
  groups: Record<string, Record<string, unknown>>;
  tcp: Set<number>;
  udp: Set<number>;
}

/** The context of the module of `deployment`. */
export function nixosContextFor(
  deployment: EvaluatedDeployment,
  opts: NixosModuleOptions,
): NixosContext {
  const diagnostics: Diagnostic[] = [];
  const dep = deployment.name;
  const rendererName = opts.rendererName ?? "nixos";
  const nix = new Interpolations([deployment.services, deployment.renderers, dep]);
  const volumeDir = (service: string, volume: string) => {
    const v = deployment.services[service]?.volumes[volume];
    return `${v?.persistent === false ? "/run" : "/var/lib"}/${dep}/${service}/${volume}`;
  };
  return {
    deployment,
    opts,
    dep,
    rendererName,
    wide: {
      ...DEPLOYMENT_DEFAULTS,
      ...(
        deployment.renderers as unknown as Record<
          string,
          Partial<NixosDeploymentOptions> | undefined
        >
      )[rendererName],
    },
    nix,
    shell: nix.marker("pkgs.runtimeShell"),
    diagnostics,
    warn: (option, message, severity = "warning") =>
      diagnostics.push(diagnostic(deployment, { option, message, severity })),
    resolve: localResolver(deployment, volumeDir),
    volumeDir,
    etc: {},
    users: {},
    groups: {},
    tcp: new Set(),
    udp: new Set(),
  };
}

/**
 * Every service runs on this host: hosts are 127.0.0.1, volumes are the state directories
 * systemdServiceOf declares (StateDirectory=/RuntimeDirectory=), files are at their paths.
 */
function localResolver(
  deployment: EvaluatedDeployment,
  volumeDir: (service: string, volume: string) => string,
): (r: Ref) => string {
  return (r) => {
    switch (r.kind) {
      case "host":
        return "127.0.0.1";
      case "port":
        return String(deployment.services[r.service]?.ports[r.port]?.port ?? "");
      case "address":
        return `127.0.0.1:${deployment.services[r.service]?.ports[r.port]?.port ?? ""}`;
      case "volume":
        return volumeDir(r.service, r.volume);
      case "file":
        return r.path;
    }
  };
}

/** One service's view: its NixOS options, user, unit name and option paths. */
export interface ServiceContext extends NixosContext {
  service: EvaluatedService;
  /** `services.<svc>.renderers.<rendererName>` with defaults. */
  own: NixosServiceOptions;
  /** Runs under DynamicUser= (set, or no `user`). */
  dynamicUser: boolean;
  /** Its `systemd.services` attribute name. */
  unit: string;
  /** The full path of one of its options (the service itself for `""`). */
  at: (option: string) => string;
}

/** The context of `service`. */
export function serviceContextFor(ctx: NixosContext, service: EvaluatedService): ServiceContext {
  const own: NixosServiceOptions = {
    ...SERVICE_DEFAULTS,
    ...(service.renderers as unknown as Record<string, Partial<NixosServiceOptions> | undefined>)[
      ctx.rendererName
    ],
  };
  // Field by field: V8 copies a spread of this many fields (`{ ...ctx, service }`) slowly, tens
  // of microseconds a service. The module-wide sets stay shared with `ctx`.
  return {
    deployment: ctx.deployment,
    opts: ctx.opts,
    dep: ctx.dep,
    rendererName: ctx.rendererName,
    wide: ctx.wide,
    nix: ctx.nix,
    shell: ctx.shell,
    diagnostics: ctx.diagnostics,
    warn: ctx.warn,
    resolve: ctx.resolve,
    volumeDir: ctx.volumeDir,
    etc: ctx.etc,
    users: ctx.users,
    groups: ctx.groups,
    tcp: ctx.tcp,
    udp: ctx.udp,
    service,
    own,
    dynamicUser: own.dynamicUser ?? service.user === null,
    unit: nixosUnitName(ctx.dep, service.name),
    at: (option) => `services.${service.name}${option ? `.${option}` : ""}`,
  };
}
