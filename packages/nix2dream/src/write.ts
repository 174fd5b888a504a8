/**
 * Writing a renderer's artifacts to disk: atomically, with a manifest, removing only the stale
 * files a previous render wrote.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  constants as fsConstants,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  type Stats,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { access, readFile, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join } from "node:path";
import type { Artifact, ContentArtifact, HostFileArtifact } from "@nix2dream/core";
import { UserError } from "./errors.js";

/** Name of the manifest file kept in every output directory. */
export const MANIFEST_FILE = ".nix2dream-manifest.json";

/** One file recorded in the manifest. */
export interface ManifestEntry {
  /** Hex sha256 of the content as written. */
  sha256: string;
  /** Octal mode string, e.g. `"0755"`. */
  mode: string;
}

/** The manifest: what nix2dream wrote into a directory, so the next render can clean up after itself. */
export interface Manifest {
  version: 1;
  files: Record<string, ManifestEntry>;
}

/** What {@link writeArtifacts} did. */
export interface WriteResult {
  /** Absolute output directory. */
  dir: string;
  /** Every artifact path, sorted; each now holds the rendered content. */
  written: string[];
  /** Stale files from the previous render that were removed. */
  removed: string[];
  /** Stale files from the previous render that were kept because they changed since. */
  kept: string[];
}

/** Options of {@link writeArtifacts}. */
export interface WriteOptions {
  /** Who produced the artifacts (e.g. the renderer's name), for error messages. */
  owner?: string;
}

const DEFAULT_MODE = 0o644;

function sha256(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

function modeString(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
}

/** Why `path` is not a safe relative artifact path, or undefined when it is. */
function pathProblem(path: unknown): string | undefined {
  if (typeof path !== "string" || path === "") return "is empty or not a string";
  if (path.includes("\0")) return "contains a NUL byte";
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "is absolute";
  if (path.includes("\\")) return "contains a backslash (artifact paths are `/`-separated)";
  const segments = path.split("/");
  if (segments.includes("..")) return "escapes the output directory with `..`";
  if (segments.some((s) => s === "" || s === ".")) {
    return "is not normalised (empty or `.` segments)";
  }
  if (path === MANIFEST_FILE) return `is reserved for nix2dream's manifest`;
  return undefined;
}

/**
 * Throws a {@link UserError} (`ARTIFACT_PATH`) when an artifact path is absolute, escapes the
 * output directory, is not normalised, or is duplicated. Nothing is written; `render` and
 * `check` call this before touching the disk.
 */
export function checkArtifactPaths(artifacts: readonly Artifact[], owner?: string): void {
  const who = owner ? `The renderer \`${owner}\`` : "A renderer";
  const seen = new Set<string>();
  for (const artifact of artifacts) {
    const problem = pathProblem(artifact.path);
    if (problem) {
      throw new UserError(
        "ARTIFACT_PATH",
        `${who} produced the artifact path ${JSON.stringify(artifact.path)}, which ${problem}; ` +
          "artifact paths must be relative to the renderer's output directory. Nothing was written.",
      );
    }
    if (seen.has(artifact.path)) {
      throw new UserError(
        "ARTIFACT_PATH",
        `${who} produced the artifact \`${artifact.path}\` twice. Nothing was written.`,
      );
    }
    seen.add(artifact.path);
  }
  for (const path of seen) {
    const segments = path.split("/");
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join("/");
      if (seen.has(parent)) {
        throw new UserError(
          "ARTIFACT_PATH",
          `${who} produced both the file \`${parent}\` and \`${path}\` inside it. Nothing was written.`,
        );
      }
    }
  }
}

/** Reads the manifest of `dir`; a missing or unreadable manifest counts as empty (nothing is ours). */
export async function readManifest(dir: string): Promise<Manifest> {
  return readManifestSync(dir);
}

function readManifestSync(dir: string): Manifest {
  let text: string;
  try {
    text = readFileSync(join(dir, MANIFEST_FILE), "utf8");
  } catch {
    return { version: 1, files: {} };
  }
  try {
    const parsed = JSON.parse(text) as Partial<Manifest>;
    const files: Record<string, ManifestEntry> = {};
    for (const [path, entry] of Object.entries(parsed.files ?? {})) {
      // A tampered manifest must never make us delete outside the directory.
      if (pathProblem(path) === undefined && typeof entry?.sha256 === "string") files[path] = entry;
    }
    return { version: 1, files };
  } catch {
    return { version: 1, files: {} };
  }
}

