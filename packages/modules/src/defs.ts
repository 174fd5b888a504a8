/**
 * Definitions: assigning module config to the option tree, calling again the modules that read
 * config when first called, the freeform config, and undeclared definitions.
 */
import { asModuleObject, configDefOf, importsOf, type Loaded } from "./collect.js";
import { closeMatches, ModuleError, pathTo, showFiles, showPath, showValue } from "./errors.js";
import type { Evaluation } from "./eval.js";
import { FnThunk, isAttrs, mergeDefinitions, pushDownAttrs, type RawDef } from "./merge.js";
import { childOf, type NsNode, type OptNode, uniq } from "./nodes.js";
import { isOptionDeclaration } from "./option.js";
import { isProperty } from "./props.js";
import { hasOwnMerge, type OptionType } from "./types.js";

/** Forces a definition getter (once) and returns the definition's value. */
export function forceStructure(d: RawDef, loc: string[]): unknown {
  try {
    if (d.get !== undefined) {
      const g = d.get;
      d.get = undefined;
      d.value = g();
    }
    return d.value;
  } catch (e) {
    if (e instanceof ModuleError) throw e;
    throw new ModuleError(
      "EVALUATION_ERROR",
      `Error while evaluating the definitions of \`${showPath(loc)}\` in ${d.file}: ${
        e instanceof Error ? e.message : String(e)
      }`,
      { optionPath: showPath(loc), files: [d.file], cause: e },
    );
  }
}

/** Splits definitions of a set of options by key (properties pushed down, getters kept lazy). */
function byKeyOf(defs: RawDef[], loc: string[]): Map<string, RawDef[]> {
  const byKey = new Map<string, RawDef[]>();
  for (const d of defs) pushDownAttrs(forceStructure(d, loc), d.file, byKey, loc, undefined, d.ord);
  return byKey;
}

/** The definitions of `_module.args.<name>` among definitions of `_module`. */
export function moduleArgDefs(
  moduleDefs: RawDef[] | undefined,
  name: string,
  prefix: string[],
): RawDef[] {
  if (!moduleDefs) return [];
  const at = prefix.concat("_module");
  const args = byKeyOf(moduleDefs, at).get("args");
  return args ? (byKeyOf(args, at.concat("args")).get(name) ?? []) : [];
}

/**
 * Assigns definitions of the namespace `ns` to its options. Undeclared keys go to the freeform
 * type, or are kept for the check at the end of the evaluation (`_module.check`); `strict` (the
 * `_module` options) fails on them at once.
 */
export function assignDefs(ev: Evaluation, ns: NsNode, defs: RawDef[], strict = false): void {
  if (!strict && !ev.late && assignToOptions(ns, defs)) return;
  const byKey = byKeyOf(defs, ns.loc);
  for (const [name, ds] of byKey) {
    const child = childOf(ns, name);
    if (child === undefined) {
      if (strict) throw undeclared(ns, ns.loc.concat(name), ds);
      if (ns === ev.root && name === "_module") {
        if (ev.late) checkLateModuleArgs(ev, ds);
        ev.addModuleDefs(ds);
      } else if (ev.freeform) {
        ev.unmatched ??= [];
        for (const def of ds) ev.unmatched.push({ rel: pathTo(ns.rel, name), def });
        if (!ns.freeformKeys) ns.freeformKeys = new Set();
        ns.freeformKeys.add(name);
      } else {
        if (!ev.undeclared) ev.undeclared = [];
        ev.undeclared.push({ loc: pathTo(ns.loc, name), defs: ds });
      }
      continue;
    }
    if (child.kind === "ns") {
      assignDefs(ev, child, ds, strict);
      continue;
    }
    if (ev.late) {
      if (ev.touched?.has(child)) throw lateConflict(child, ds);
      // In module order, as if the module had defined it on its first call.
      child.defs = child.defs.concat(ds).sort((a, b) => (a.ord ?? 0) - (b.ord ?? 0));
      continue;
    }
    // `ds` is this evaluation's own list: adopt it, trimmed (a list grown by push keeps a
    // backing store of 17 or more slots). A node's `defs` is read-only: assign a new list.
    const had = child.defs;
    child.defs = had.length === 0 ? (ds.length > 1 ? ds.slice() : ds) : had.concat(ds);
  }
}

/**
 * {@link assignDefs} when every definition is a plain object whose every key is an option of
 * `ns` (a submodule instance's definitions, mostly): each key's definition goes straight to its
 * option, in definition order, without grouping the keys first. False, having assigned nothing,
 * when that does not hold (properties, nested namespaces, undeclared keys, `_module`).
 */
