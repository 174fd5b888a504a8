/**
 * Packages as option values (NixOS `types.package`, `lib.mkPackageOption`): a package is a
 * derivation-like object (`{ type: "derivation", ... }`, as Nix represents one) or a store path.
 * nix2dream has no package set of its own; the caller passes one (`pkgs`), e.g. a description
 * of the Nixpkgs attributes a NixOS render may refer to.
 */
import { ModuleError } from "./errors.js";
import { isAttrs } from "./merge.js";
import { type MkOptionArgs, mkOption, type OptionDeclaration } from "./option.js";
import { type PackageValue, types } from "./types.js";

/** A `literalExpression` (NixOS): documentation text that is Nix code, not a value. */
export interface LiteralExpression {
  readonly _type: "literalExpression";
  readonly text: string;
}

const literalExpression = (text: string): LiteralExpression => ({
  _type: "literalExpression",
  text,
});

/** An attribute path as Nix writes it: identifiers bare, anything else quoted. */
function showAttrPath(path: readonly string[]): string {
  return path.map((k) => (/^[A-Za-z_][A-Za-z0-9_'-]*$/.test(k) ? k : JSON.stringify(k))).join(".");
}

/** Options of {@link mkPackageOption}, as NixOS names them. */
export interface MkPackageOptionArgs {
  /** Whether `null` is allowed (the type is `nullOr package`). */
  nullable?: boolean;
  /** The attribute (path) of `pkgs` that is the default; `null` for none. Default: `name`. */
  default?: string | string[] | null;
  /** An attribute path of `pkgs` (list), or Nix code (string), shown as the example. */
  example?: string | string[];
  /** Appended to the description. */
  extraDescription?: string;
  /** How `pkgs` is written in documentation (default `"pkgs"`). */
  pkgsText?: string;
}

/**
 * Declares an option holding a package of `pkgs` (NixOS `lib.mkPackageOption`): its default is
 * the attribute `name` (or `default`) of `pkgs`, read when the option is, its `defaultText` that
 * path (`pkgs.hello`), its description "The <name> package to use.". A default missing from
 * `pkgs` is an error when the option is read.
 */
export function mkPackageOption(
  pkgs: Record<string, unknown>,
  name: string | string[],
  args: MkPackageOptionArgs = {},
): OptionDeclaration<PackageValue | null> {
  const shownName = Array.isArray(name) ? (name[name.length - 1] ?? "") : name;
  const pkgsText = args.pkgsText ?? "pkgs";
  const wanted = args.default === undefined ? name : args.default;
  const decl: MkOptionArgs<unknown> = {
    type: args.nullable ? types.nullOr(types.package) : types.package,
    description: `The ${shownName} package to use.${args.extraDescription ? ` ${args.extraDescription}` : ""}`,
  };
  if (wanted !== null) {
    const path = Array.isArray(wanted) ? wanted : [wanted];
    const text = `${pkgsText}.${showAttrPath(path)}`;
    decl.defaultText = text;
    Object.defineProperty(decl, "default", {
      enumerable: true,
      get: () => attrAt(pkgs, path, text, pkgsText),
    });
  } else if (args.nullable) decl.default = null as never;
  if (args.example !== undefined) {
    decl.example = literalExpression(
      Array.isArray(args.example) ? `${pkgsText}.${showAttrPath(args.example)}` : args.example,
    );
  }
  return mkOption(decl) as OptionDeclaration<PackageValue | null>;
}

function attrAt(pkgs: unknown, path: readonly string[], text: string, pkgsText: string): unknown {
  let v = pkgs;
  for (const k of path) {
    if (!isAttrs(v) || !Object.hasOwn(v, k)) {
      throw new ModuleError("UNDEFINED_OPTION", `${text} cannot be found in ${pkgsText}.`);
    }
    v = v[k];
  }
  return v;
}
