/**
 * The NixOS module of a deployment: `systemd.services` from core's shared systemd mapping
 * (`systemdServiceOf`), plus what NixOS declares around it (users, `/etc` files, store paths,
 * firewall ports), printed as Nix with core's Nix printers.
 */
import {
  type Diagnostic,
  diagnostic,
  type EvaluatedDeployment,
  type EvaluatedService,
  isNixExpr,
  type NixExpr,
  nixExpr,
  nixIndentedString,
  nixInterpolate,
  nixKey,
  nixString,
  parseExecLine,
  publishedHostPort,
  type Ref,
  resolveRefs,
  systemdServiceOf,
  toNix,
  unitEscape,
  unitQuote,
} from "@nix2dream/core";
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
const BIND_SAFE = /^\/[A-Za-z0-9_@+,./=~-]*$/;
/** Characters of a Nix store path name. */
const STORE_NAME_BAD = /[^A-Za-z0-9+._?=-]/g;
const ATTR_PATH = /^[A-Za-z_][A-Za-z0-9_'-]*(\.[A-Za-z_][A-Za-z0-9_'-]*)*$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
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
 * Nix expressions inside unit-file text travel as markers made of characters systemd's quoting
 * leaves alone; the printer turns strings holding markers into interpolated Nix strings. The
 * marker's stem is chosen so that no user string contains it.
 */
class Interpolations {
  private readonly stem: string;
  private readonly exprs: string[] = [];
  // Index of each expression in `exprs`: a lookup per marker, not a scan (one per service).
  private readonly indexOf = new Map<string, number>();
  constructor(userText: string) {
    let stem = "NIX2DREAMEXPR";
    while (userText.includes(stem)) stem += "Q";
    this.stem = stem;
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
  /** A string as Nix data: unchanged, or a `nixExpr` interpolating the expressions it marks. */
  value(s: string): string | NixExpr {
    if (!s.includes(this.stem)) return s;
    const re = new RegExp(`${this.stem}(\\d+)x`, "g");
    const parts: Array<string | NixExpr> = [];
    let last = 0;
    for (const m of s.matchAll(re)) {
      if (m.index > last) parts.push(s.slice(last, m.index));
      parts.push(nixExpr(this.exprs[Number(m[1])] as string));
      last = m.index + m[0].length;
    }
    if (last < s.length) parts.push(s.slice(last));
    return nixExpr(nixInterpolate(parts));
  }
  /** Replaces marked strings everywhere in `data`. */
  resolve(data: unknown): unknown {
    if (typeof data === "string") return this.value(data);
    if (Array.isArray(data)) return data.map((d) => this.resolve(d));
    if (isPlainObject(data)) {
      return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, this.resolve(v)]));
    }
    return data;
  }
}

/**
 * The Nix expression of a package: `pkgs.redis` and `redis` → `pkgs.redis`, `nixpkgs#redis` →
 * `pkgs.redis`, another flake reference → `(builtins.getFlake "<ref>").packages.<system>.<attr>`.
 * Returns undefined for text that is none of these.
 */
export function packageExpr(spec: string): { expr: string; flake: boolean } | undefined {
  const hash = spec.indexOf("#");
  if (hash >= 0) {
    const flake = spec.slice(0, hash);
    const attr = spec.slice(hash + 1) || "default";
    if (!ATTR_PATH.test(attr) || flake === "") return undefined;
    if (flake === "nixpkgs") return { expr: `pkgs.${attr}`, flake: false };
    const path = attr.startsWith("packages.")
      ? attr
      : `packages.\${pkgs.stdenv.hostPlatform.system}.${attr}`;
    return { expr: `(builtins.getFlake ${nixString(flake)}).${path}`, flake: true };
  }
  const attr = spec.startsWith("pkgs.") ? spec.slice(5) : spec;
  if (!ATTR_PATH.test(attr)) return undefined;
  return { expr: `pkgs.${attr}`, flake: false };
}

function storeName(deployment: string, service: string, target: string): string {
  const base = target.split("/").filter(Boolean).pop() ?? "file";
  return `${deployment}-${service}-${base}`.replace(STORE_NAME_BAD, "_").replace(/^\.+/, "_");
}

