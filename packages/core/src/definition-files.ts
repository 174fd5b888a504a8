/**
 * Which files defined each option of an evaluation: gathered per options tree while the
 * evaluation is at hand, flattened into the deployment's `definitionFiles` record only when
 * something reads that record, and asked by path array (names with dots stay one name) by
 * {@link definitionFilesAt}.
 */
import type { SubmoduleInstance } from "@nix2dream/modules";
import type { EvaluatedDeployment } from "./deployment.js";

interface OptionLike {
  _type: "option";
  loc: string[];
  definitionFiles: string[];
  hasDefault: boolean;
  default: unknown;
  type: { name: string; nestedTypes?: Record<string, { name: string }> };
  definitionsWithLocations: Array<{ file: string; value: unknown }>;
}

/**
 * One option with a definition (or a default with keys): its full path as the engine keeps it
 * (not joined: most are never asked for), its defining files, and for an attribute-set option
 * the files that defined each key (see {@link keysOf}).
 */
interface DefinedOption {
  loc: readonly string[];
  /** Empty when only keys of its default are recorded. */
  files: string[];
  /**
   * An attribute-set option's winning definitions until its keys are first asked for, then the
   * files of each key: most are never asked for, and the definitions are kept alive anyway.
   */
  keys: Map<string, string[]> | WinningDefs | undefined;
}

type WinningDefs = OptionLike["definitionsWithLocations"];

/** The files that defined each key of `o` (an attribute-set option), worked out on first call. */
function keysOf(o: DefinedOption): Map<string, string[]> | undefined {
  if (o.keys === undefined || o.keys instanceof Map) return o.keys;
  const keys = keyFiles(o.keys);
  o.keys = keys;
  return keys;
}

function isSetType(t: OptionLike["type"]): boolean {
  const final = t.name === "coercedTo" ? t.nestedTypes?.finalType : t;
  return final?.name === "attrsOf" || final?.name === "lazyAttrsOf";
}

function isOption(v: unknown): v is OptionLike {
  return typeof v === "object" && v !== null && (v as { _type?: unknown })._type === "option";
}

/** Whether `v` is an object with keys, not a list (an attribute set, or a property around one). */
function hasKeys(v: unknown): boolean {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  for (const _ in v) return true;
  return false;
}

/** The winning definitions of an attribute-set option (env, ports, ...), as the engine gives them. */
function winningDefs(option: OptionLike): WinningDefs {
  try {
    return option.definitionsWithLocations;
  } catch {
    // A definition that cannot be discharged is reported when the value is forced.
    return [];
  }
}

/** Which files defined each key, in definition order. */
function keyFiles(defs: WinningDefs): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const d of defs) {
    if (typeof d.value !== "object" || d.value === null || Array.isArray(d.value)) continue;
    for (const k of Object.keys(d.value)) {
      const list = byKey.get(k);
      if (list === undefined) byKey.set(k, [d.file]);
      else if (!list.includes(d.file)) list.push(d.file);
    }
  }
  return byKey;
}

/** The option's entry, or undefined when it has nothing to record. */
function definedOption(option: OptionLike): DefinedOption | undefined {
  // Every defining file, winning or not (`files` has only the winning ones, as NixOS). A fresh
  // list on every read: kept as it is.
  const files = option.definitionFiles;
  // Without definitions the only winning one is the default: its keys can only matter when
  // it has some. (Reading the type and the winning definitions costs; most options are unset.)
  if (files.length === 0 && !(option.hasDefault && hasKeys(option.default))) return undefined;
  if (!isSetType(option.type))
    return files.length === 0 ? undefined : { loc: option.loc, files, keys: undefined };
  const defs = winningDefs(option);
  if (files.length > 0) return { loc: option.loc, files, keys: defs };
  // Only the default's keys (rare): kept only when it has some.
  const keys = keyFiles(defs);
  return keys.size === 0 ? undefined : { loc: option.loc, files, keys };
}

