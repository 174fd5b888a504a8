/**
 * Writing a renderer's artifacts to disk: atomically, with a manifest, removing only the stale
 * files a previous render wrote.
 */
import { createHash } from "node:crypto";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
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
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), "utf8");
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

async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    // ENOTDIR: a parent is a file, so nothing is at `path` (the parent is checked on its own).
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw err;
  }
}

async function fileHash(path: string): Promise<string | null> {
  try {
    return sha256(await readFile(path));
  } catch {
    return null;
  }
}

/** What `lstat` found at paths under the output directory (null: nothing there). */
type Stats = Map<string, Awaited<ReturnType<typeof lstatOrNull>>>;

/** How many file-system calls {@link writeArtifacts} keeps in flight at once. */
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

/**
 * Writes `content` to the new file `path` with `mode`. The umask filters a creation mode, so the
 * first file of each mode is checked (`filtered`, by mode) and the files of a filtered mode get
 * a chmod; with the usual umask 022 and modes 0644/0755, no file needs one.
 */
async function writeNewFile(
  path: string,
  content: string | Uint8Array,
  mode: number,
  filtered: Map<number, Promise<boolean>>,
): Promise<void> {
  await writeFile(path, content, { mode });
  let check = filtered.get(mode);
  if (!check) {
    check = lstat(path).then((st) => (st.mode & 0o7777) !== mode);
    filtered.set(mode, check);
  }
  if (await check) await chmod(path, mode);
}

/** Makes the directories `dirs` (relative to `root`), outermost first, in parallel per depth. */
async function makeDirs(root: string, dirs: readonly string[]): Promise<void> {
  const depths = [...new Set(dirs.map((d) => d.split("/").length))].sort((a, b) => a - b);
  for (const depth of depths) {
    const level = dirs.filter((d) => d.split("/").length === depth);
    await eachLimit(level, CONCURRENCY, (d) =>
      mkdir(join(root, d), { recursive: true }).then(() => undefined),
    );
  }
}

