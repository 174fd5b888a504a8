/** Kubernetes objects as files: `all.yaml`, one file per object and `kustomization.yaml`. */
import type { Artifact } from "@nix2dream/core";

/** The multi-document file holding every object. */
export const ALL_FILE = "all.yaml";
/** The kustomization listing the per-object files. */
export const KUSTOMIZATION_FILE = "kustomization.yaml";

interface Named {
  kind: string;
  metadata?: { name?: string } | undefined;
}

/**
 * Strings written plain (unquoted): no leading character YAML gives a meaning to, only
 * characters that are never syntax inside a plain scalar (`:` only when no space or end follows
 * it), and no word that YAML 1.1 (which
 * kubectl's parser speaks) reads as a boolean or null. Everything else is double-quoted.
 */
const PLAIN = /^[A-Za-z_/][-A-Za-z0-9_./=,@+%: ]*$/;
const YAML11_WORDS = /^(y|n|yes|no|true|false|on|off|null)$/i;
/** Characters JSON leaves raw that YAML must see escaped (non-printable or line breaks in YAML 1.1). */
const YAML_ESCAPE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

function scalar(s: string): string {
  if (
    PLAIN.test(s) &&
    !s.endsWith(" ") &&
    !s.endsWith(":") &&
    !s.includes(": ") &&
    // Every YAML 1.1 word is at most 5 characters long: no regex for longer strings.
    (s.length > 5 || !YAML11_WORDS.test(s))
  ) {
    return s;
  }
  return JSON.stringify(s).replace(
    YAML_ESCAPE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

// Keys repeat in every object (`apiVersion`, `metadata`, `name`, ...): their text is kept, with
// the `: ` or `:` and line break after it, and the whole line start per nesting depth.
const CACHE_LIMIT = 10_000;

interface KeyText {
  /** `key: `, before a scalar. */
  scalar: string;
  /** `key:` and a line break, before a collection. */
  collection: string;
  /** The same indented for each depth, made when first used. */
  scalarAt: string[];
  collectionAt: string[];
}
const keyTexts = new Map<string, KeyText>();

function keyText(k: string): KeyText {
  let out = keyTexts.get(k);
  if (out === undefined) {
    const s = scalar(k);
    out = { scalar: `${s}: `, collection: `${s}:\n`, scalarAt: [], collectionAt: [] };
    if (keyTexts.size < CACHE_LIMIT) keyTexts.set(k, out);
  }
  return out;
}

/** `text` after the indentation of `depth`, kept in `cache` by depth. */
function indented(cache: string[], depth: number, text: string): string {
  let out = cache[depth];
  if (out === undefined) {
    out = `${"  ".repeat(depth)}${text}`;
    cache[depth] = out;
  }
  return out;
}

// A list item's start (`- ` after the indentation, or after the start of the item it is in).
const dashesAt: string[] = [];
const dashesAfter = new Map<string, string>();

function dashAfter(lead: string): string {
  let out = dashesAfter.get(lead);
  if (out === undefined) {
    out = `${lead}- `;
    if (dashesAfter.size < CACHE_LIMIT) dashesAfter.set(lead, out);
  }
  return out;
}

/**
 * True for a non-empty array or an object with an own enumerable key whose value is defined:
 * `undefined` values are left out, so an object holding only those is written `{}` (as JSON
 * drops them), not as a key with nothing under it (which reads back as null).
 */
function isCollection(v: unknown): v is object {
  if (typeof v !== "object" || v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  // No Object.keys array just to test for one key: this runs for every value written.
  for (const k in v) {
    if (Object.hasOwn(v, k) && (v as Record<string, unknown>)[k] !== undefined) return true;
  }
  return false;
}

function inline(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return scalar(v);
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return "[]";
  return "{}";
}

/**
 * Appends the text of `value` in block style at nesting `depth` to `out`, in pieces (joined once
 * per document: no string per line); the first line starts with `lead` instead of the
 * indentation when given (the `- ` of a list item, the same width), so no line is rewritten.
 * Returns false, having written nothing, for an empty list or a set without a defined value.
 */
function block(value: object, depth: number, lead: string | null, out: string[]): boolean {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const dash = i === 0 && lead !== null ? dashAfter(lead) : indented(dashesAt, depth, "- ");
      // A collection is written as a block when it has anything in it, else inline (`[]`, `{}`):
      // tried as a block first, rather than testing for a defined key before writing it.
      if (typeof item === "object" && item !== null && block(item, depth + 1, dash, out)) continue;
      out.push(dash, inline(item), "\n");
    }
    return value.length > 0;
  }
  const record = value as Record<string, unknown>;
  let first = lead;
  let wrote = false;
  for (const k of Object.keys(record)) {
    const v = record[k];
    if (v === undefined) continue;
    const key = keyText(k);
    const start = first;
    first = null;
    wrote = true;
    if (typeof v === "object" && v !== null) {
      const mark = out.length;
      if (start !== null) out.push(start, key.collection);
      else out.push(indented(key.collectionAt, depth, key.collection));
      if (block(v, depth + 1, null, out)) continue;
      out.length = mark;
    }
    if (start !== null) out.push(start, key.scalar);
    else out.push(indented(key.scalarAt, depth, key.scalar));
    out.push(inline(v), "\n");
  }
  return wrote;
}

/**
 * One object as a YAML document, for kubectl's YAML 1.1 parser as much as for YAML 1.2 ones:
 * strings are plain only when no YAML version can read them as anything else (`yes`, `on`,
 * `0644`, `~`, `1e3` are double-quoted), every other string is double-quoted with escapes, so
 * values (newlines, quotes, `$()`, unicode) come back byte for byte. Block style, two-space
 * indent, keys in the object's order; no anchors, no folding.
 */
export function toYaml(object: unknown): string {
  if (!isCollection(object)) return `${inline(object)}\n`;
  const out: string[] = [];
  block(object, 0, null, out);
  return out.join("");
}

/** Every object as one multi-document YAML stream (`---` between documents). */
export function toYamlStream(objects: readonly unknown[]): string {
  return objects.map(toYaml).join("---\n");
}

/** `<kind>-<name>.yaml`, lower case, made unique against `taken`. */
function fileNameOf(o: Named, taken: Set<string>): string {
  const base = `${o.kind}-${o.metadata?.name ?? "unnamed"}`
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-");
  let name = `${base}.yaml`;
  for (let i = 2; taken.has(name) || name === ALL_FILE || name === KUSTOMIZATION_FILE; i++) {
    name = `${base}-${i}.yaml`;
  }
  taken.add(name);
  return name;
}

/** The artifacts of a set of objects: `all.yaml`, `<kind>-<name>.yaml` each, `kustomization.yaml`. */
export function manifestFiles(objects: readonly Named[]): Artifact[] {
  const taken = new Set<string>();
  const { all, documents } = yamlStream(objects);
  const each: Artifact[] = objects.map((o, i) => ({
    path: fileNameOf(o, taken),
    content: documents[i] as string,
  }));
  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: each.map((a) => a.path),
  };
  return [
    { path: ALL_FILE, content: all },
    ...each,
    { path: KUSTOMIZATION_FILE, content: toYaml(kustomization) },
  ];
}