/** Every option of an options tree (the root evaluation's), nested option sets walked. */
function collectTree(tree: unknown, out: DefinedOption[]): void {
  if (typeof tree !== "object" || tree === null) return;
  if (isOption(tree)) {
    const d = definedOption(tree);
    if (d) out.push(d);
    return;
  }
  for (const k of Object.keys(tree)) collectTree((tree as Record<string, unknown>)[k], out);
}

/** A path as a key no other path shares (names may hold dots, never a NUL). */
const pathKey = (path: readonly string[]): string => path.join("\0");

/**
 * The defined options of one evaluation: the root options tree's and each tracked submodule
 * instance's (a service, a plugin's option set), by the instance's path. Holds the few fields it
 * needs, not the instances: an instance keeps its whole lazy evaluation alive.
 */
export class DefinitionIndex {
  readonly #root: DefinedOption[] = [];
  /** Instance path key → its defined options; the last instance at a path wins. */
  readonly #instances = new Map<string, DefinedOption[]>();
  #flat: Record<string, string[]> | undefined;
  /** Dotted instance path → the instances there with their place in collection order. */
  #dotted: Map<string, DottedInstance[]> | undefined;
  /** True while the deployment's `definitionFiles` is still this index's record, unread. */
  unread = true;

  constructor(rootOptions: unknown, instances: Iterable<SubmoduleInstance>) {
    collectTree(rootOptions, this.#root);
    for (const instance of instances) {
      const out: DefinedOption[] = [];
      instance.forEachOption((o) => {
        const d = definedOption(o as unknown as OptionLike);
        if (d) out.push(d);
      });
      this.#instances.set(pathKey(instance.loc), out);
    }
  }

  /**
   * The record of `EvaluatedDeployment.definitionFiles`: dotted path → files, keys sorted; built
   * on first call. Dotted keys are ambiguous when a name holds a dot (two paths, one key: the
   * later in evaluation order wins), which is why {@link filesAt} exists.
   */
  flat(): Record<string, string[]> {
    if (this.#flat) return this.#flat;
    const entries: Array<[string, string[]]> = [];
    const add = (options: DefinedOption[]) => {
      for (const o of options) {
        const at = o.loc.join(".");
        if (o.files.length > 0) entries.push([at, o.files]);
        const keys = keysOf(o);
        if (keys) for (const [k, files] of keys) entries.push([`${at}.${k}`, files]);
      }
    };
    add(this.#root);
    for (const options of this.#instances.values()) add(options);
    // Stable, and mostly sorted runs already (instances are forced in key order).
    entries.sort(byPath);
    const sorted: Record<string, string[]> = {};
    for (const [path, files] of entries) sorted[path] = files;
    this.#flat = sorted;
    return sorted;
  }

  /**
   * `flat()[key]` without building the record: the entry whose dotted path is `key`; when several
   * are (names with dots), the last in collection order, as the record keeps it.
   */
  filesOfDotted(key: string): string[] | undefined {
    // Instances are collected after the root options tree, so an instance's entry wins over the
    // root's: the root is asked only when no instance answers (a diagnostic on a service's
    // option never asks it, where it used to look `svc.option` up among all service names).
    let best: string[] | undefined;
    let bestAt = -1;
    const dotted = this.#dottedInstances();
    for (let i = key.indexOf("."); i >= 0; i = key.indexOf(".", i + 1)) {
      const here = dotted.get(key.slice(0, i));
      if (here === undefined) continue;
      const rest = key.slice(i + 1);
      for (const inst of here) {
        const files = filesBelow(inst, rest);
        if (files !== undefined && inst.at >= bestAt) {
          best = files;
          bestAt = inst.at;
        }
      }
    }
    if (best !== undefined) return best;
    for (const o of this.#root) {
      const files = dottedMatch(o, 0, key);
      if (files !== undefined) best = files;
    }
    return best;
  }

  #dottedInstances(): Map<string, DottedInstance[]> {
    if (this.#dotted) return this.#dotted;
    const dotted = new Map<string, DottedInstance[]>();
    let at = 0;
    for (const [k, options] of this.#instances) {
      // The dotted path and the number of names, without an array of the names (10 000
      // instances at 5000 services, on the first diagnostic of a render).
      const key = k.replaceAll("\0", ".");
      let depth = 1;
      for (let i = k.indexOf("\0"); i >= 0; i = k.indexOf("\0", i + 1)) depth++;
      const list = dotted.get(key);
      const inst: DottedInstance = {
        at: at++,
        depth,
        options,
        walked: 0,
        byRest: undefined,
      };
      if (list) list.push(inst);
      else dotted.set(key, [inst]);
    }
    this.#dotted = dotted;
    return dotted;
  }

  /**
   * The files that defined the option (or the key of an attribute-set option) at `path`; empty
   * when none did. The innermost tracked instance whose path starts `path` answers, else the
   * root options tree.
   */
  filesAt(path: readonly string[]): string[] {
    for (let n = path.length - 1; n > 0; n--) {
      const options = this.#instances.get(pathKey(path.slice(0, n)));
      if (options) return filesIn(options, path);
    }
    return filesIn(this.#root, path);
  }
}

/** An instance by its dotted path: its place in collection order and its options. */
interface DottedInstance {
  at: number;
  depth: number;
  options: DefinedOption[];
  /** How many options lookups have walked so far (see {@link filesBelow}). */
  walked: number;
  /** Dotted path below the instance → files, built once walking has cost enough. */
  byRest: Map<string, string[]> | undefined;
}

/** How many options lookups of one instance walk before its index is built instead. */
const WALK_BUDGET = 1024;

/**
 * The files recorded under the dotted path `rest` below `inst` (the later option wins, as in
 * {@link restIndex}). Renderers ask a service two or three paths (one per diagnostic and its
 * enclosing options): walking its dozen options for those costs less than indexing them all
 * (a Map and a joined path per option, for every service), and the walk reads no joined or
 * hashed text. The index is built once walks of the instance have cost more than building it
 * would (many renders of the same deployment, or an instance of many options asked often).
 */
function filesBelow(inst: DottedInstance, rest: string): string[] | undefined {
  if (inst.byRest === undefined) {
    inst.walked += inst.options.length;
    if (inst.walked > WALK_BUDGET) inst.byRest = restIndex(inst.options, inst.depth);
  }
  if (inst.byRest !== undefined) return inst.byRest.get(rest);
  let best: string[] | undefined;
  for (const o of inst.options) {
    const files = dottedMatch(o, inst.depth, rest);
    if (files !== undefined) best = files;
  }
  return best;
}

/**
 * What {@link dottedMatch} answers for each `rest` among `options`, as one map (the later option
 * wins where two paths join to the same dotted text): one lookup per question instead of a walk
 * of the instance's options, for renderers that ask several paths of every service.
 */
function restIndex(options: DefinedOption[], depth: number): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const o of options) {
    const own = o.loc.slice(depth).join(".");
    if (o.files.length > 0) out.set(own, o.files);
    const keys = keysOf(o);
    if (keys) for (const [k, files] of keys) out.set(own === "" ? k : `${own}.${k}`, files);
  }
  return out;
}

/**
 * The files `o` records under the dotted path `rest` (its path after its first `depth` names):
 * its own, or a key's; undefined when neither is `rest`. Compares name by name, joins nothing.
 */
function dottedMatch(o: DefinedOption, depth: number, rest: string): string[] | undefined {
  let pos = 0;
  for (let i = depth; i < o.loc.length; i++) {
    const name = o.loc[i] as string;
    if (i > depth) {
      if (rest.charCodeAt(pos) !== 46 /* . */) return undefined;
      pos++;
    }
    if (!rest.startsWith(name, pos)) return undefined;
    pos += name.length;
  }
  if (pos === rest.length) return o.files.length > 0 ? o.files : undefined;
  if (o.keys === undefined || (pos > 0 && rest.charCodeAt(pos) !== 46)) return undefined;
  return keysOf(o)?.get(rest.slice(pos > 0 ? pos + 1 : pos));
}

const byPath = (a: [string, string[]], b: [string, string[]]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;

function samePath(a: readonly string[], b: readonly string[], length: number): boolean {
  if (a.length !== length) return false;
  for (let i = length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

/** The files of `path` among `options`: an option's own, or a key's of its parent option. */
function filesIn(options: DefinedOption[], path: readonly string[]): string[] {
  for (const o of options) {
    if (o.files.length > 0 && samePath(o.loc, path, path.length)) return [...o.files];
    if (o.keys && samePath(o.loc, path, path.length - 1)) {
      const files = keysOf(o)?.get(path[path.length - 1] as string);
      if (files) return [...files];
    }
  }
  return [];
}

/**
 * Where an evaluated deployment keeps its index (a global symbol, so every copy of core finds
 * it; not enumerable, so the deployment's keys, its JSON and its comparisons do not see it).
 */
const INDEX: unique symbol = Symbol.for("nix2dream.core.definitionIndex") as never;

/**
 * Gives `deployment` its `definitionFiles` from `index`, built on first read (at 5000 services it
 * is 135 000 paths that most renders never look at), then an ordinary property.
 */
export function attachDefinitionFiles(deployment: object, index: DefinitionIndex): void {
  Object.defineProperty(deployment, INDEX, { value: index });
  Object.defineProperty(deployment, "definitionFiles", {
    get(this: object) {
      index.unread = false;
      const value = index.flat();
      Object.defineProperty(this, "definitionFiles", {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return value;
    },
    set(this: object, value: unknown) {
      index.unread = false;
      Object.defineProperty(this, "definitionFiles", {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    },
    enumerable: true,
    configurable: true,
  });
}

/**
 * `deployment.definitionFiles[key]`, read from the deployment's index while the record has not
 * been built (diagnostics of every renderer ask for a few paths of each service; the record is
 * 135 000 paths at 5000 services).
 */
export function definitionFilesByKey(
  deployment: Pick<EvaluatedDeployment, "definitionFiles">,
  key: string,
): string[] | undefined {
  const index = (deployment as { [INDEX]?: DefinitionIndex })[INDEX];
  if (index?.unread) return index.filesOfDotted(key);
  return deployment.definitionFiles[key];
}

/**
 * The deployment's `definitionFiles` for lookups by key (`view[key]`), without building the
 * record while it is unread: a read-only view over the deployment's index (listing its keys
 * builds the record). The record itself for any other deployment. Pass it where a
 * `definitionFiles` record is asked for a few keys (`diagnostic`, `refReporter`,
 * `entrypointScript`): at 5000 services the record is 135 000 paths to build.
 */
export function definitionFilesView(
  deployment: Pick<EvaluatedDeployment, "definitionFiles">,
): Readonly<Record<string, string[]>> {
  const index = (deployment as { [INDEX]?: DefinitionIndex })[INDEX];
  if (!index?.unread) return deployment.definitionFiles;
  const lookup = (key: string | symbol) =>
    typeof key === "string" ? definitionFilesByKey(deployment, key) : undefined;
  return new Proxy({} as Record<string, string[]>, {
    get: (_, key) => lookup(key),
    has: (_, key) => lookup(key) !== undefined,
    ownKeys: () => Reflect.ownKeys(deployment.definitionFiles),
    getOwnPropertyDescriptor: (_, key) => {
      const value = lookup(key);
      return value === undefined ? undefined : { value, enumerable: true, configurable: true };
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}

/**
 * The files that defined the option at `path`, given as its names
 * (`["services", "my.app", "restart"]`), or the files that defined that key of an attribute-set
 * option (`["services", "api", "env", "PORT"]`); empty when no file did. Unlike a lookup of
 * `definitionFiles` by dotted path, a name holding a dot is one name: a service named
 * `api.restart` does not make `services.api.restart` look defined. No fallback to an enclosing
 * option (see {@link definitionFilesOf} for that). A deployment not made by `evaluateDeployment`
 * (built by hand, or a copy) is read through its `definitionFiles`, by the names joined with dots.
 */
export function definitionFilesAt(
  deployment: Pick<EvaluatedDeployment, "definitionFiles">,
  path: readonly string[],
): string[] {
  const index = (deployment as { [INDEX]?: DefinitionIndex })[INDEX];
  if (index) return index.filesAt(path);
  const files = deployment.definitionFiles[path.join(".")];
  return files ? [...files] : [];
}
