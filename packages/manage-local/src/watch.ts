/**
 * File watching for `up --watch`: a service's `watch` paths (directories recursively, or single
 * files), minus its ignore globs, debounced, with `fs.watch` (inotify on Linux: no polling).
 */
import { existsSync, type FSWatcher, statSync, watch } from "node:fs";
import path from "node:path";

/** What a process plan says about a service's watched files (paths absolute, debounce in seconds). */
export interface WatchSpec {
  paths: string[];
  ignore: string[];
  debounce: number;
}

/**
 * A glob as a regular expression over `/`-separated relative paths: `**` crosses directories,
 * `*` and `?` do not. A pattern without `/` matches any one path segment (`*.log`,
 * `node_modules`), as in `.gitignore`; one with `/` matches from the watched path's root.
 */
export function globMatcher(pattern: string): (relative: string) => boolean {
  const body = pattern
    .replace(/^\.?\//, "")
    .split(/(\*\*\/|\*\*|\*|\?)/)
    .map((part) => {
      if (part === "**/") return "(?:.*/)?";
      if (part === "**") return ".*";
      if (part === "*") return "[^/]*";
      if (part === "?") return "[^/]";
      return part.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  const re = new RegExp(`^${body}(?:/.*)?$`);
  if (pattern.includes("/")) return (rel) => re.test(rel);
  return (rel) => rel.split("/").some((_, i, parts) => re.test(parts.slice(i).join("/")));
}

/** Watches the paths of one service; calls `onChange` with the changed files once they settle. */
export class PathWatcher {
  readonly #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | null = null;
  #changed = new Set<string>();

  /** Starts watching; `warn` hears about paths that cannot be watched (missing ones). */
  constructor(
    spec: WatchSpec,
    onChange: (files: string[]) => void,
    warn: (message: string) => void,
  ) {
    const ignored = spec.ignore.map(globMatcher);
    const fire = () => {
      this.#timer = null;
      const files = [...this.#changed].sort();
      this.#changed.clear();
      onChange(files);
    };
    for (const root of spec.paths) {
      if (!existsSync(root)) {
        warn(`cannot watch ${root}: it does not exist`);
        continue;
      }
      const isDir = statSync(root).isDirectory();
      const dir = isDir ? root : path.dirname(root);
      const onEvent = (_event: string, name: string | Buffer | null) => {
        if (name === null) return;
        const rel = String(name).split(path.sep).join("/");
        // A single file is watched through its directory: editors replace files by renaming.
        if (!isDir && rel !== path.basename(root)) return;
        if (isDir && ignored.some((m) => m(rel))) return;
        this.#changed.add(path.join(dir, rel));
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = setTimeout(fire, spec.debounce * 1000);
      };
      try {
        const w = watch(dir, { recursive: isDir, persistent: false }, onEvent);
        w.on("error", (err) => warn(`stopped watching ${root}: ${err.message}`));
        this.#watchers.push(w);
      } catch (err) {
        warn(`cannot watch ${root}: ${(err as Error).message}`);
      }
    }
  }

  /** Stops watching; a pending change is dropped. */
  close() {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const w of this.#watchers.splice(0)) w.close();
  }
}