function assignToOptions(ns: NsNode, defs: RawDef[]): boolean {
  const keyLists: string[][] = new Array(defs.length);
  // The option of each key, in the order of the keys of every definition (found once).
  const targets: OptNode[] = [];
  // Indexed loops, not for...of: V8 compiles this hot function sooner and smaller.
  for (let i = 0; i < defs.length; i++) {
    const v = forceStructure(defs[i] as RawDef, ns.loc);
    if (!isAttrs(v)) return false;
    const keys = Object.keys(v);
    for (let j = 0; j < keys.length; j++) {
      const child = childOf(ns, keys[j] as string);
      if (child?.kind !== "opt") return false;
      targets.push(child);
    }
    keyLists[i] = keys;
  }
  let t = 0;
  for (let i = 0; i < defs.length; i++) {
    const d = defs[i] as RawDef;
    const file = d.file;
    const ord = d.ord;
    const value = d.value as Record<string, unknown>;
    const keys = keyLists[i] as string[];
    for (let j = 0; j < keys.length; j++) {
      const k = keys[j] as string;
      // As `pushDownAttrs`: a getter stays lazy.
      const desc = Object.getOwnPropertyDescriptor(value, k) as PropertyDescriptor;
      const def: RawDef =
        desc.get !== undefined
          ? { file, value: undefined, get: getterOf(value, desc.get), ord }
          : { file, value: desc.value, get: undefined, ord };
      (targets[t++] as OptNode).addDef(def);
    }
  }
  return true;
}

/**
 * The definition getter of a key defined by a getter: made apart, so the loop of
 * `assignToOptions` allocates no closure context for the keys defined by values.
 */
function getterOf(value: object, g: () => unknown): () => unknown {
  return () => g.call(value);
}

function lateConflict(node: OptNode, ds: RawDef[]): ModuleError {
  const files = uniq(ds.map((d) => d.file));
  return new ModuleError(
    "INFINITE_RECURSION",
    `The module in ${showFiles(files)} reads config when it is called and also defines \`${showPath(
      node.loc,
    )}\`, which that read depends on. Read config lazily instead: in a getter (\`get x() { return config.a }\`), or in \`mkIf(() => config.a, ...)\`.`,
    { optionPath: showPath(node.loc), files },
  );
}

/** A module argument read before a module called later defines it: that read saw another value. */
function checkLateModuleArgs(ev: Evaluation, ds: RawDef[]): void {
  const read = ev.argsRead;
  if (!read) return;
  const name = moduleArgNamesOf(ev, ds).find((n) => read.has(n));
  if (name === undefined) return;
  const files = uniq(ds.map((d) => d.file));
  throw new ModuleError(
    "INFINITE_RECURSION",
    `The module in ${showFiles(files)} defines \`_module.args.${name}\` only once config exists (it reads config or a module argument when it is called), but the argument \`${name}\` was already given to another module. Define module arguments without reading config when the module is called.`,
    { files },
  );
}

function moduleArgNamesOf(ev: Evaluation, ds: RawDef[]): string[] {
  const args = byKeyOf(ds, ev.prefix.concat("_module")).get("args");
  return args ? [...byKeyOf(args, ev.prefix.concat("_module", "args")).keys()] : [];
}

// ---------------------------------------------------------------------------------------------
// modules called again

const isMissingArgument = (e: unknown): e is ModuleError =>
  e instanceof ModuleError && e.code === "MISSING_ARGUMENT";

/**
 * Calls again, now that config exists, every module whose first call read config or an
 * argument from `_module.args`, and assigns what it defines. A module asking for an argument
 * that a module called after it provides waits for that module.
 */
export function recallAll(ev: Evaluation, mods: Loaded[]): void {
  if (!mods.some((m) => m.recall)) return;
  let pending = mods.filter((m) => m.recall);
  const position = new Map(mods.map((m, i) => [m, i]));
  ev.recording = true;
  try {
    while (pending.length > 0) {
      const waiting: { m: Loaded; e: ModuleError }[] = [];
      for (const m of pending) {
        let def: RawDef | undefined;
        try {
          def = recallModule(ev, m);
        } catch (e) {
          if (!isMissingArgument(e)) throw e;
          waiting.push({ m, e });
          continue;
        }
        if (!def) continue;
        def.ord = position.get(m);
        ev.late = true;
        try {
          assignDefs(ev, ev.root, [def]);
        } finally {
          ev.late = false;
        }
      }
      if (waiting.length === pending.length) throw (waiting[0] as { e: ModuleError }).e;
      pending = waiting.map((w) => w.m);
    }
  } finally {
    ev.recording = false;
  }
}