/** The whole-service data of one `systemd.services.<unit>` attribute and what goes beside it. */
interface ServicePlan {
  unit: string;
  attrs: Record<string, unknown>;
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
  const diagnostics: Diagnostic[] = [];
  const dep = deployment.name;
  const rendererName = opts.rendererName ?? "nixos";
  const wide: NixosDeploymentOptions = {
    ...DEPLOYMENT_DEFAULTS,
    ...(
      deployment.renderers as unknown as Record<string, Partial<NixosDeploymentOptions> | undefined>
    )[rendererName],
  };
  const nix = new Interpolations(JSON.stringify([deployment.services, deployment.renderers, dep]));
  const shell = nix.marker("pkgs.runtimeShell");
  /**
   * An Exec line `<shell> -ec <script> <name> <args…>` of the shared mapping, rewritten as
   * `${pkgs.writeShellScript "<name>" ''<script>''} <args…>` so the script reads as shell in the
   * module. Lines holding a specifier (`%S`, `%t`: only valid on the Exec line itself) stay.
   */
  const scriptLine = (unitLine: string, name: string): string => {
    // %S and %t are /var/lib and /run for system services; any other specifier keeps the line.
    const line = unitLine.replace(
      /(^|[^%])((?:%%)*)%([St])/g,
      (_m, before: string, pairs: string, spec: string) =>
        `${before}${pairs}${spec === "S" ? "/var/lib" : "/run"}`,
    );
    if (!line.startsWith(`${shell} -ec `) || /(^|[^%])(%%)*%[^%]/.test(line)) return unitLine;
    let argv: string[];
    try {
      argv = parseExecLine(line);
    } catch {
      return unitLine;
    }
    if (argv[0] !== shell || argv[1] !== "-ec" || argv.length < 4) return unitLine;
    const [, , script = "", , ...rest] = argv;
    const text = `set -e\n${script}\n`;
    const literal = nixIndentedString(text, 10) ?? nixString(text);
    return [
      nix.marker(`pkgs.writeShellScript ${nixString(name)} ${literal}`),
      ...rest.map(unitQuote),
    ].join(" ");
  };
  const warn = (option: string, message: string, severity: Diagnostic["severity"] = "warning") =>
    diagnostics.push(diagnostic(deployment, { option, message, severity }));