/** What is at `path` (not following a symlink); null when nothing is there. */
function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) ?? null;
  } catch (err) {
    // ENOTDIR: a parent is a file, so nothing is at `path` (the parent is checked on its own).
    if ((err as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw err;
  }
}

function fileHash(path: string): string | null {
  try {
    return sha256(readFileSync(path));
  } catch {
    return null;
  }
}

/** How many host files {@link readHostFiles} reads (or {@link checkHostFiles} checks) at once. */
const CONCURRENCY = 32;

/** Runs `f` on every item, at most `limit` at a time; resolves when all are done. */
async function eachLimit<T>(
  items: readonly T[],
  limit: number,
  f: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await f(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Every proper parent directory of the artifact paths (`a/b/c` → `a`, `a/b`), sorted. */
function parentsOf(paths: readonly string[]): string[] {
  const out = new Set<string>();
  for (const path of paths) {
    for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) out.add(path.slice(0, i));
  }
  return [...out].sort();
}

/** `a/b/c` → `a/b`; `c` → "" (the output directory itself). */
function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** The manifest of `sorted`: each path's sha256 and mode. */
function manifestOf(sorted: readonly ContentArtifact[]): Manifest {
  const manifest: Manifest = { version: 1, files: {} };
  for (const artifact of sorted) {
    const mode = artifact.mode ?? DEFAULT_MODE;
    manifest.files[artifact.path] = { sha256: sha256(artifact.content), mode: modeString(mode) };
  }
  return manifest;
}

/** True when the file `st` describes at `target` holds exactly `artifact`'s content and mode. */
function holds(target: string, st: Stats | null | undefined, artifact: ContentArtifact): boolean {
  const mode = (artifact.mode ?? DEFAULT_MODE) & 0o7777;
  if (!st?.isFile() || (st.mode & 0o7777) !== mode) return false;
  const content = artifact.content;
  const size = typeof content === "string" ? Buffer.byteLength(content) : content.byteLength;
  if (st.size !== size) return false; // most changed files differ in size: no read
  try {
    return readFileSync(target).equals(
      typeof content === "string" ? Buffer.from(content) : content,
    );
  } catch {
    return false;
  }
}

/**
 * Writes `artifacts` (and the manifest) into the new directory `staging`, outermost directories
 * first. The umask filters a creation mode, so the first file of each mode is checked and the
 * files of a filtered mode get a chmod; with the usual umask 022 and modes 0644/0755, none does.
 */
function stage(staging: string, artifacts: readonly ContentArtifact[], manifest: Manifest): void {
  for (const d of parentsOf(artifacts.map((a) => a.path))) mkdirSync(join(staging, d));
  const filtered = new Map<number, boolean>();
  for (const artifact of artifacts) {
    const path = join(staging, artifact.path);
    const mode = artifact.mode ?? DEFAULT_MODE;
    writeFileSync(path, artifact.content, { mode });
    let chmodNeeded = filtered.get(mode);
    if (chmodNeeded === undefined) {
      chmodNeeded = (lstatSync(path).mode & 0o7777) !== mode;
      filtered.set(mode, chmodNeeded);
    }
    if (chmodNeeded) chmodSync(path, mode);
  }
  writeFileSync(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The one-paragraph error for a host file that cannot be copied into the render. */
function hostFileError(a: HostFileArtifact, why: string, owner?: string): UserError {
  const option = a.origin ? `the option \`${a.origin.option}\`` : `the artifact \`${a.path}\``;
  const defined = a.origin?.files?.length ? ` (defined in ${a.origin.files.join(", ")})` : "";
  const by = owner ? ` by the renderer \`${owner}\`` : "";
  return new UserError(
    "HOST_FILE",
    `Cannot copy ${JSON.stringify(a.source)} into the render${by}: ${why}. It is named by ${option}${defined}. Nothing was written.`,
  );
}

/**
 * `artifacts` with every {@link HostFileArtifact} read into a content artifact, before anything
 * is written, so that the render is self-contained and a missing file leaves the previous render
 * as it was. Files are read concurrently (up to 32 at a time).
 *
 * @throws {UserError} `HOST_FILE` when a source is not absolute, missing, not a regular file, or
 * unreadable, naming the option that named it and the files that defined that option.
 */
export async function readHostFiles(
  artifacts: readonly Artifact[],
  owner?: string,
): Promise<ContentArtifact[]> {
  const out = artifacts.slice() as ContentArtifact[];
  const contents = await eachHostFile(artifacts, owner, (a) => readFile(a.source));
  for (const [i, content] of contents) {
    const a = artifacts[i] as HostFileArtifact;
    const copy: ContentArtifact = { path: a.path, content };
    if (a.mode !== undefined) copy.mode = a.mode;
    out[i] = copy;
  }
  return out;
}

/**
 * Checks, without reading them, that every {@link HostFileArtifact} of `artifacts` names a
 * regular file this process can read: what {@link readHostFiles} needs, for `nix2dream check`,
 * which writes nothing.
 *
 * @throws {UserError} `HOST_FILE`, the same error {@link readHostFiles} gives.
 */
export async function checkHostFiles(
  artifacts: readonly Artifact[],
  owner?: string,
): Promise<void> {
  await eachHostFile(artifacts, owner, (a) => access(a.source, fsConstants.R_OK));
}

/**
 * Runs `use` on the source of every host-file artifact (up to {@link CONCURRENCY} at a time)
 * once it is known to be an absolute path to a regular file; its results by artifact index.
 * Any failure is a `HOST_FILE` error naming the option that named the file.
 */
async function eachHostFile<T>(
  artifacts: readonly Artifact[],
  owner: string | undefined,
  use: (a: HostFileArtifact) => Promise<T>,
): Promise<Map<number, T>> {
  const results = new Map<number, T>();
  const copies = artifacts.flatMap((a, i) => (typeof a.source === "string" ? [i] : []));
  await eachLimit(copies, CONCURRENCY, async (i) => {
    const a = artifacts[i] as HostFileArtifact;
    if (!isAbsolute(a.source)) throw hostFileError(a, "the path is not absolute", owner);
    try {
      // stat first: reading a FIFO or a device could block or never end.
      if (!(await stat(a.source)).isFile()) throw hostFileError(a, "it is not a file", owner);
      results.set(i, await use(a));
    } catch (err) {
      if (UserError.is(err)) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === "ENOENT" || code === "ENOTDIR"
          ? "no such file"
          : code === "EACCES"
            ? "permission denied"
            : (err as Error).message;
      throw hostFileError(a, why, owner);
    }
  });
  return results;
}

/**
 * Writes `artifacts` into `dir` as one set. Every file that changed is first written to a
 * temporary directory beside `dir` (same filesystem) and then renamed into place, so a failure
 * while writing leaves the previous render untouched; a file that already holds the same content
 * and mode is left as it is, with its mtime. A manifest (`.nix2dream-manifest.json`: relative
 * paths, sha256, mode) records what was written; files the previous manifest lists that this
 * render no longer produces are removed, unless they were changed since. Files nix2dream did not
 * write are never touched. Modes come from `Artifact.mode` (default `0o644`). Host files
 * ({@link HostFileArtifact}) are read first ({@link readHostFiles}): a missing one fails before
 * anything is written. Every target is checked before the first write.
 *
 * The files are written with synchronous calls, one after another: on a page cache each call
 * takes microseconds, less than handing it to libuv's thread pool and back (measured on 9100
 * files: 0.6–0.7× the CPU time of the previous writer's 32 calls in flight for a first render,
 * about a tenth for a render that changed nothing, which no longer stages and re-hashes).
 *
 * @throws {UserError} `ARTIFACT_PATH` when a path is absolute, escapes `dir`, or collides;
 * `HOST_FILE` when a host file to copy cannot be read.
 */
export async function writeArtifacts(
  dir: string,
  artifacts: readonly Artifact[],
  options: WriteOptions = {},
): Promise<WriteResult> {
  checkArtifactPaths(artifacts, options.owner);
  const contents = await readHostFiles(artifacts, options.owner);
  const sorted = [...contents].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const manifest = manifestOf(sorted);
  mkdirSync(dirname(dir), { recursive: true });
  removeAbandonedStaging(dir);
  const previous = readManifestSync(dir);
  const stale = Object.keys(previous.files)
    .filter((p) => !(p in manifest.files))
    .sort();
  const targets = checkTargets(dir, sorted, previous, new Set(stale));
  const changed = sorted.filter((a) => !holds(join(dir, a.path), targets.stats.get(a.path), a));
  const staging = mkdtempSync(join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-`));
  try {
    stage(staging, changed, manifest);
    mkdirSync(dir, { recursive: true });
    const removed = new Set<string>();
    const kept = new Set<string>();
    const removeIfUnchanged = (path: string) => {
      const target = join(dir, path);
      const st = lstatOrNull(target);
      if (!st) return;
      if (st.isFile() && fileHash(target) === previous.files[path]?.sha256) {
        unlinkSync(target);
        removed.add(path);
      } else {
        kept.add(path);
      }
    };
    for (const path of targets.inTheWay) removeIfUnchanged(path);
    for (const parent of parentsOf(changed.map((a) => a.path))) {
      const st = targets.stats.get(parent);
      if (!st || targets.inTheWay.includes(parent)) mkdirSync(join(dir, parent));
    }
    for (const a of changed) renameSync(join(staging, a.path), join(dir, a.path));
    renameSync(join(staging, MANIFEST_FILE), join(dir, MANIFEST_FILE));

    for (const path of stale) if (!removed.has(path) && !kept.has(path)) removeIfUnchanged(path);
    const gone = [...removed].sort();
    for (const path of gone) removeEmptyParents(dir, path);
    return { dir, written: sorted.map((a) => a.path), removed: gone, kept: [...kept].sort() };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** What is at each parent and target under the output directory, and the stale files in the way. */
interface Targets {
  /** What `lstat` found (null: nothing there). */
  stats: Map<string, Stats | null>;
  /** Unchanged stale files of the previous render where a new directory goes: to remove. */
  inTheWay: string[];
}

/**
 * Checks every target before anything is written: parents must be real directories inside `dir`
 * (a symlinked parent could point anywhere), targets must not be directories. A stale file of
 * the previous render in the way of a new directory is to be removed when unchanged. Nothing
 * under a missing directory is looked at: a first render costs one call.
 */
function checkTargets(
  dir: string,
  sorted: readonly ContentArtifact[],
  previous: Manifest,
  stale: ReadonlySet<string>,
): Targets {
  const parents = parentsOf(sorted.map((a) => a.path));
  const stats = new Map<string, Stats | null>();
  // The output directory itself may be a symlink to a directory: followed, as mkdir does.
  const root = statSync(dir, { throwIfNoEntry: false });
  const lookAt = (path: string) => {
    const parent = parentOf(path);
    const there = parent === "" ? root?.isDirectory() : stats.get(parent)?.isDirectory();
    stats.set(path, there ? lstatOrNull(join(dir, path)) : null);
  };
  for (const parent of parents) lookAt(parent); // sorted: a directory before what is in it
  for (const a of sorted) lookAt(a.path);
  const inTheWay: string[] = [];
  for (const parent of parents) {
    const st = stats.get(parent);
    if (!st || st.isDirectory()) continue;
    const target = join(dir, parent);
    if (stale.has(parent) && st.isFile() && fileHash(target) === previous.files[parent]?.sha256) {
      inTheWay.push(parent); // an old file now in the way of a new directory
      continue;
    }
    const artifact = sorted.find((a) => a.path.startsWith(`${parent}/`)) as Artifact;
    throw new UserError(
      "ARTIFACT_PATH",
      `Cannot write \`${artifact.path}\` into ${dir}: \`${parent}\` exists and is not a directory. Nothing was written.`,
    );
  }
  for (const artifact of sorted) {
    if (stats.get(artifact.path)?.isDirectory()) {
      throw new UserError(
        "ARTIFACT_PATH",
        `Cannot write \`${artifact.path}\` into ${dir}: a directory is in the way. Nothing was written.`,
      );
    }
  }
  return { stats, inTheWay };
}

/** True when a process with this id exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes temporary directories that an interrupted write of `dir` left behind: those whose
 * writer (the pid in the name) is gone. A concurrent writer's directory is left alone.
 */
function removeAbandonedStaging(dir: string): void {
  const prefix = `.${basename(dir)}.tmp-`;
  let entries: string[];
  try {
    entries = readdirSync(dirname(dir));
  } catch {
    return;
  }
  for (const name of entries) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split("-")[0]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    rmSync(join(dirname(dir), name), { recursive: true, force: true });
  }
}

/** Removes the directories that held `path` once they are empty, up to (not including) `dir`. */
function removeEmptyParents(dir: string, path: string): void {
  const segments = path.split("/");
  for (let i = segments.length - 1; i > 0; i--) {
    try {
      rmdirSync(join(dir, ...segments.slice(0, i)));
    } catch {
      return; // not empty (or already gone): stop climbing
    }
  }
}
