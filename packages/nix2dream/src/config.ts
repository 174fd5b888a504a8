/**
 * Finding and loading `nix2dream.config.ts` (or `.mts`, `.js`, `.mjs`) without a build step.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { createJiti as CreateJiti } from "jiti";
import { UserError } from "./errors.js";

/** File names searched for, in order, in each directory from the working directory upwards. */
export const CONFIG_NAMES = [
  "nix2dream.config.ts",
  "nix2dream.config.mts",
  "nix2dream.config.js",
  "nix2dream.config.mjs",
] as const;

/**
 * The nearest config file: `nix2dream.config.{ts,mts,js,mjs}` in `cwd` or the closest parent
 * directory that has one; undefined when there is none up to the filesystem root.
 */
export function findConfigFile(cwd: string = process.cwd()): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    for (const name of CONFIG_NAMES) {
      const file = join(dir, name);
      if (existsSync(file) && statSync(file).isFile()) return file;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** A loaded config: the default export and where it came from. */
export interface LoadedConfig {
  /** Absolute path of the config file. */
  file: string;
  /** Directory of the config file. */
  root: string;
  /** The module's default export (for `defineDeployment`, the deployment definition). */
  value: unknown;
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Directory to search from (default: `process.cwd()`). */
  cwd?: string;
  /** An explicit config file (`--config`), relative to `cwd` or absolute; no search then. */
  configFile?: string;
}

/**
 * Where the compiled config is cached, outside the user's source tree:
 * `$NIX2DREAM_CACHE_DIR` when set (`off` disables the cache), else `node_modules/.cache/nix2dream`
 * in the nearest `node_modules` above the config, else `$XDG_CACHE_HOME/nix2dream` (default
 * `~/.cache/nix2dream`). Entries are checked against the source's content hash, so an edited
 * config (or an edited file it imports) is compiled again.
 */
export function configCacheDir(
  configFile: string,
  env: NodeJS.ProcessEnv = process.env,
): string | false {
  const explicit = env.NIX2DREAM_CACHE_DIR;
  if (explicit === "off") return false;
  if (explicit) return resolve(explicit);
  for (let dir = dirname(configFile); ; dir = dirname(dir)) {
    const modules = join(dir, "node_modules");
    if (basename(dir) !== "node_modules" && existsSync(modules)) {
      return join(modules, ".cache", "nix2dream");
    }
    if (dirname(dir) === dir) break;
  }
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "nix2dream");
}

