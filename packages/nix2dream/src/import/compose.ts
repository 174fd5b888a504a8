/**
 * `nix2dream import compose.yaml`: a Compose project → the source of a `nix2dream.config.ts`.
 */
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { type ComposeProject, isMapping, type Mapping } from "./compose-load.js";
import {
  CARRIED,
  collectPorts,
  commandOf,
  dependsOnOf,
  deployOf,
  envOf,
  healthcheckOf,
  packageOf,
  portNameFor,
  processOf,
  restartOf,
  type ServiceInput,
} from "./compose-service.js";
import { parseMount } from "./compose-values.js";
import { volumesOf } from "./compose-volumes.js";
import { TsObject } from "./emit.js";
import { parseDotenv } from "./interpolate.js";
import { ImportContext } from "./model.js";
import type { PortNames, RefScope } from "./refs.js";
import { configSource, type ImportedConfig } from "./source.js";

/** Why a service key has no nix2dream form, for the comment and the diagnostic. */
const REASONS: Record<string, string> = {
  networks: "every service is on one network of the deployment and reaches the others by name",
  network_mode: "every service is on one network of the deployment",
  links: "every service reaches the others by name",
  external_links: "every service reaches the others by name",
  container_name: "each target names containers itself",
  hostname: "the host name of a service is its name",
  profiles: "every enabled service is part of the deployment (use `enable` to leave one out)",
  extends: "resolve it into the service first",
  privileged: "container privileges are target-specific (keep them in renderers.compose.override)",
  cap_add: "container privileges are target-specific (keep them in renderers.compose.override)",
  cap_drop: "container privileges are target-specific (keep them in renderers.compose.override)",
  devices: "devices are target-specific (keep them in renderers.compose.override)",
  logging: "each target keeps logs its own way",
};

/** Options of {@link importCompose}. */
export interface ComposeImportOptions {
  /** Directory the generated config is written to (relative paths are made from it). */
  configDir: string;
}

/** Converts a loaded Compose project to a config; every key not carried is a diagnostic. */
export function importCompose(project: ComposeProject, opts: ComposeImportOptions): ImportedConfig {
  const file = project.files[0] as string;
  const ctx = new ImportContext(relative(opts.configDir, file) || file);
  const doc = project.doc;
  const services = isMapping(doc.services) ? doc.services : {};
  const outs = new Map<string, TsObject>();
  const ports = new Map<string, PortNames>();
  const scope: RefScope = {
    ports,
    inferPort(service, port, because) {
      const names = ports.get(service) as PortNames;
      const name = portNameFor(port, "tcp", names);
      names.set(String(port), name);
      const out = outs.get(service) as TsObject;
      out.child("ports").set(name, port, [`Inferred: ${because}.`]);
      return name;
    },
  };
  for (const [name, svc] of Object.entries(services)) {
    const out = new TsObject();
    outs.set(name, out);
    ports.set(name, collectPorts({ svc: svc as Mapping, ctx, name, out }));
  }
  const volumeOwners = ownersOfNamedVolumes(services);
  const result = new TsObject();
  for (const [name, svc] of Object.entries(services)) {
    const out = outs.get(name) as TsObject;
    const input: ServiceInput = {
      name,
      svc: svc as Mapping,
      out,
      ctx,
      scope,
      projectDir: project.dir,
      configDir: opts.configDir,
      projectName: project.name,
      doc,
      volumeOwners,
    };
    convertService(input);
    result.set(name, reorder(out));
  }
  const top = topLevelNotes(doc, ctx);
  for (const v of project.unset) {
    ctx.changed(
      top,
      "",
      "(interpolation)",
      `The variable ${v} is not set; Compose substitutes an empty string, and so did the import.`,
    );
  }
  return configSource({
    kind: "compose",
    name: project.name,
    from: project.files.map((f) => relative(opts.configDir, f) || f),
    services: result,
    notes: top,
    ctx,
  });
}

function convertService(i: ServiceInput): void {
  packageOf(i);
  commandOf(i);
  envOf(i, (path) => parseDotenv(readFileSync(path, "utf8")));
  volumesOf(i);
  secretsAndConfigsOf(i);
  healthcheckOf(i);
  dependsOnOf(i);
  restartOf(i);
  processOf(i);
  deployOf(i);
  for (const [key, value] of Object.entries(i.svc)) {
    if (CARRIED.has(key)) continue;
    const reason = REASONS[key] ?? "no nix2dream option for it";
    i.ctx.unsupported(i.out, `services.${i.name}.${key}`, key, value, reason);
  }
}