  const volumeDir = (service: string, volume: string) => {
    const v = deployment.services[service]?.volumes[volume];
    return `${v?.persistent === false ? "/run" : "/var/lib"}/${dep}/${service}/${volume}`;
  };
  // Every service runs on this host: hosts are 127.0.0.1, volumes are the state directories
  // systemdServiceOf declares (StateDirectory=/RuntimeDirectory=), files are at their paths.
  const resolve = (r: Ref): string => {
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

  const names = Object.keys(deployment.services).sort();
  const services = names
    .map((n) => deployment.services[n] as EvaluatedService)
    .filter((s) => s.enable);

  const etc: Record<string, Record<string, unknown>> = {};
  const users: Record<string, Record<string, unknown>> = {};
  const groups: Record<string, Record<string, unknown>> = {};
  const tcp = new Set<number>();
  const udp = new Set<number>();
  const plans: ServicePlan[] = [];

  for (const s of services) {
    const svc = s.name;
    const at = (option: string) => `services.${svc}${option ? `.${option}` : ""}`;
    const own: NixosServiceOptions = {
      ...SERVICE_DEFAULTS,
      ...(s.renderers as unknown as Record<string, Partial<NixosServiceOptions> | undefined>)[
        rendererName
      ],
    };
    const dynamicUser = own.dynamicUser ?? s.user === null;
    const unit = nixosUnitName(dep, svc);

    const resolveText = (text: string) => resolveRefs(text, resolve);

    // Where each file ends up: /etc through environment.etc, elsewhere a store path bound in.
    const bindReadOnly: string[] = [];
    for (const [target, f] of Object.entries(s.files)) {
      const opt = at(`files.${JSON.stringify(target)}`);
      if (target.split("/").some((seg) => seg === ".." || seg === ".")) {
        warn(
          opt,
          `A file path with \`.\` or \`..\` segments could land outside its place; ${JSON.stringify(target)} is not shipped.`,
          "error",
        );
        continue;
      }
      if (!target.startsWith("/")) {
        warn(
          opt,
          `A NixOS file needs an absolute path; ${JSON.stringify(target)} is not shipped.`,
          "error",
        );
        continue;
      }
      const mode = /^[0-7]{3,4}$/.test(f.mode) ? Number.parseInt(f.mode, 8) : 0o644;
      if ((mode & 0o004) === 0 && f.text !== null) {
        warn(
          `${opt}.mode`,
          `The file's text is in the Nix store, which every local user can read, whatever its mode ${f.mode}; keep secret values in \`secrets\`.`,
        );
      }
      let content: Record<string, unknown>;
      let sourceExpr = "";
      if (f.text !== null) {
        content = { text: resolveText(f.text) };
      } else if (f.source !== null) {
        const abs = f.source.startsWith("/")
          ? f.source
          : deployment.root === null
            ? null
            : `${deployment.root.replace(/\/+$/, "")}/${f.source}`;
        if (abs === null) {
          warn(
            `${opt}.source`,
            "A relative `source` needs the config file's directory, which this evaluation has none of; the file is not shipped.",
            "error",
          );
          continue;
        }
        sourceExpr = `/. + ${nixString(abs)}`;
        content = { source: nixExpr(sourceExpr) };
      } else continue;
      if (target.startsWith("/etc/") && target.length > 5) {
        const entry: Record<string, unknown> = { ...content };
        if (f.mode !== "0644") {
          entry.mode = f.mode;
          if (!dynamicUser && s.user !== null) {
            entry.user = s.user;
            entry.group = s.group ?? s.user;
          } else if ((mode & 0o044) === 0) {
            warn(
              `${opt}.mode`,
              `With a dynamic user the file cannot belong to the service; mode ${f.mode} makes it unreadable to it (set \`user\`).`,
            );
          }
        }
        etc[target.slice(5)] = entry;
      } else if (!BIND_SAFE.test(target)) {
        warn(
          opt,
          `BindReadOnlyPaths= cannot carry the path ${JSON.stringify(target)} (spaces, quotes, \`:\` or \`%\`); the file is not shipped.`,
          "error",
        );
      } else {
        const name = storeName(dep, svc, target);
        const store =
          "text" in content
            ? (mode & 0o111) !== 0
              ? `pkgs.writeScript ${nixString(name)} ${nixString(content.text as string)}`
              : `pkgs.writeText ${nixString(name)} ${nixString(content.text as string)}`
            : sourceExpr;
        bindReadOnly.push(`${nix.marker(store)}:${target}`);
        if ((mode & 0o222) !== 0) {
          warn(
            `${opt}.mode`,
            `The file is bound read-only from the Nix store (mode ${(mode & 0o111) !== 0 ? "0555" : "0444"}), not ${f.mode}.`,
          );
        }
      }
    }

    // The program: from the Nix package, else an absolute path, else the system profile.
    const [program = "", ...rest] = s.command;
    let execStart: string[] = [];
    const pkg = s.package.nix === null ? undefined : packageExpr(s.package.nix);
    if (s.package.nix !== null && pkg === undefined) {
      warn(
        at("package.nix"),
        `\`${s.package.nix}\` is not a package attribute path or flake reference; the program is looked up as if no package were set.`,
        "error",
      );
    }
    if (pkg?.flake) {
      warn(
        at("package.nix"),
        `\`${s.package.nix}\` is read with builtins.getFlake, which pure evaluation (flakes) refuses unless the reference is locked; prefer a package of pkgs or add the flake as an input.`,
      );
    }
    if (s.package.image !== null) {
      warn(
        at("package.image"),
        `NixOS runs programs from Nix packages, not images; \`${s.package.image}\` is not used.`,
      );
    }
    if (pkg) {
      if (program === "") execStart = [nix.marker(`lib.getExe ${pkg.expr}`), ...s.args];
      else if (program.startsWith("/")) execStart = [program, ...rest, ...s.args];
      else if (/^bin\/[^/]+$/.test(program)) {
        execStart = [
          nix.marker(`lib.getExe' ${pkg.expr} ${nixString(program.slice(4))}`),
          ...rest,
          ...s.args,
        ];
      } else if (program.includes("/") && !/^[A-Za-z0-9_@+:,./=-]+$/.test(program)) {
        warn(
          at("command"),
          `The program path ${JSON.stringify(program)} holds characters an Exec line cannot carry unquoted; the service has no ExecStart.`,
          "error",
        );
      } else if (program.includes("/")) {
        // A path inside the package; the marker holds no "/", so systemd's checks see a name.
        const full = nixInterpolate([nixExpr(pkg.expr), `/${program}`]);
        execStart = [nix.marker(full), ...rest, ...s.args];
      } else
        execStart = [
          nix.marker(`lib.getExe' ${pkg.expr} ${nixString(program)}`),
          ...rest,
          ...s.args,
        ];
    } else if (program.startsWith("/")) {
      execStart = [...s.command, ...s.args];
    } else if (program !== "") {
      if (program.includes("/")) {
        warn(
          at("command"),
          `\`${program}\` is a relative path; systemd needs an absolute one. Set \`package.nix\` or an absolute \`command\`.`,
          "error",
        );
      } else {
        warn(
          at("command"),
          `\`${program}\` has no Nix package: it runs from /run/current-system/sw/bin, so it must be in \`environment.systemPackages\`. Set \`package.nix\` to pin it.`,
        );
        execStart = [`/run/current-system/sw/bin/${program}`, ...rest, ...s.args];
      }
    }

    const mapped = systemdServiceOf(s, deployment, {
      resolve,
      execStart,
      unitName: (name) => `${nixosUnitName(dep, name)}.service`,
      shell,
      dynamicUser,
      filePath: () => null,
      restartSteps: opts.restartSteps ?? true,
      environmentFiles: Object.values(s.secrets).some(
        (x) => x.fromEnv !== null || x.fromFile === null,
      )
        ? [`-${unitEscape(own.environmentFile ?? `/run/secrets/nix2dream/${dep}/${svc}.env`)}`]
        : [],
    });
    diagnostics.push(...mapped.diagnostics);
    for (const [key, kind] of [
      ["ExecStartPre", "pre"],
      ["ExecStart", "start"],
      ["ExecStartPost", "post"],
    ] as const) {
      const lines = mapped.service[key];
      if (!lines) continue;
      mapped.service[key] = lines.map((line, i) =>
        scriptLine(line, `${unit}-${kind}${lines.length > 1 ? `-${i + 1}` : ""}`),
      );
    }

    // Volumes appear at their declared path too (a bind mount inside the service's namespace).
    const bind: string[] = [];
    for (const [name, v] of Object.entries(s.volumes)) {
      const dir = volumeDir(svc, name);
      if (v.path === dir) continue;
      if (!BIND_SAFE.test(v.path)) {
        warn(
          at(`volumes.${name}.path`),
          `BindPaths= cannot carry ${JSON.stringify(v.path)}; the volume is only at ${dir} (reach it with \`ref.${svc}.volumes.${name}\`).`,
        );
        continue;
      }
      bind.push(`${dir}:${v.path}`);
    }
    for (const [name, v] of Object.entries(s.volumes)) {
      if (v.clear) {
        warn(
          at(`volumes.${name}.clear`),
          "NixOS has no `down --volumes`: the clear script is not rendered (remove the state directory by hand).",
        );
      }
    }

    // Users and groups the service runs as.
    if (!dynamicUser && wide.createUsers && s.user !== null && s.user !== "root") {
      const group = s.group ?? s.user;
      users[s.user] = { isSystemUser: true, group };
      groups[group] = {};
    } else if (!dynamicUser && wide.createUsers && s.group !== null && s.group !== "root") {
      groups[s.group] = {};
    }

    // Ports: the firewall opens what is exposed.
    for (const [name, p] of Object.entries(s.ports)) {
      const host = publishedHostPort(p);
      if (host === null) continue;
      if (host !== p.port && !opts.hostPortsForwarded) {
        warn(
          at(`ports.${name}.hostPort`),
          `A NixOS host cannot remap ports: the service listens on ${p.port}, and that port is opened, not ${host}.`,
        );
      }
      if (wide.openFirewall) (p.protocol === "udp" ? udp : tcp).add(p.port);
    }

    // Tools the generated scripts call, then the user's packages.
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
    for (const p of own.path) {
      const e = packageExpr(p);
      if (e) addPath(e.expr);
      else
        warn(
          at(`renderers.${rendererName}.path`),
          `\`${p}\` is not a package attribute path or flake reference; it is left out of \`path\`.`,
          "error",
        );
    }

    if (bind.length) mapped.service.BindPaths = [...(mapped.service.BindPaths ?? []), ...bind];
    if (bindReadOnly.length) {
      mapped.service.BindReadOnlyPaths = [
        ...(mapped.service.BindReadOnlyPaths ?? []),
        ...bindReadOnly,
      ];
    }

    const unitSection = { ...mapped.unit };
    const take = (key: string) => {
      const v = unitSection[key];
      delete unitSection[key];
      return v;
    };
    const description = take("Description")?.[0];
    const after = take("After");
    const requires = take("Requires");
    const wants = take("Wants");
    const partOf = take("PartOf");
    const section = (sec: Record<string, string[]>) =>
      Object.fromEntries(
        Object.entries(sec).map(([k, v]) => [k, v.length === 1 ? (v[0] as string) : v]),
      );
    let attrs: Record<string, unknown> = {
      description,
      wantedBy: own.wantedBy.length && s.replicas > 0 ? own.wantedBy : undefined,
      after,
      requires,
      wants,
      partOf,
      path: path.length ? path : undefined,
      environment: Object.keys(mapped.environment).length ? mapped.environment : undefined,
      unitConfig: Object.keys(unitSection).length ? section(unitSection) : undefined,
      serviceConfig: section(mapped.service),
    };
    if (s.replicas === 0) attrs.enable = false;
    attrs = recursiveUpdate(attrs, own.override);
    plans.push({ unit, attrs });
  }

  let config: Record<string, unknown> = {
    systemd: {
      services: Object.fromEntries(plans.map((p) => [p.unit, p.attrs])),
    },
  };
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
  config = recursiveUpdate(config, wide.override);

  const body = toNix(nix.resolve(config), { indent: 2, paths: true, indentedStrings: true });
  const key = nixKey(dep);
  const source = [
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
  return { fileName: nixosModuleFileName(dep), source, diagnostics };
}

function sortObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k] as T]),
  );
}