/** One object of {@link manifestFilesOf}: its kind and name (for its file name) and its YAML. */
export interface ManifestDocument extends Named {
  text: string;
}

/** The document of `object`, for {@link manifestFilesOf}: the object itself is not kept. */
export function manifestDocument(object: Named): ManifestDocument {
  const name = object.metadata?.name;
  return {
    kind: object.kind,
    metadata: object.metadata === undefined ? undefined : { name },
    text: toYaml(object),
  };
}

/** {@link manifestFiles} of objects already written as YAML, in the same order. */
export function manifestFilesOf(documents: readonly ManifestDocument[]): Artifact[] {
  const taken = new Set<string>();
  const each: Artifact[] = documents.map((d) => ({ path: fileNameOf(d, taken), content: d.text }));
  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: each.map((a) => a.path),
  };
  return [
    { path: ALL_FILE, content: documents.map((d) => d.text).join("---\n") },
    ...each,
    { path: KUSTOMIZATION_FILE, content: toYaml(kustomization) },
  ];
}

/** About how many pieces are joined at a time (whole documents). */
const CHUNK_PIECES = 8192;

/**
 * The stream of `objects` (the text {@link toYamlStream} writes) and each document's text: the
 * pieces of many documents are joined at once and each document is a slice of that text, rather
 * than each document joined alone and copied again into the stream.
 */
function yamlStream(objects: readonly unknown[]): { all: string; documents: string[] } {
  const chunks: string[] = [];
  const documents: string[] = [];
  let pieces: string[] = [];
  // The first and past-the-end piece of each document in `pieces`.
  let bounds: number[] = [];
  const flush = () => {
    const text = pieces.join("");
    let offset = 0;
    let at = 0;
    for (let d = 0; d < bounds.length; d += 2) {
      const start = bounds[d] as number;
      const end = bounds[d + 1] as number;
      for (; at < start; at++) offset += (pieces[at] as string).length;
      let length = 0;
      for (; at < end; at++) length += (pieces[at] as string).length;
      documents.push(text.slice(offset, offset + length));
      offset += length;
    }
    chunks.push(text);
    pieces = [];
    bounds = [];
  };
  objects.forEach((o, i) => {
    if (i > 0) pieces.push("---\n");
    bounds.push(pieces.length);
    if (isCollection(o)) block(o, 0, null, pieces);
    else pieces.push(inline(o), "\n");
    bounds.push(pieces.length);
    if (pieces.length >= CHUNK_PIECES) flush();
  });
  if (pieces.length > 0) flush();
  return { all: chunks.join(""), documents };
}
