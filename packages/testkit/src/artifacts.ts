/** Reading and writing a render's artifacts as the composition package would. */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Artifact } from "@nix2dream/core";

/** An artifact's content as text (UTF-8 decoded when it is bytes; a host file's is read, as the writer would). */
export function artifactText(a: Artifact): string {
  if (typeof a.source === "string") return readFileSync(a.source, "utf8");
  return typeof a.content === "string" ? a.content : new TextDecoder().decode(a.content);
}

/** The text of the artifact at `path`; fails, listing the paths there are, when it is missing. */
export function artifact(artifacts: readonly Artifact[], path: string): string {
  const a = artifacts.find((x) => x.path === path);
  if (!a) throw new Error(`no artifact ${path}; have ${artifacts.map((x) => x.path).join(", ")}`);
  return artifactText(a);
}

/** Writes artifacts under `dir` as the composition package would (mode included, 0644 default). */
export function writeArtifacts(dir: string, artifacts: readonly Artifact[]): void {
  for (const a of artifacts) {
    const path = join(dir, a.path);
    mkdirSync(dirname(path), { recursive: true });
    if (typeof a.source === "string") copyFileSync(a.source, path);
    else writeFileSync(path, a.content);
    chmodSync(path, a.mode ?? 0o644);
  }
}
