/**
 * Golden files: a render's expected output kept as files beside the tests, reviewed like code.
 * `UPDATE_GOLDEN=1` rewrites them from the current render.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { serialize } from "node:v8";
import type { Artifact, Diagnostic } from "@nix2dream/core";
import { expect, it } from "vitest";
import { artifactText } from "./artifacts.js";

/** The files below `dir`, as sorted paths relative to it. */
export function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((p) => statSync(join(dir, p)).isFile())
    .map((p) => relative(dir, join(dir, p)))
    .sort();
}

/** What a golden directory holds for a render: each artifact's text, and `diagnostics.json`. */
export function goldenFiles(
  artifacts: readonly Artifact[],
  diagnostics: readonly Diagnostic[],
): Map<string, string> {
  const files = new Map(artifacts.map((a) => [a.path, artifactText(a)]));
  files.set("diagnostics.json", `${JSON.stringify(diagnostics, null, 2)}\n`);
  return files;
}

/** Options of {@link goldenTests}. */
export interface GoldenTestOptions {
  /** Also check that the directory holds exactly these files, no more (default true). */
  exactSet?: boolean;
}

/**
 * Registers the golden tests of `files` against the directory `dir` (call it inside a
 * `describe`): one byte-for-byte test per file and, unless `exactSet` is false, one that the
 * directory holds exactly these files. Under `UPDATE_GOLDEN=1` it rewrites the files first.
 */
export function goldenTests(
  dir: URL | string,
  files: ReadonlyMap<string, string>,
  opts: GoldenTestOptions = {},
): void {
  const golden = typeof dir === "string" ? dir : fileURLToPath(dir);
  if (process.env.UPDATE_GOLDEN) {
    for (const [path, content] of files) {
      mkdirSync(dirname(join(golden, path)), { recursive: true });
      writeFileSync(join(golden, path), content);
    }
  }
  const paths = [...files.keys()].sort();
  if (opts.exactSet ?? true) {
    it("renders exactly the golden set of files", () => {
      expect(listFiles(golden)).toEqual(paths);
    });
  }
  it.each(paths)("renders %s byte for byte", (path) => {
    expect(files.get(path)).toBe(readFileSync(join(golden, path), "utf8"));
  });
  it("holds each Latin-1 file one byte a character in memory", () => {
    const twoByte = paths.filter((p) => {
      const text = files.get(p) ?? "";
      return LATIN1.test(text) && heldTwoBytesACharacter(text);
    });
    expect(twoByte).toEqual([]);
  });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: every Latin-1 character, controls too
const LATIN1 = /^[\u0000-\u00ff]*$/;

/**
 * Whether V8 holds `text` two bytes a character. A string built from a slice of a string with
 * one character above U+00FF (a reference token's private-use mark, say) stays two-byte although
 * all its characters are Latin-1: twice the memory to join, copy and write (ARCHITECTURE.md,
 * "Rendered text stays one byte a character"). V8's serializer writes a string with the tag of
 * how it is held: `"` one-byte, `c` two-byte, after the 0xFF header and the format version.
 */
export function heldTwoBytesACharacter(text: string): boolean {
  const bytes = serialize(text);
  let i = 1;
  while (bytes[i] !== undefined && (bytes[i] as number) >= 0x80) i++; // the version, a varint
  const tag = bytes[i + 1];
  if (tag !== 0x22 && tag !== 0x63) {
    throw new Error(`unexpected V8 serializer tag ${tag} for a string (header ${bytes[0]})`);
  }
  return tag === 0x63;
}
