import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Artifact } from "@nix2dream/core";

/** Writes artifacts under `dir` as the composition package would (mode included). */
export function writeArtifacts(dir: string, artifacts: Artifact[]): void {
  for (const a of artifacts) {
    const path = join(dir, a.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, a.content);
    chmodSync(path, a.mode ?? 0o644);
  }
}

/** The text of one artifact; fails when it is missing. */
export function artifact(artifacts: Artifact[], path: string): string {
  const a = artifacts.find((x) => x.path === path);
  if (!a) throw new Error(`no artifact ${path}; have ${artifacts.map((x) => x.path).join(", ")}`);
  return typeof a.content === "string" ? a.content : new TextDecoder().decode(a.content);
}

/**
 * `vi.mock("@nix2dream/core", ...)` factory: core's built package when it exists (as in CI, which
 * builds first), else its sources, so these tests also run while core is not built. The path is
 * not a literal so that `tsc` does not pull core's sources into this package's program.
 */
export async function coreOrSources(importOriginal: () => Promise<unknown>): Promise<unknown> {
  try {
    return await importOriginal();
  } catch {
    const sources = new URL("../../core/src/index.ts", import.meta.url).href;
    return await import(/* @vite-ignore */ sources);
  }
}
