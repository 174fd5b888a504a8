/**
 * Reading Compose files as `docker compose -f a.yaml -f b.yaml` does: YAML (anchors and `<<`
 * merge keys resolved), `.env` interpolation, then the files merged in order.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { parse } from "yaml";
import { UserError } from "../errors.js";
import { interpolate, type Lookup, parseDotenv } from "./interpolate.js";

/** A plain YAML mapping. */
export type Mapping = Record<string, unknown>;

/** The Compose files merged into one project. */
export interface ComposeProject {
  /** The project's name: `name:`, else `COMPOSE_PROJECT_NAME`, else the directory's name. */
  name: string;
  /** Directory of the first file; relative paths resolve against it. */
  dir: string;
  /** The files, absolute, in the order given. */
  files: string[];
  /** The merged document. */
  doc: Mapping;
  /** Variables used unset, without a default (Compose substitutes ""). */
  unset: string[];
  /** The `.env` file read, if any. */
  envFile: string | null;
}

/** True for a plain mapping. */
export function isMapping(v: unknown): v is Mapping {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads, interpolates and merges `files` (absolute or relative to `cwd`). */
export function loadCompose(files: string[], cwd: string, env: NodeJS.ProcessEnv): ComposeProject {
  const paths = files.map((f) => resolve(cwd, f));
  const dir = dirname(paths[0] as string);
  const envPath = resolve(dir, ".env");
  const dotenv = existsSync(envPath) ? parseDotenv(readFileSync(envPath, "utf8")) : {};
  // The shell's environment wins over .env, as in Compose.
  const lookup: Lookup = (name) => env[name] ?? dotenv[name];
  const unset = new Set<string>();
  let doc: Mapping = {};
  for (const path of paths) {
    const one = readComposeFile(path);
    const interpolated = interpolateAll(one, lookup, path, "", unset) as Mapping;
    doc = mergeDocuments(doc, interpolated);
  }
  const name =
    (typeof doc.name === "string" && doc.name) ||
    env.COMPOSE_PROJECT_NAME ||
    dotenv.COMPOSE_PROJECT_NAME ||
    basename(dir);
  return {
    name: projectName(name),
    dir,
    files: paths,
    doc,
    unset: [...unset].sort(),
    envFile: existsSync(envPath) ? envPath : null,
  };
}

/** Compose's project name rule: lowercase letters, digits, `-` and `_`. */
function projectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, "") || "imported";
}

function readComposeFile(path: string): Mapping {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UserError("IMPORT_INPUT", `Cannot read ${path}: ${(err as Error).message}.`);
  }
  let doc: unknown;
  try {
    // YAML 1.1, as Compose reads it: `0440` is octal, `no` is false.
    doc = parse(text, { version: "1.1", merge: true, maxAliasCount: 10_000 });
  } catch (err) {
    const message = (err as Error).message.split("\n")[0];
    throw new UserError("IMPORT_INPUT", `${path} is not valid YAML: ${message}`);
  }
  if (!isMapping(doc) || (doc.services !== undefined && !isMapping(doc.services))) {
    throw new UserError(
      "IMPORT_INPUT",
      `${path} is not a Compose file: it needs a \`services:\` mapping at the top.`,
    );
  }
  return doc;
}

