/**
 * The program aspect: the service's Nix package and the argv of `ExecStart=` (from the package,
 * else an absolute path, else the system profile).
 */
import { nixExpr, nixInterpolate, nixString } from "@nix2dream/core/nix";
import type { ServiceContext } from "./context.js";

const ATTR_PATH = /^[A-Za-z_][A-Za-z0-9_'-]*(\.[A-Za-z_][A-Za-z0-9_'-]*)*$/;

/** A package as a Nix expression; `flake` when it is read with `builtins.getFlake`. */
export interface PackageExpr {
  expr: string;
  flake: boolean;
}

/**
 * The Nix expression of a package: `pkgs.redis` and `redis` → `pkgs.redis`, `nixpkgs#redis` →
 * `pkgs.redis`, another flake reference → `(builtins.getFlake "<ref>").packages.<system>.<attr>`.
 * Returns undefined for text that is none of these.
 */
export function packageExpr(spec: string): PackageExpr | undefined {
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

/** The service's `package.nix` as an expression; what NixOS cannot use of `package` is reported. */
export function packageOf(ctx: ServiceContext): PackageExpr | undefined {
  const s = ctx.service;
  const pkg = s.package.nix === null ? undefined : packageExpr(s.package.nix);
  if (s.package.nix !== null && pkg === undefined) {
    ctx.warn(
      ctx.at("package.nix"),
      `\`${s.package.nix}\` is not a package attribute path or flake reference; the program is looked up as if no package were set.`,
      "error",
    );
  }
  if (pkg?.flake) {
    ctx.warn(
      ctx.at("package.nix"),
      `\`${s.package.nix}\` is read with builtins.getFlake, which pure evaluation (flakes) refuses unless the reference is locked; prefer a package of pkgs or add the flake as an input.`,
    );
  }
  if (s.package.image !== null) {
    ctx.warn(
      ctx.at("package.image"),
      `NixOS runs programs from Nix packages, not images; \`${s.package.image}\` is not used.`,
    );
  }
  return pkg;
}

/** The argv of `ExecStart=` (empty when there is no usable program; reported). */
export function execStartOf(ctx: ServiceContext, pkg: PackageExpr | undefined): string[] {
  const s = ctx.service;
  if (pkg) return packagedExecStart(ctx, pkg);
  // By index and `concat`, not destructuring and spreads: V8 compiles those into iterator code,
  // for every service.
  const program = s.command[0] ?? "";
  if (program.startsWith("/")) return s.command.concat(s.args);
  if (program === "") return [];
  if (program.includes("/")) {
    ctx.warn(
      ctx.at("command"),
      `\`${program}\` is a relative path; systemd needs an absolute one. Set \`package.nix\` or an absolute \`command\`.`,
      "error",
    );
    return [];
  }
  ctx.warn(
    ctx.at("command"),
    `\`${program}\` has no Nix package: it runs from /run/current-system/sw/bin, so it must be in \`environment.systemPackages\`. Set \`package.nix\` to pin it.`,
  );
  return [`/run/current-system/sw/bin/${program}`].concat(s.command.slice(1), s.args);
}

/** The argv of a program found in `pkg`: its main program, a `bin/` name or a path inside it. */
function packagedExecStart(ctx: ServiceContext, pkg: PackageExpr): string[] {
  const s = ctx.service;
  const { nix } = ctx;
  const [program = "", ...rest] = s.command;
  if (program === "") return [nix.marker(`lib.getExe ${pkg.expr}`), ...s.args];
  if (program.startsWith("/")) return [program, ...rest, ...s.args];
  if (/^bin\/[^/]+$/.test(program)) {
    return [
      nix.marker(`lib.getExe' ${pkg.expr} ${nixString(program.slice(4))}`),
      ...rest,
      ...s.args,
    ];
  }
  if (program.includes("/") && !/^[A-Za-z0-9_@+:,./=-]+$/.test(program)) {
    ctx.warn(
      ctx.at("command"),
      `The program path ${JSON.stringify(program)} holds characters an Exec line cannot carry unquoted; the service has no ExecStart.`,
      "error",
    );
    return [];
  }
  if (program.includes("/")) {
    // A path inside the package; the marker holds no "/", so systemd's checks see a name.
    const full = nixInterpolate([nixExpr(pkg.expr), `/${program}`]);
    return [nix.marker(full), ...rest, ...s.args];
  }
  return [nix.marker(`lib.getExe' ${pkg.expr} ${nixString(program)}`), ...rest, ...s.args];
}
