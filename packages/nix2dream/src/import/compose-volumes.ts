/**
 * Compose `volumes` and `tmpfs` of one service: named and anonymous volumes → persistent
 * volumes (a named volume belongs to the first service that mounts it), file binds → files,
 * directory binds → volumes with a note, tmpfs → non-persistent volumes.
 */
import { existsSync, statSync } from "node:fs";
import { basename, relative, resolve } from "node:path";
import { isMapping } from "./compose-load.js";
import type { ServiceInput } from "./compose-service.js";
import { parseMount } from "./compose-values.js";
import { TsObject } from "./emit.js";

const at = (i: ServiceInput, key: string) => `services.${i.name}.${key}`;

/** A key of a nix2dream set from a Compose name (`db-data` stays; odd characters become `_`). */
function setKey(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, "_") || "volume";
}

/** `volumes` and `tmpfs`: named → persistent volumes, file binds → files, other binds → volumes. */
export function volumesOf(i: ServiceInput): void {
  const volumes = new TsObject();
  const files = new TsObject();
  const entries = Array.isArray(i.svc.volumes) ? i.svc.volumes : [];
  for (const entry of entries) {
    const m = parseMount(entry);
    const path = at(i, "volumes");
    if (!m) {
      i.ctx.unsupported(i.out, path, "volumes", [entry], "this volume syntax is not understood");
      continue;
    }
    if (Object.keys(m.extra).length > 0) {
      i.ctx.unsupported(
        i.out,
        path,
        "volumes",
        [entry],
        `the mount options ${Object.keys(m.extra).join(", ")} are not carried (the mount itself is)`,
      );
    }
    if (m.type === "tmpfs") {
      const def = new TsObject().set("path", m.target).set("persistent", false);
      if (m.size !== null) def.set("size", String(m.size));
      volumes.set(setKey(basename(m.target)), def);
    } else if (m.type === "volume") {
      namedVolume(i, m.source, m.target, m.readOnly, volumes, entry);
    } else if (m.type === "bind" && m.source !== null) {
      bindMount(i, m.source, m.target, m.readOnly, volumes, files, entry);
    } else {
      i.ctx.unsupported(i.out, path, "volumes", [entry], `a ${m.type} mount has no nix2dream form`);
    }
  }
  const tmpfs =
    i.svc.tmpfs === undefined ? [] : Array.isArray(i.svc.tmpfs) ? i.svc.tmpfs : [i.svc.tmpfs];
  for (const t of tmpfs) {
    const [target] = String(t).split(":");
    volumes.set(
      setKey(basename(target as string)),
      new TsObject().set("path", target as string).set("persistent", false),
    );
  }
  if (volumes.size > 0) i.out.set("volumes", volumes);
  if (files.size > 0) i.out.child("files").entries.push(...files.entries);
}

function namedVolume(
  i: ServiceInput,
  source: string | null,
  target: string,
  readOnly: boolean,
  volumes: TsObject,
  entry: unknown,
): void {
  const key = setKey(source ?? basename(target));
  if (source !== null && i.volumeOwners.get(source) !== i.name) {
    const owner = i.volumeOwners.get(source) as string;
    i.ctx.unsupported(
      i.out,
      at(i, "volumes"),
      "volumes",
      [entry],
      `the named volume ${source} is shared with ${owner}, which owns it in nix2dream; a service's volumes are its own (reach it with ref.${owner}.volumes.${setKey(source)} in a command or env value, which mounts it here in Compose)`,
    );
    return;
  }
  const def = new TsObject().set("path", target);
  const top = isMapping(i.doc.volumes) ? i.doc.volumes[source ?? ""] : undefined;
  volumes.set(key, def);
  if (source === null) def.entries[0]?.comment.push("An anonymous volume in Compose.");
  if (readOnly)
    i.ctx.changed(
      volumes,
      key,
      at(i, "volumes"),
      `the volume at ${target} was read-only; nix2dream mounts its volumes read-write.`,
    );
  if (isMapping(top) && Object.keys(top).length > 0) {
    i.ctx.unsupported(
      i.out,
      `volumes.${source}`,
      `volumes.${source}`,
      top,
      "volume drivers, external and named volumes' options have no nix2dream form",
    );
  }
}

function bindMount(
  i: ServiceInput,
  source: string,
  target: string,
  readOnly: boolean,
  volumes: TsObject,
  files: TsObject,
  entry: unknown,
): void {
  const abs = resolve(i.projectDir, source.replace(/^~(?=\/|$)/, process.env.HOME ?? "~"));
  const stat = existsSync(abs) ? statSync(abs) : null;
  if (stat?.isFile()) {
    const rel = relative(i.configDir, abs);
    files.set(
      target,
      new TsObject().set("source", rel.startsWith("..") || rel.startsWith("/") ? rel : `./${rel}`),
    );
    if (!readOnly)
      i.ctx.changed(
        files,
        target,
        at(i, "volumes"),
        `the bind mount of ${source} became a file, mounted read-only (it was read-write).`,
      );
    return;
  }
  if (stat && !stat.isDirectory()) {
    i.ctx.unsupported(
      i.out,
      at(i, "volumes"),
      "volumes",
      [entry],
      `${source} is neither a file nor a directory (a socket or device): target-specific, keep it with renderers.compose.override`,
    );
    return;
  }
  const key = setKey(basename(target));
  volumes.set(key, new TsObject().set("path", target));
  i.ctx.changed(
    volumes,
    key,
    at(i, "volumes"),
    `the bind mount of the directory ${source} became a persistent volume: its contents are not copied in; seed it with \`volumes.${key}.init\` or copy them in once.`,
  );
}