/** A named volume belongs to the first service (in file order) that mounts it. */
function ownersOfNamedVolumes(services: Mapping): Map<string, string> {
  const owners = new Map<string, string>();
  for (const [name, svc] of Object.entries(services)) {
    const volumes = isMapping(svc) && Array.isArray(svc.volumes) ? svc.volumes : [];
    for (const v of volumes) {
      const m = parseMount(v);
      if (m?.type === "volume" && m.source !== null && !owners.has(m.source)) {
        owners.set(m.source, name);
      }
    }
  }
  return owners;
}

/**
 * Compose `secrets` and `configs` → `files` at the path Compose mounts them (`/run/secrets/<name>`,
 * `/<name>`), so the program finds them where it did.
 */
function secretsAndConfigsOf(i: ServiceInput): void {
  for (const kind of ["secrets", "configs"] as const) {
    const list = Array.isArray(i.svc[kind]) ? (i.svc[kind] as unknown[]) : [];
    const defs = isMapping(i.doc[kind]) ? (i.doc[kind] as Mapping) : {};
    for (const entry of list) {
      const source = isMapping(entry) ? String(entry.source) : String(entry);
      const target = isMapping(entry) && entry.target !== undefined ? String(entry.target) : null;
      const path = target?.startsWith("/")
        ? target
        : kind === "secrets"
          ? `/run/secrets/${target ?? source}`
          : `/${target ?? source}`;
      const def = defs[source];
      const file = new TsObject();
      if (isMapping(def) && typeof def.file === "string") {
        const rel = relative(i.configDir, resolve(i.projectDir, def.file));
        file.set("source", rel.startsWith("..") || rel.startsWith("/") ? rel : `./${rel}`);
      } else if (isMapping(def) && typeof def.content === "string") {
        file.set("text", def.content);
      } else {
        i.ctx.unsupported(
          i.out,
          `services.${i.name}.${kind}`,
          kind,
          [entry],
          `the ${kind === "secrets" ? "secret" : "config"} ${source} is ${isMapping(def) ? "not from a file" : "not defined"} (external and environment sources have no nix2dream form)`,
        );
        continue;
      }
      const mode =
        isMapping(entry) && entry.mode !== undefined
          ? entry.mode
          : kind === "secrets"
            ? 0o400
            : undefined;
      if (mode !== undefined)
        file.set(
          "mode",
          `0${(typeof mode === "number" ? mode : Number.parseInt(String(mode), 8)).toString(8)}`,
        );
      const files = i.out.child("files");
      files.set(path, file, [
        kind === "secrets"
          ? `Compose secret ${source}: a file at the same path, never copied into rendered output by the compose target (other targets may embed it).`
          : `Compose config ${source}.`,
      ]);
    }
  }
}

/** Top-level keys other than services: named volumes are read by the services; the rest noted. */
function topLevelNotes(doc: Mapping, ctx: ImportContext): TsObject {
  const notes = new TsObject();
  for (const [key, value] of Object.entries(doc)) {
    if (
      ["services", "volumes", "secrets", "configs", "name", "version"].includes(key) ||
      key.startsWith("x-")
    )
      continue;
    ctx.unsupported(notes, key, key, value, REASONS[key] ?? "no nix2dream option for it");
  }
  return notes;
}

const ORDER = [
  "description",
  "package",
  "command",
  "workingDir",
  "user",
  "group",
  "env",
  "secrets",
  "files",
  "volumes",
  "ports",
  "healthcheck",
  "dependsOn",
  "restart",
  "stop",
  "resources",
  "replicas",
  "labels",
  "renderers",
];

/** The service's keys in the order of the options reference, for reading. */
function reorder(o: TsObject): TsObject {
  o.entries.sort((a, b) => rank(a.key) - rank(b.key));
  for (const e of o.entries)
    if (e.key === "ports" && e.value instanceof TsObject && e.value.size === 0) e.key = "";
  const out = new TsObject();
  for (const e of o.entries) if (e.key) out.set(e.key, e.value, e.comment);
  out.trailing.push(...o.trailing);
  return out;
}

function rank(key: string): number {
  const r = ORDER.indexOf(key);
  return r < 0 ? ORDER.length : r;
}