function recallModule(ev: Evaluation, m: Loaded): RawDef | undefined {
  const r = m.recall as NonNullable<Loaded["recall"]>;
  let obj: unknown;
  try {
    obj = asModuleObject(r.fn(ev.argsFor(m.file)));
  } catch (e) {
    if (e instanceof ModuleError) throw e;
    throw new ModuleError(
      "EVALUATION_ERROR",
      `The module function in ${m.file} threw: ${e instanceof Error ? e.message : String(e)}`,
      { files: [m.file], cause: e },
    );
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new ModuleError(
      "INVALID_MODULE",
      `The module function in ${m.file} returned ${showValue(obj)}, not a module object.`,
      { files: [m.file] },
    );
  }
  const o = obj as Record<string, unknown>;
  const imports = importsOf(o, m.file);
  if (r.declsFailed) {
    if (o.options !== undefined || imports.length > 0) throw failedFirstCall(m.file);
  } else {
    checkSameImports(m.file, r.imports, imports);
    replaceDecls(ev, m, o.options);
  }
  return configDefOf(o, typeof o.file === "string" ? o.file : m.file);
}

function failedFirstCall(file: string): ModuleError {
  return new ModuleError(
    "INFINITE_RECURSION",
    `The module in ${file} reads config when it is called in a way that fails before config exists, and it declares options or imports; its options and imports must not depend on config. Read config lazily (in a getter or \`mkIf(() => ...)\`).`,
    { files: [file] },
  );
}

function checkSameImports(file: string, first: unknown[], second: unknown[]): void {
  if (first.length === second.length && first.every((m, i) => m === second[i])) return;
  throw new ModuleError(
    "INFINITE_RECURSION",
    `The imports of the module in ${file} depend on config or on an argument from \`_module.args\`: they differ between its call before config exists and its call after (Nix: infinite recursion). Import the same module values on every call — defined outside the module function, not built in it — and put conditions in their config (\`mkIf\`).`,
    { files: [file] },
  );
}

function declsChanged(file: string, at: string): ModuleError {
  return new ModuleError(
    "INFINITE_RECURSION",
    `The options declared by the module in ${file} depend on config or on a module argument: ${at} differs between its call before config exists and its call after (Nix: infinite recursion). Declare the same options on every call; read config lazily inside a declaration (\`get type()\`, \`get default()\`).`,
    { files: [file] },
  );
}

/**
 * The second call of a module gives its declarations with real config values (the first call saw
 * placeholders): they replace the first call's in every option not used yet. The options
 * themselves must be the same.
 */
function replaceDecls(ev: Evaluation, m: Loaded, next: unknown): void {
  const first = m.options;
  if (first === undefined && next === undefined) return;
  if (first === undefined || !isAttrs(next)) throw declsChanged(m.file, "the set of options");
  replaceIn(ev.root, first, next, m.file);
}

function replaceIn(
  ns: NsNode,
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  file: string,
): void {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length || !keys.every((k) => Object.hasOwn(b, k))) {
    throw declsChanged(
      file,
      ns.loc.length ? `the set of options under \`${showPath(ns.loc)}\`` : "the set of options",
    );
  }
  for (const k of keys) {
    const node = childOf(ns, k);
    const av = a[k];
    const bv = b[k];
    if (node === undefined) continue;
    if (
      isOptionDeclaration(av) !== isOptionDeclaration(bv) ||
      (!isOptionDeclaration(bv) && !isAttrs(bv))
    )
      throw declsChanged(file, `\`${showPath(ns.loc.concat(k))}\``);
    if (node.kind === "opt") node.replaceDeclaration(av as object, bv as object);
    else replaceIn(node, av as Record<string, unknown>, bv as Record<string, unknown>, file);
  }
}

// ---------------------------------------------------------------------------------------------
// undeclared definitions

function allPaths(ns: NsNode, out: string[]): string[] {
  for (const c of ns.nodes) {
    out.push(showPath(c.loc));
    if (c.kind === "ns") allPaths(c, out);
  }
  return out;
}

function shownDefinition(d: RawDef, loc: string[]): string {
  try {
    return showValue(forceStructure(d, loc));
  } catch (e) {
    const cause = e instanceof ModuleError && e.cause !== undefined ? e.cause : e;
    return `<a value that throws: ${cause instanceof Error ? cause.message : String(cause)}>`;
  }
}

function undeclared(root: NsNode, loc: string[], defs: RawDef[]): ModuleError {
  const path = showPath(loc);
  const files = uniq(defs.map((d) => d.file));
  const shown = defs.map((d) => `${d.file} as ${shownDefinition(d, loc)}`).join(", ");
  const guesses = closeMatches(path, allPaths(root, []));
  const hint =
    guesses.length === 0
      ? root.nodes.length === 0
        ? " No options are declared here; did you put the declarations under `config` instead of `options`?"
        : ""
      : ` Did you mean ${guesses.map((g) => `\`${g}\``).join(" or ")}?`;
  return new ModuleError(
    "UNDECLARED_OPTION",
    `The option \`${path}\` does not exist (defined in ${shown}).${hint}`,
    { optionPath: path, files },
  );
}

