/**
 * Option declarations of one option, merged lazily: nothing of a declaration (not even its
 * `type`) is read until the option is used, so an unused option whose declarations conflict, or
 * whose fields throw, breaks nothing else (as in Nix).
 */
import { HOLE } from "./args.js";
import { kindOf, ModuleError, showFiles, showPath, showValue } from "./errors.js";
import type { Module } from "./module.js";
import { declares, mkOption, type OptionDeclaration } from "./option.js";
import {
  type Definition,
  isOptionType,
  type OptionType,
  type SubmoduleModule,
  types,
} from "./types.js";

/** Marks an option declaration as removed (see `mkRemovedOptionModule`). */
export const REMOVED: unique symbol = Symbol.for("nix2dream.modules.removed");
/** Marks an alias declaration: its value is its `apply` of nothing (see `mkRenamedOptionModule`). */
export const ALIAS: unique symbol = Symbol.for("nix2dream.modules.alias");

/** @internal Declarations of one option merged. */
export interface MergedDecl {
  type: OptionType;
  declarations: string[];
  defaultFile: string | undefined;
  defaultDecl: OptionDeclaration | undefined;
  defaultText: string | undefined;
  example: unknown;
  hasExample: boolean;
  description: string | undefined;
  readOnly: boolean;
  apply: ((v: unknown) => unknown) | undefined;
  internal: boolean;
  visible: boolean | "shallow";
  removed: string | undefined;
  alias: boolean;
}

/** One declaration of an option, with the file of the module declaring it. */
export interface DeclEntry {
  file: string;
  decl: OptionDeclaration;
}

/** A set of options declared under an option (extends a submodule option). */
export interface NestEntry {
  file: string;
  tree: Record<string, unknown>;
}

function badType(loc: string[], file: string, t: unknown): ModuleError {
  if (t === HOLE) return readsConfigError(loc, file, "type");
  return new ModuleError(
    "INVALID_MODULE",
    `The option \`${showPath(loc)}\` in ${file} has a \`type\` that is not an option type (use \`types.*\` or \`fromZod\`); got ${showValue(t)} (${kindOf(t)}).`,
    { optionPath: showPath(loc), files: [file] },
  );
}

function readsConfigError(loc: string[], file: string, field: string): ModuleError {
  return new ModuleError(
    "INVALID_MODULE",
    `The ${field} of the option \`${showPath(loc)}\` in ${file} reads config when its module is called; declarations are read before config exists. Compute it lazily: \`get ${field}() { return config.… }\`${
      field === "default" ? " (and set `defaultText` for the docs)" : ""
    }.`,
    { optionPath: showPath(loc), files: [file] },
  );
}

/** The type of one declaration, checked, with its inline submodules given the declaring file. */
export function declaredType(
  at: string[] | { readonly loc: string[] },
  file: string,
  decl: OptionDeclaration,
): OptionType | undefined {
  const t = decl.type;
  if (t === undefined) return undefined;
  // The path is built only for a message (an option node builds it on each read).
  if (t === HOLE || !isOptionType(t)) throw badType(Array.isArray(at) ? at : at.loc, file, t);
  // Submodule modules declared inline belong to the file that declares the option.
  return t.withDeclarationFile ? t.withDeclarationFile(file) : t;
}

/**
 * @internal The type of an option declared once per definition of `types.optionType`, each with
 * that definition's type, merged as declarations are (submodules joined, each inline submodule
 * module located in the file of its definition).
 */
export function mergedDeclaredType(loc: string[], defs: readonly Definition[]): OptionType {
  return mergeDecls(
    loc,
    defs.map((d) => ({ file: d.file, decl: mkOption({ type: d.value as OptionType }) })),
  ).type;
}

/** The default of a declaration, read when the option is evaluated. */
export function defaultOf(
  at: string[] | { readonly loc: string[] },
  file: string,
  decl: OptionDeclaration,
): unknown {
  const v = decl.default;
  if (v === HOLE) throw readsConfigError(Array.isArray(at) ? at : at.loc, file, "default");
  return v;
}

function typeConflict(loc: string[], file: string, typeFile: string, a: OptionType, b: unknown) {
  return new ModuleError(
    "DECLARATION_CONFLICT",
    `The option \`${showPath(loc)}\` in ${file} is already declared in ${typeFile} with an incompatible type: \`${a.description}\` there, \`${(b as OptionType).description}\` here.`,
    { optionPath: showPath(loc), files: [typeFile, file] },
  );
}

