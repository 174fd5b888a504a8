/**
 * `types.attrTag`: a value that is one of several tagged alternatives, written as an attribute
 * set with exactly one attribute, the tag (`{ left: 1 }` or `{ right: "x" }`). Each tag is an
 * option declaration (`mkOption`), so its value is checked, merged and defaulted as an option.
 */
import { kindOf, ModuleError, pathTo, showFiles, showPath, showValue } from "./errors.js";
import { defineThunks, FnThunk, isAttrs, mergeDefinitions, type RawDef } from "./merge.js";
import {
  declares,
  isOptionDeclaration,
  type MkOptionArgs,
  mkOption,
  type OptionDeclaration,
} from "./option.js";
import { type Definition, isOptionType, makeType, type OptionType, types } from "./types.js";

/** Where the declarations of a tag are said to come from (they carry no file of their own). */
const TAG_FILE = "<attrTag {...}>";

/** The tag declaration `name`, or a clear error when the tag is not an option declaration. */
function tagOption(tags: Record<string, unknown>, name: string, loc?: string[]): OptionDeclaration {
  const opt = tags[name];
  if (isOptionDeclaration(opt)) return opt;
  const what = isOptionType(opt)
    ? "was a bare type, not wrapped in mkOption"
    : `was ${showValue(opt)} (${kindOf(opt)})`;
  throw new ModuleError(
    "INVALID_MODULE",
    `In attrTag, each tag value must be an option, but tag ${name} ${what}: write \`${name}: mkOption({ type })\`${
      loc ? ` in the type of \`${showPath(loc)}\`` : ""
    }.`,
    loc ? { optionPath: showPath(loc) } : {},
  );
}

/** The single key of a tagged value (check has made sure there is exactly one). */
const tagOf = (v: unknown): string => Object.keys(v as object)[0] as string;

/** Merges the definitions of one tagged value: all must choose the same tag. */
function mergeTagged(
  tags: Record<string, unknown>,
  loc: string[],
  defs: Definition[],
): Record<string, unknown> {
  const choice = tagOf((defs[0] as Definition).value);
  const files = defs.map((d) => d.file);
  for (const d of defs) {
    const other = tagOf(d.value);
    if (other !== choice) {
      throw new ModuleError(
        "CONFLICTING_DEFINITIONS",
        `The option \`${showPath(loc)}\` is defined both as \`${choice}\` and \`${other}\`, in ${showFiles(files)}.`,
        { optionPath: showPath(loc), files },
      );
    }
  }
  const opt = tagOption(tags, choice, loc);
  const tloc = pathTo(loc, choice);
  // Definitions of the tag's option: each definition's only attribute, read lazily.
  const raw: RawDef[] = defs.map((d) => ({
    file: d.file,
    value: undefined,
    get: () => (d.value as Record<string, unknown>)[choice],
  }));
  const optionDefault: RawDef | undefined = declares(opt, "default")
    ? { file: TAG_FILE, value: opt.default, get: undefined }
    : undefined;
  const out: Record<string, unknown> = {};
  // Lazy, as in NixOS: a wrong value of the tag fails when it is read, naming `loc.<tag>`.
  defineThunks(out, [
    [
      choice,
      new FnThunk(tloc, () => {
        const merged = mergeDefinitions(tloc, opt.type ?? types.unspecified, raw, optionDefault);
        if (!merged.isDefined) {
          throw new ModuleError(
            "UNDEFINED_OPTION",
            `The option \`${showPath(tloc)}\` is used but not defined (in ${showFiles(files)}).`,
            { optionPath: showPath(tloc), files },
          );
        }
        const v = merged.value();
        return opt.apply ? (opt.apply as (x: unknown) => unknown)(v) : v;
      }),
    ],
  ]);
  return out;
}

/** The options of each tag, for documentation: `loc.<tag>` with the tag's declaration. */
function tagSubOptions(tags: Record<string, unknown>, loc: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(tags)) {
    const opt = tagOption(tags, name, loc);
    out[name] = {
      _type: "option",
      loc: pathTo(loc, name),
      type: opt.type ?? types.unspecified,
      description: opt.description,
      defaultText: opt.defaultText,
      hasDefault: declares(opt, "default"),
      default: opt.default,
      hasExample: declares(opt, "example"),
      example: opt.example,
      declarations: [TAG_FILE],
      readOnly: Boolean(opt.readOnly),
      internal: Boolean(opt.internal),
      visible: opt.visible ?? true,
    };
  }
  return out;
}

/** Two declarations of one tag, from two declarations of the attrTag: their types merged. */
function mergeTagDecls(a: OptionDeclaration, b: OptionDeclaration): OptionDeclaration | undefined {
  const ta = a.type ?? types.unspecified;
  const tb = b.type ?? types.unspecified;
  const type = ta.mergeType?.(tb);
  if (!type || (declares(a, "default") && declares(b, "default"))) return undefined;
  const from = declares(b, "default") ? b : a;
  const args: MkOptionArgs<unknown> = { type };
  if (declares(from, "default")) args.default = from.default as never;
  const description = a.description ?? b.description;
  if (description !== undefined) args.description = description;
  return mkOption(args);
}

/**
 * `types.attrTag({ tag: mkOption({ type }), ... })`: an attribute set with exactly one attribute,
 * one of the tags, whose value is that tag's option. Definitions of one value must all choose
 * the same tag. Two declarations of an option with `attrTag` types join their tags (a tag in
 * both merges its two option types).
 */
export function attrTag(tags: Record<string, unknown>): OptionType<Record<string, unknown>> {
  if (!isAttrs(tags)) {
    throw new ModuleError(
      "INVALID_MODULE",
      `types.attrTag expects an object of tags (each \`mkOption({ type })\`), got ${showValue(tags)} (${kindOf(tags)}).`,
    );
  }
  const names = Object.keys(tags);
  const self: OptionType<Record<string, unknown>> = makeType<Record<string, unknown>>({
    name: "attrTag",
    description: `attribute-tagged union of ${names.join(", ") || "nothing"}`,
    check: (v) => isAttrs(v) && Object.keys(v).length === 1 && Object.hasOwn(tags, tagOf(v)),
    explain: (v) =>
      isAttrs(v) && Object.keys(v).length !== 1
        ? `a tagged value has exactly one attribute, the tag (one of ${names.join(", ")})`
        : isAttrs(v)
          ? `\`${tagOf(v)}\` is not one of the tags (${names.join(", ")})`
          : undefined,
    merge: (loc, defs) => mergeTagged(tags, loc, defs),
    getSubOptions: (loc) => tagSubOptions(tags, loc),
    mergeType: (other) => {
      if (other.name !== "attrTag") return undefined;
      const theirs = (other as { tags?: Record<string, unknown> }).tags;
      if (!theirs) return undefined;
      const joined: Record<string, unknown> = { ...tags, ...theirs };
      for (const name of Object.keys(tags)) {
        if (!Object.hasOwn(theirs, name)) continue;
        const m = mergeTagDecls(tagOption(tags, name), tagOption(theirs, name));
        if (!m) return undefined;
        joined[name] = m;
      }
      return attrTag(joined);
    },
  });
  // The tags, for merging two declarations (read by `mergeType` of another attrTag).
  Object.defineProperty(self, "tags", { value: tags, enumerable: false });
  return self;
}