/** Fails on the first undeclared definition, unless `_module.check` is off. */
export function checkUndeclared(ev: Evaluation): void {
  const first = ev.undeclared?.[0];
  if (first === undefined || !ev.checkEnabled()) return;
  throw undeclared(ev.root, first.loc, first.defs);
}

// ---------------------------------------------------------------------------------------------
// freeform config

/** The freeform types of the modules, merged into one. */
export function mergeFreeformTypes(ev: Evaluation, mods: Loaded[]): void {
  // One freeform type is used as it is (as NixOS: a type is rebuilt only to merge it).
  let count = 0;
  for (const m of mods) if (m.freeformType && ++count === 1) ev.freeform = m.freeformType;
  if (count <= 1) return;
  ev.freeform = undefined;
  for (const m of mods) {
    const own = m.freeformType;
    if (!own) continue;
    // Inline submodules of the type were declared by this module: their options say so.
    const type = own.withDeclarationFile?.(m.file) ?? own;
    if (!ev.freeform) ev.freeform = type;
    else {
      const merged: OptionType | undefined = ev.freeform.mergeType?.(type);
      if (!merged) {
        throw new ModuleError(
          "DECLARATION_CONFLICT",
          `The freeformType of ${m.file} (\`${own.description}\`) conflicts with another module's (\`${ev.freeform.description}\`).`,
          { files: [m.file] },
        );
      }
      ev.freeform = merged;
    }
  }
}

function nestDef(rel: string[], def: RawDef): RawDef {
  const last = rel[rel.length - 1] as string;
  let obj: Record<string, unknown> = {};
  if (def.get !== undefined) {
    const d = def;
    Object.defineProperty(obj, last, {
      get: () => forceStructure(d, rel),
      enumerable: true,
    });
  } else obj[last] = def.value;
  for (let i = rel.length - 2; i >= 0; i--) obj = { [rel[i] as string]: obj };
  return { file: def.file, value: obj };
}

function valueAt(ev: Evaluation, rel: string[]): unknown {
  let v = (ev.freeformValue as FnThunk<unknown>).force();
  for (const k of rel) v = (v as Record<string, unknown> | undefined)?.[k];
  return v;
}

function addFreeformKeys(ev: Evaluation, ns: NsNode): void {
  for (const name of ns.freeformKeys ?? []) {
    const rel = pathTo(ns.rel, name);
    Object.defineProperty(ns.config, name, {
      get: () => valueAt(ev, rel),
      enumerable: true,
      configurable: true,
    });
  }
  for (const c of ns.nodes) if (c.kind === "ns") addFreeformKeys(ev, c);
}

/** Drops keys whose every definition is disabled (`mkIf false`): the merged value has no such key. */
function dropAbsentKeys(ev: Evaluation, ns: NsNode): void {
  for (const name of ns.freeformKeys ?? []) {
    const parent =
      ns.rel.length === 0 ? (ev.freeformValue as FnThunk<unknown>).force() : valueAt(ev, ns.rel);
    if (isAttrs(parent) && !Object.hasOwn(parent, name)) delete ns.config[name];
  }
  for (const c of ns.nodes) if (c.kind === "ns") dropAbsentKeys(ev, c);
}

/**
 * Adds the keys of the merged freeform value `value` to the config of `ns` (declared options
 * win; nested namespaces are joined), for a freeform type whose own `merge` may make keys of
 * its choosing: its value is merged here, as NixOS does to list config's keys.
 */
function addMergedKeys(ns: NsNode, value: unknown): void {
  if (!isAttrs(value)) return;
  for (const name of Object.keys(value)) {
    const child = childOf(ns, name);
    if (child?.kind === "ns") addMergedKeys(child, value[name]);
    else if (child === undefined)
      Object.defineProperty(ns.config, name, {
        get: () => value[name],
        enumerable: true,
        configurable: true,
      });
  }
}

/** Adds the freeform keys to config, once every definition is known. */
export function freeformAfterDefinitions(ev: Evaluation): void {
  const ff = ev.freeform;
  const unmatched = ev.unmatched;
  if (!ff || !unmatched || unmatched.length === 0) return;
  const prefix = ev.prefix;
  ev.freeformValue = new FnThunk(
    prefix,
    () =>
      mergeDefinitions(
        prefix,
        ff,
        unmatched.map((u) => nestDef(u.rel, u.def)),
      ).value(),
    () => uniq(unmatched.map((u) => u.def.file)),
  );
  if (hasOwnMerge(ff)) {
    addMergedKeys(ev.root, (ev.freeformValue as FnThunk<unknown>).force());
    return;
  }
  addFreeformKeys(ev, ev.root);
  // Which keys exist depends on mkIf conditions: Nix evaluates them as soon as config is used.
  if (unmatched.some((u) => u.def.get !== undefined || isProperty(u.def.value)))
    dropAbsentKeys(ev, ev.root);
}