/** Interpolates every string value (never keys) of a document; `x-` extensions are left as they are. */
function interpolateAll(
  v: unknown,
  lookup: Lookup,
  file: string,
  path: string,
  unset: Set<string>,
): unknown {
  if (typeof v === "string") return interpolate(v, lookup, { path: path || "(top)", file }, unset);
  if (Array.isArray(v))
    return v.map((x, i) => interpolateAll(x, lookup, file, `${path}[${i}]`, unset));
  if (isMapping(v)) {
    const out: Mapping = {};
    for (const [k, x] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      out[k] = k.startsWith("x-") ? x : interpolateAll(x, lookup, file, p, unset);
    }
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// merging (the Compose Specification's merge rules for `-f a -f b`)

/** Service keys whose sequences are concatenated (duplicates dropped) when files merge. */
const APPENDED = new Set([
  "ports",
  "expose",
  "external_links",
  "dns",
  "dns_search",
  "dns_opt",
  "tmpfs",
  "cap_add",
  "cap_drop",
  "security_opt",
  "group_add",
  "env_file",
]);

/** Keys whose list form (`K=V` or `name`) merges as a mapping. */
const KEYED = new Set(["environment", "labels", "extra_hosts", "sysctls", "annotations"]);

function mergeDocuments(base: Mapping, over: Mapping): Mapping {
  const out: Mapping = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (key === "services" && isMapping(value)) {
      const services: Mapping = { ...(isMapping(base.services) ? base.services : {}) };
      for (const [name, svc] of Object.entries(value)) {
        const old = services[name];
        services[name] = isMapping(old) && isMapping(svc) ? mergeService(old, svc) : svc;
      }
      out.services = services;
    } else {
      out[key] =
        isMapping(out[key]) && isMapping(value) ? deepMerge(out[key] as Mapping, value) : value;
    }
  }
  return out;
}

function deepMerge(base: Mapping, over: Mapping): Mapping {
  const out: Mapping = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isMapping(out[k]) && isMapping(v) ? deepMerge(out[k] as Mapping, v) : v;
  }
  return out;
}

function mergeService(base: Mapping, over: Mapping): Mapping {
  const out: Mapping = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const old = out[key];
    if (old === undefined) out[key] = value;
    else if (APPENDED.has(key)) out[key] = unique([...asList(old), ...asList(value)]);
    else if (KEYED.has(key)) out[key] = { ...keyedMapping(old), ...keyedMapping(value) };
    else if (key === "volumes" || key === "devices")
      out[key] = mergeByTarget(asList(old), asList(value));
    else if (key === "secrets" || key === "configs")
      out[key] = mergeBySource(asList(old), asList(value));
    else if (key === "depends_on")
      out[key] = { ...dependsOnMapping(old), ...dependsOnMapping(value) };
    else if (key === "command" || key === "entrypoint") out[key] = value;
    else if (key === "healthcheck" && isMapping(old) && isMapping(value)) {
      out[key] = { ...old, ...value };
    } else if (isMapping(old) && isMapping(value)) out[key] = deepMerge(old, value);
    else out[key] = value;
  }
  return out;
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

function unique(items: unknown[]): unknown[] {
  const seen = new Set<string>();
  return items.filter((x) => {
    const k = JSON.stringify(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** `environment`/`labels` in either form as a mapping (`K` alone maps to null). */
export function keyedMapping(v: unknown): Record<string, string | null> {
  if (isMapping(v)) {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, x === null || x === undefined ? null : String(x)]),
    );
  }
  const out: Record<string, string | null> = {};
  for (const item of asList(v)) {
    const s = String(item);
    const eq = s.indexOf("=");
    if (eq < 0) out[s] = null;
    else out[s.slice(0, eq)] = s.slice(eq + 1);
  }
  return out;
}

/** `depends_on` in either form as `{ service: { condition, ... } }`. */
export function dependsOnMapping(v: unknown): Record<string, Mapping> {
  if (isMapping(v)) {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, isMapping(x) ? x : { condition: "service_started" }]),
    );
  }
  return Object.fromEntries(asList(v).map((n) => [String(n), { condition: "service_started" }]));
}

/** The container path of a volume or device entry, in short or long syntax. */
export function mountTarget(v: unknown): string {
  if (isMapping(v)) return String(v.target ?? "");
  const parts = String(v).split(":");
  return parts.length === 1 ? (parts[0] as string) : (parts[1] as string);
}

function mergeByTarget(base: unknown[], over: unknown[]): unknown[] {
  const byTarget = new Map<string, unknown>();
  for (const v of [...base, ...over]) byTarget.set(mountTarget(v), v);
  return [...byTarget.values()];
}

function mergeBySource(base: unknown[], over: unknown[]): unknown[] {
  const bySource = new Map<string, unknown>();
  for (const v of [...base, ...over]) bySource.set(isMapping(v) ? String(v.source) : String(v), v);
  return [...bySource.values()];
}