/** `path` relative to `cwd` when that is shorter and stays inside it. */
export function displayPath(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/** `file:line:col` of the first place in `err` (message or stack) that points into `file`. */
function locationIn(err: unknown, file: string): string | undefined {
  const text = err instanceof Error ? `${err.message}\n${err.stack ?? ""}` : String(err);
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const url = pathToFileURL(file).href.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // A reloaded config's URL ends in `?reload=N` (see importConfig).
  const m = new RegExp(`(?:${escaped}|${url})(?:\\?reload=\\d+)?:(\\d+)(?::(\\d+))?`).exec(text);
  return m ? `line ${m[1]}${m[2] ? `, column ${m[2]}` : ""}` : undefined;
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // jiti's parse errors repeat the location on the next line; keep the sentence.
  return (message.split("\n")[0] ?? "").replace(/^ParseError:\s*/, "Syntax error: ").trim();
}

/**
 * Loads the config: the file given by `configFile`, or the nearest one found by
 * {@link findConfigFile}. An ES module config (`.mjs`, or `.js` in a `"type": "module"` package)
 * is imported by Node; TypeScript is compiled on the fly (jiti), so no build step is needed, and
 * the compiled code is cached in {@link configCacheDir}.
 *
 * @throws {UserError} `CONFIG_NOT_FOUND` (listing the names searched) or `CONFIG_LOAD_FAILED`
 * (naming the file and, when known, the line) when the module throws or does not parse.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = resolve(options.cwd ?? process.cwd());
  let file: string;
  if (options.configFile !== undefined) {
    file = resolve(cwd, options.configFile);
    if (!existsSync(file) || !statSync(file).isFile()) {
      throw new UserError(
        "CONFIG_NOT_FOUND",
        `The config file ${file} (from --config) does not exist.`,
      );
    }
  } else {
    const found = findConfigFile(cwd);
    if (!found) {
      throw new UserError(
        "CONFIG_NOT_FOUND",
        `No config file found: looked for ${CONFIG_NAMES.join(", ")} in ${cwd} and every parent directory.`,
        {
          hint: "Create nix2dream.config.ts (see `nix2dream --help`), or pass one with --config <file>.",
        },
      );
    }
    file = found;
  }

  let value: unknown;
  try {
    const mod = await importConfig(file);
    value = mod && "default" in mod ? mod.default : undefined;
  } catch (err) {
    const where = locationIn(err, file);
    const missing = missingPackage(err);
    throw new UserError(
      "CONFIG_LOAD_FAILED",
      `Could not load the config file ${displayPath(file, cwd)}${where ? ` (${where})` : ""}: ${firstLine(err)}`,
      {
        cause: err,
        ...(missing
          ? { hint: `Is \`${missing}\` installed? e.g. \`pnpm add -D ${missing}\`` }
          : {}),
      },
    );
  }
  if (typeof value === "function") {
    try {
      value = await (value as () => unknown)();
    } catch (err) {
      const where = locationIn(err, file);
      throw new UserError(
        "CONFIG_LOAD_FAILED",
        `The config function exported by ${displayPath(file, cwd)} threw${where ? ` (${where})` : ""}: ${firstLine(err)}`,
        { cause: err },
      );
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new UserError(
      "CONFIG_INVALID",
      `The config file ${displayPath(file, cwd)} must export a deployment as its default export, but it exported ${describeValue(value)}.`,
      {
        hint: 'Write `export default defineDeployment({ name: "...", use: [...], services: {...} })`.',
      },
    );
  }
  return { file, root: dirname(file), value };
}

/**
 * How many times this process has imported each config natively. Node keeps an imported module
 * for the life of the process, so a later load (a long-lived caller reloading an edited config)
 * imports it under a new URL, which Node evaluates afresh.
 */
const nativeLoads = new Map<string, number>();

/**
 * Errors of a native import that jiti may not have: Node refuses a `.ts` import, a path without
 * its extension, a directory import or syntax it does not know, all before the config runs.
 */
const JITI_MIGHT_LOAD = new Set([
  "ERR_UNKNOWN_FILE_EXTENSION",
  "ERR_MODULE_NOT_FOUND",
  "ERR_UNSUPPORTED_DIR_IMPORT",
  "ERR_REQUIRE_ESM",
]);

/**
 * The config module's namespace. An ES module config (`.mjs`, or `.js` in a `"type": "module"`
 * package) is imported by Node itself, which costs a few milliseconds where jiti costs its own
 * load; TypeScript, CommonJS, and an ES module that imports what only jiti resolves (a `.ts`
 * file, a path without its extension) go through jiti.
 */
async function importConfig(file: string): Promise<Record<string, unknown> | undefined> {
  if (isNativeEsm(file)) {
    const loads = nativeLoads.get(file) ?? 0;
    nativeLoads.set(file, loads + 1);
    const url = `${pathToFileURL(file).href}${loads > 0 ? `?reload=${loads}` : ""}`;
    try {
      return (await import(url)) as Record<string, unknown>;
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      const refused = refusedBeforeRunning(err) || JITI_MIGHT_LOAD.has(String(code));
      if (!refused || missingPackage(err) !== undefined) throw err;
    }
  }
  // Loaded here, not at the top: commands that never read the config do not pay for it. Through
  // require: imported from ESM, node would first scan jiti's 190 KB CommonJS bundle for exports.
  const { createJiti } = createRequire(import.meta.url)("jiti") as {
    createJiti: typeof CreateJiti;
  };
  const jiti = createJiti(import.meta.url, {
    // Compiling TypeScript is most of a cold start: cached by content, never beside the sources.
    fsCache: configCacheDir(file),
    moduleCache: false, // a long-lived process reloading the config sees its changes
    interopDefault: true,
  });
  return jiti.import<Record<string, unknown>>(file);
}

/**
 * Whether `err` is a syntax error Node raised while parsing a module, before any of the config's
 * code ran. A SyntaxError thrown while it runs (`JSON.parse`, `new RegExp`) has a stack frame in a
 * `file:` module: handing that config to jiti would run its top level a second time.
 */
function refusedBeforeRunning(err: unknown): boolean {
  return err instanceof SyntaxError && !/\n\s+at (?:.*\()?file:\/\//.test(err.stack ?? "");
}

/** Whether Node itself loads `file` as an ES module: `.mjs`, or `.js` under `"type": "module"`. */
function isNativeEsm(file: string): boolean {
  if (file.endsWith(".mjs")) return true;
  if (!file.endsWith(".js")) return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, "utf8")) as { type?: unknown }).type === "module";
      } catch {
        return false; // a broken package.json: jiti decides
      }
    }
    if (dirname(dir) === dir) return false;
  }
}

/** The package a "cannot find module" error is about, when it is a bare package name. */
function missingPackage(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== "MODULE_NOT_FOUND" && code !== "ERR_MODULE_NOT_FOUND") return undefined;
  const m = /Cannot find (?:module|package) '([^']+)'/.exec(String((err as Error).message));
  const id = m?.[1];
  if (!id || id.startsWith(".") || id.startsWith("/")) return undefined;
  const parts = id.split("/");
  return id.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
