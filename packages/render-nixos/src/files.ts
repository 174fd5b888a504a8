/**
 * The files aspect: a file under `/etc` goes through `environment.etc`; elsewhere it is a store
 * path bound read-only into the service (`BindReadOnlyPaths=`).
 */
import { resolveRefs, type ServiceFile } from "@nix2dream/core";
import { type NixExpr, nixExpr, nixString } from "@nix2dream/core/nix";
import { BIND_SAFE, type ServiceContext } from "./context.js";

/** Characters of a Nix store path name. */
const STORE_NAME_BAD = /[^A-Za-z0-9+._?=-]/g;

function storeName(deployment: string, service: string, target: string): string {
  const base = target.split("/").filter(Boolean).pop() ?? "file";
  return `${deployment}-${service}-${base}`.replace(STORE_NAME_BAD, "_").replace(/^\.+/, "_");
}

/** A file's content as Nix: its text (references resolved) or its source as a path. */
type FileContent = { text: string } | { source: NixExpr; sourceExpr: string };

/**
 * The service's files: `/etc` entries are added to `ctx.etc`; the `BindReadOnlyPaths=` entries
 * of the others are returned. A file that cannot be shipped is an error.
 */
export function filesOf(ctx: ServiceContext): string[] {
  const bindReadOnly: string[] = [];
  for (const [target, f] of Object.entries(ctx.service.files)) {
    const opt = ctx.at(`files.${JSON.stringify(target)}`);
    if (!shippablePath(target, opt, ctx)) continue;
    const mode = /^[0-7]{3,4}$/.test(f.mode) ? Number.parseInt(f.mode, 8) : 0o644;
    if ((mode & 0o004) === 0 && f.text !== null) {
      ctx.warn(
        `${opt}.mode`,
        `The file's text is in the Nix store, which every local user can read, whatever its mode ${f.mode}; keep secret values in \`secrets\`.`,
      );
    }
    const content = fileContentOf(f, opt, ctx);
    if (content === null) continue;
    if (target.startsWith("/etc/") && target.length > 5) {
      ctx.etc[target.slice(5)] = etcEntryOf(f, mode, content, opt, ctx);
    } else if (!BIND_SAFE.test(target)) {
      ctx.warn(
        opt,
        `BindReadOnlyPaths= cannot carry the path ${JSON.stringify(target)} (spaces, quotes, \`:\` or \`%\`); the file is not shipped.`,
        "error",
      );
    } else {
      bindReadOnly.push(storeBindOf(target, f, mode, content, opt, ctx));
    }
  }
  return bindReadOnly;
}

/** False (with an error) for a path with `.`/`..` segments or a relative one. */
function shippablePath(target: string, opt: string, ctx: ServiceContext): boolean {
  if (target.split("/").some((seg) => seg === ".." || seg === ".")) {
    ctx.warn(
      opt,
      `A file path with \`.\` or \`..\` segments could land outside its place; ${JSON.stringify(target)} is not shipped.`,
      "error",
    );
    return false;
  }
  if (!target.startsWith("/")) {
    ctx.warn(
      opt,
      `A NixOS file needs an absolute path; ${JSON.stringify(target)} is not shipped.`,
      "error",
    );
    return false;
  }
  return true;
}

/** The file's content, or null when there is none or a relative `source` has no root. */
function fileContentOf(f: ServiceFile, opt: string, ctx: ServiceContext): FileContent | null {
  if (f.text !== null) return { text: resolveRefs(f.text, ctx.resolve) };
  if (f.source === null) return null;
  const root = ctx.deployment.root;
  const abs = f.source.startsWith("/")
    ? f.source
    : root === null
      ? null
      : `${root.replace(/\/+$/, "")}/${f.source}`;
  if (abs === null) {
    ctx.warn(
      `${opt}.source`,
      "A relative `source` needs the config file's directory, which this evaluation has none of; the file is not shipped.",
      "error",
    );
    return null;
  }
  const sourceExpr = `/. + ${nixString(abs)}`;
  return { source: nixExpr(sourceExpr), sourceExpr };
}

/** The `environment.etc` entry: content, and mode and owner when the mode is not 0644. */
function etcEntryOf(
  f: ServiceFile,
  mode: number,
  content: FileContent,
  opt: string,
  ctx: ServiceContext,
): Record<string, unknown> {
  const entry: Record<string, unknown> =
    "text" in content ? { text: content.text } : { source: content.source };
  if (f.mode === "0644") return entry;
  entry.mode = f.mode;
  const s = ctx.service;
  if (!ctx.dynamicUser && s.user !== null) {
    entry.user = s.user;
    entry.group = s.group ?? s.user;
  } else if ((mode & 0o044) === 0) {
    ctx.warn(
      `${opt}.mode`,
      `With a dynamic user the file cannot belong to the service; mode ${f.mode} makes it unreadable to it (set \`user\`).`,
    );
  }
  return entry;
}

/** `<store path>:<target>` for BindReadOnlyPaths=; a writable mode is reported. */
function storeBindOf(
  target: string,
  f: ServiceFile,
  mode: number,
  content: FileContent,
  opt: string,
  ctx: ServiceContext,
): string {
  const name = storeName(ctx.dep, ctx.service.name, target);
  const store =
    "text" in content
      ? (mode & 0o111) !== 0
        ? `pkgs.writeScript ${nixString(name)} ${nixString(content.text)}`
        : `pkgs.writeText ${nixString(name)} ${nixString(content.text)}`
      : content.sourceExpr;
  if ((mode & 0o222) !== 0) {
    ctx.warn(
      `${opt}.mode`,
      `The file is bound read-only from the Nix store (mode ${(mode & 0o111) !== 0 ? "0555" : "0444"}), not ${f.mode}.`,
    );
  }
  return `${ctx.nix.uniqueMarker(store)}:${target}`;
}
