import type { z } from "zod";
import { showPath } from "./errors.js";
import type { OptionType } from "./types.js";
import { zod } from "./zod.js";

/** One entry of {@link optionsDocs}. */
export interface OptionDoc {
  /** Full path; `attrsOf submodule` entries show as `<name>`, `listOf submodule` as `*`. */
  path: string;
  /** Type description, e.g. `attribute set of (submodule)`. */
  type: string;
  default?: unknown;
  defaultText?: string;
  example?: unknown;
  description: string;
  /** Files declaring the option. */
  declarations: string[];
  readOnly: boolean;
  internal: boolean;
  visible: boolean | "shallow";
}

interface OptionObj {
  _type: "option";
  loc: string[];
  type: OptionType;
  description?: string;
  defaultText?: string;
  example?: unknown;
  declarations: string[];
  readOnly: boolean;
  internal: boolean;
  visible: boolean | "shallow";
}

function isOptionObj(v: unknown): v is OptionObj {
  return (
    typeof v === "object" &&
    v !== null &&
    (v as { _type?: unknown })._type === "option" &&
    "loc" in v
  );
}

const MAX_DEPTH = 32;

/**
 * Lists every option of an `options` tree (from `evalModules`) for documentation, sorted by
 * path, including the sub-options of submodule types. An option hidden with `visible: false`
 * is listed (with `visible: false`) but its sub-options are not. Sub-options of an internal
 * option are internal too.
 */
export function optionsDocs(options: unknown): OptionDoc[] {
  const out: OptionDoc[] = [];
  walkDocs(options, out, 0, false);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function walkDocs(tree: unknown, out: OptionDoc[], depth: number, internal: boolean): void {
  if (typeof tree !== "object" || tree === null || depth > MAX_DEPTH) return;
  if (isOptionObj(tree)) {
    const o = tree;
    const doc: OptionDoc = {
      path: showPath(o.loc),
      type: o.type.description,
      description: o.description ?? "",
      declarations: [...o.declarations],
      readOnly: o.readOnly,
      internal: internal || o.internal,
      visible: o.visible,
    };
    if ((o as { hasDefault?: boolean }).hasDefault) {
      try {
        doc.default = (o as { default?: unknown }).default;
      } catch {
        // A default computed from other options cannot be shown without a config.
      }
    }
    if (o.defaultText !== undefined) doc.defaultText = o.defaultText;
    if ((o as { hasExample?: boolean }).hasExample) doc.example = o.example;
    out.push(doc);
    if (o.visible === true) {
      let subs: unknown;
      try {
        subs = o.type.getSubOptions?.(o.loc);
      } catch {
        subs = undefined;
      }
      if (subs) walkDocs(subs, out, depth + 1, doc.internal);
    }
    return;
  }
  for (const k of Object.keys(tree))
    walkDocs((tree as Record<string, unknown>)[k], out, depth, internal);
}

/** What each undeclared key of a freeform module holds: the element type of `attrsOf X`. */
function freeformValue(freeform: OptionType): z.ZodType {
  const elem = (freeform as { nestedTypes?: { elemType?: OptionType } }).nestedTypes?.elemType;
  return elem ? elem.zod : zod().any();
}

/** Whether an option must be defined: it has no default (and so no value without a definition). */
function isRequired(o: OptionObj): boolean {
  return !(o as { hasDefault?: boolean }).hasDefault && !o.internal;
}

/**
 * @internal A zod object schema of an options tree: keys no option declares are refused (or,
 * with a `freeform` type, checked against it); options without a default are required.
 */
export function optionsToZod(tree: unknown, freeform?: OptionType): z.ZodType {
  if (isOptionObj(tree)) {
    let s: z.ZodType = tree.type.zod;
    const meta: Record<string, unknown> = {};
    if (tree.description) meta.description = tree.description;
    if ((tree as { hasDefault?: boolean }).hasDefault) {
      try {
        const d = (tree as { default?: unknown }).default;
        if (isJsonValue(d, 0)) meta.default = d;
      } catch {
        // Defaults that read config are not representable.
      }
    }
    if (Object.keys(meta).length) s = s.meta(meta);
    return isRequired(tree) ? s : s.optional();
  }
  const shape: Record<string, z.ZodType> = {};
  let required = false;
  if (typeof tree === "object" && tree !== null) {
    for (const k of Object.keys(tree)) {
      if (k === "_module") continue;
      const sub = (tree as Record<string, unknown>)[k];
      shape[k] = optionsToZod(sub);
      if (!isOptionalSchema(shape[k])) required = true;
    }
  }
  const object = freeform
    ? zod().object(shape).catchall(freeformValue(freeform))
    : zod().strictObject(shape);
  // A namespace holding a required option is required itself.
  return required ? object : object.optional();
}

/**
 * @internal Whether a zod schema is `.optional()`, read from its definition rather than by
 * `instanceof`: a type's schema may come from the caller's own copy of zod, not from ours.
 */
export function isOptionalSchema(s: z.ZodType): s is z.ZodOptional<z.ZodType> {
  return (s as { _zod?: { def?: { type?: string } } })._zod?.def?.type === "optional";
}

function isJsonValue(v: unknown, depth: number): boolean {
  if (depth > 20) return false;
  if (v === null || typeof v === "string" || typeof v === "boolean") return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isJsonValue(x, depth + 1));
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.values(v).every((x) => isJsonValue(x, depth + 1));
  }
  return false;
}

/**
 * The JSON Schema (draft 2020-12) of a config with these options, built from each option
 * type's zod schema: unknown keys are refused (`additionalProperties: false`, but for a
 * submodule's freeform type), options without a default are `required`. Functions and other
 * values JSON cannot describe become `{}`.
 */
export function optionsJsonSchema(options: unknown): Record<string, unknown> {
  let schema = optionsToZod(options);
  if (isOptionalSchema(schema)) schema = schema.unwrap() as z.ZodType;
  return zod().toJSONSchema(schema, {
    target: "draft-2020-12",
    unrepresentable: "any",
    io: "input",
  }) as Record<string, unknown>;
}