function mergeDecls(loc: string[], entries: DeclEntry[]): MergedDecl & { typed: boolean } {
  const m: MergedDecl & { typed: boolean } = {
    type: types.unspecified,
    declarations: entries.map((e) => e.file),
    defaultFile: undefined,
    defaultDecl: undefined,
    defaultText: undefined,
    example: undefined,
    hasExample: false,
    description: undefined,
    readOnly: false,
    apply: undefined,
    internal: false,
    visible: true,
    removed: undefined,
    alias: false,
    typed: false,
  };
  let typeFile: string | undefined;
  let applyFile: string | undefined;
  entries.forEach(({ file, decl }, i) => {
    const already = (what: string, other: string | undefined): ModuleError =>
      new ModuleError(
        "DECLARATION_CONFLICT",
        `The option \`${showPath(loc)}\` in ${file} is already declared in ${
          other ?? showFiles(m.declarations.slice(0, i))
        }, and both declarations set ${what}.`,
        { optionPath: showPath(loc), files: [other ?? "", file].filter(Boolean) },
      );
    if (declares(decl, "default")) {
      if (m.defaultDecl) throw already("a default", m.defaultFile);
      m.defaultDecl = decl;
      m.defaultFile = file;
    }
    if (decl.apply !== undefined) {
      if (m.apply) throw already("`apply`", applyFile);
      m.apply = decl.apply as (v: unknown) => unknown;
      applyFile = file;
    }
    const declType = declaredType(loc, file, decl);
    if (declType !== undefined) {
      m.typed = true;
      if (typeFile === undefined) {
        m.type = declType;
        typeFile = file;
      } else {
        const merged = m.type.mergeType?.(declType);
        if (!merged) throw typeConflict(loc, file, typeFile, m.type, decl.type);
        m.type = merged;
      }
    }
    mergeDocFields(m, decl);
  });
  return m;
}

function mergeDocFields(m: MergedDecl, decl: OptionDeclaration): void {
  if (m.description === undefined) m.description = decl.description;
  if (m.defaultText === undefined) m.defaultText = decl.defaultText;
  if (!m.hasExample && declares(decl, "example")) {
    m.example = decl.example;
    m.hasExample = true;
  }
  if (decl.readOnly) m.readOnly = true;
  if (decl.internal) m.internal = true;
  if (decl.visible === false) m.visible = false;
  else if (decl.visible === "shallow" && m.visible === true) m.visible = "shallow";
  const removed = (decl as unknown as Record<symbol, unknown>)[REMOVED];
  if (typeof removed === "string") m.removed = removed;
  if ((decl as unknown as Record<symbol, unknown>)[ALIAS] === true) m.alias = true;
}

/** Several declarations of one option, and sets of options declared under it: merged on use. */
export class DeclList {
  #merged: MergedDecl | undefined;
  constructor(
    readonly loc: string[],
    readonly opts: DeclEntry[],
    readonly nested: NestEntry[],
  ) {}
  get merged(): MergedDecl {
    if (this.#merged === undefined) this.#merged = mergeDeclList(this.loc, this.opts, this.nested);
    return this.#merged;
  }
  get files(): string[] {
    return [...this.opts.map((o) => o.file), ...this.nested.map((n) => n.file)];
  }
  replace(old: object, next: object): void {
    for (const o of this.opts) if (o.decl === old) o.decl = next as OptionDeclaration;
    for (const n of this.nested) if (n.tree === old) n.tree = next as Record<string, unknown>;
    this.#merged = undefined;
  }
}

function mergeDeclList(loc: string[], opts: DeclEntry[], nested: NestEntry[]): MergedDecl {
  const decl = mergeDecls(loc, opts);
  if (nested.length === 0) return decl;
  if (!decl.type.extendModules) throw notAParent(loc, opts, nested, decl);
  decl.type = decl.type.extendModules(
    nested.map((n) => ({ module: { options: n.tree } as Module, file: n.file }) as SubmoduleModule),
  );
  decl.declarations = [...decl.declarations, ...nested.map((n) => n.file)];
  return decl;
}

function notAParent(
  loc: string[],
  opts: DeclEntry[],
  nested: NestEntry[],
  decl: MergedDecl & { typed: boolean },
): ModuleError {
  const children = nested.flatMap((n) =>
    Object.keys(n.tree).map((k) => `\`${showPath(loc.concat(k))}\` in ${n.file}`),
  );
  const type = decl.typed ? `\`${decl.type.description}\`` : "(none declared, so `unspecified`)";
  return new ModuleError(
    "DECLARATION_CONFLICT",
    `The option \`${showPath(loc)}\` in ${showFiles(opts.map((o) => o.file))} would be a parent of the options ${children.join(
      ", ",
    )}, but its type ${type} does not support nested options; only a submodule option can be extended by declaring options under it.`,
    {
      optionPath: showPath(loc),
      files: [...opts.map((o) => o.file), ...nested.map((n) => n.file)],
    },
  );
}