/** Writes every artifact (content and mode) under `staging` and returns the manifest. */
async function stage(staging: string, sorted: readonly ContentArtifact[]): Promise<Manifest> {
  const manifest: Manifest = { version: 1, files: {} };
  for (const artifact of sorted) {
    const mode = artifact.mode ?? DEFAULT_MODE;
    manifest.files[artifact.path] = { sha256: sha256(artifact.content), mode: modeString(mode) };
  }
  await makeDirs(staging, parentsOf(sorted.map((a) => a.path)));
  const filtered = new Map<number, Promise<boolean>>();
  await eachLimit(sorted, CONCURRENCY, (artifact) =>
    writeNewFile(
      join(staging, artifact.path),
      artifact.content,
      artifact.mode ?? DEFAULT_MODE,
      filtered,
    ),
  );
  await writeFile(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
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
  const copies = artifacts.flatMap((a, i) => (typeof a.source === "string" ? [i] : []));
  await eachLimit(copies, CONCURRENCY, async (i) => {
    const a = artifacts[i] as HostFileArtifact;
    if (!isAbsolute(a.source)) throw hostFileError(a, "the path is not absolute", owner);
    let content: Buffer;
    try {
      // stat first: reading a FIFO or a device could block or never end.
      if (!(await stat(a.source)).isFile()) throw hostFileError(a, "it is not a file", owner);
      content = await readFile(a.source);
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
    const copy: ContentArtifact = { path: a.path, content };
    if (a.mode !== undefined) copy.mode = a.mode;
    out[i] = copy;
  });
  return out;
}

/**
 * Writes `artifacts` into `dir` as one set. Every file is first written to a temporary directory
 * beside `dir` (same filesystem) and then renamed into place, so a failure while writing leaves
 * the previous render untouched. A manifest (`.nix2dream-manifest.json`: relative paths, sha256,
 * mode) records what was written; files the previous manifest lists that this render no longer
 * produces are removed, unless they were changed since. Files nix2dream did not write are never
 * touched. Modes come from `Artifact.mode` (default `0o644`). Host files ({@link HostFileArtifact})
 * are read first ({@link readHostFiles}): a missing one fails before anything is written.
 * File-system calls run concurrently
 * (up to 32 at a time) within each step; the steps stay in this order.
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
  await mkdir(dirname(dir), { recursive: true });
  await removeAbandonedStaging(dir);
  const staging = await mkdtemp(join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-`));
  try {
    const manifest = await stage(staging, sorted);
    await mkdir(dir, { recursive: true });
    const previous = await readManifest(dir);
    const stale = Object.keys(previous.files)
      .filter((p) => !(p in manifest.files))
      .sort();
    const removed = new Set<string>();
    const kept = new Set<string>();
    const removeIfUnchanged = async (path: string) => {
      const target = join(dir, path);
      const st = await lstatOrNull(target);
      if (!st) return;
      if (st.isFile() && (await fileHash(target)) === previous.files[path]?.sha256) {
        await unlink(target);
        removed.add(path);
      } else {
        kept.add(path);
      }
    };

    const stats = await checkTargets(dir, sorted, new Set(stale), removeIfUnchanged);
    await placeStaged(dir, staging, sorted, manifest, stats);
    await rename(join(staging, MANIFEST_FILE), join(dir, MANIFEST_FILE));

    const left = stale.filter((path) => !removed.has(path) && !kept.has(path));
    await eachLimit(left, CONCURRENCY, removeIfUnchanged);
    const gone = [...removed].sort();
    for (const path of gone) await removeEmptyParents(dir, path);

    return { dir, written: sorted.map((a) => a.path), removed: gone, kept: [...kept].sort() };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Checks every target before the first rename: parents must be real directories inside `dir`
 * (a symlinked parent could point anywhere), targets must not be directories. A stale file of
 * the previous render in the way of a new directory is removed (when unchanged).
 */
async function checkTargets(
  dir: string,
  sorted: readonly Artifact[],
  stale: ReadonlySet<string>,
  removeIfUnchanged: (path: string) => Promise<void>,
): Promise<Stats> {
  const parents = parentsOf(sorted.map((a) => a.path));
  const stats: Stats = new Map();
  await eachLimit([...parents, ...sorted.map((a) => a.path)], CONCURRENCY, async (path) => {
    stats.set(path, await lstatOrNull(join(dir, path)));
  });
  for (const parent of parents) {
    const st = stats.get(parent);
    if (!st || st.isDirectory()) continue;
    if (stale.has(parent) && st.isFile()) {
      await removeIfUnchanged(parent); // an old file now in the way of a new directory
      const now = await lstatOrNull(join(dir, parent));
      stats.set(parent, now);
      if (!now) continue;
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
  return stats;
}

/**
 * Renames every staged artifact into `dir`, after making the parent directories that are
 * missing (`stats`: what {@link checkTargets} found at each parent and target). A target that
 * already holds the same content and mode is left as it is, with its mtime.
 */
async function placeStaged(
  dir: string,
  staging: string,
  sorted: readonly Artifact[],
  manifest: Manifest,
  stats: Stats,
): Promise<void> {
  const missing = parentsOf(sorted.map((a) => a.path)).filter((p) => !stats.get(p));
  await makeDirs(dir, missing);
  await eachLimit(sorted, CONCURRENCY, async (artifact) => {
    const target = join(dir, artifact.path);
    const entry = manifest.files[artifact.path] as ManifestEntry;
    const st = stats.get(artifact.path);
    if (
      st?.isFile() &&
      modeString(st.mode) === entry.mode &&
      (await fileHash(target)) === entry.sha256
    ) {
      return; // identical: keep the file (and its mtime) as it is
    }
    await rename(join(staging, artifact.path), target);
  });
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
async function removeAbandonedStaging(dir: string): Promise<void> {
  const prefix = `.${basename(dir)}.tmp-`;
  let entries: string[];
  try {
    entries = await readdir(dirname(dir));
  } catch {
    return;
  }
  for (const name of entries) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split("-")[0]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    await rm(join(dirname(dir), name), { recursive: true, force: true });
  }
}

/** Removes the directories that held `path` once they are empty, up to (not including) `dir`. */
async function removeEmptyParents(dir: string, path: string): Promise<void> {
  const segments = path.split("/");
  for (let i = segments.length - 1; i > 0; i--) {
    try {
      await rmdir(join(dir, ...segments.slice(0, i)));
    } catch {
      return; // not empty (or already gone): stop climbing
    }
  }
}
