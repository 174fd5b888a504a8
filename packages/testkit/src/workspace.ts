/** Loading workspace packages from their sources when they are not built. */

/**
 * `vi.mock` factory for a workspace package: the built package when it exists (as in CI, which
 * builds first), else its TypeScript sources (`packages/<dir>/src/index.ts`), so tests also run
 * while it is not built. The sources path is not a literal import so that `tsc` does not pull
 * the package's sources into the caller's program.
 */
export async function builtOrSources(
  importOriginal: () => Promise<unknown>,
  dir: string,
): Promise<unknown> {
  try {
    return await importOriginal();
  } catch {
    const sources = new URL(`../../${dir}/src/index.ts`, import.meta.url).href;
    return await import(/* @vite-ignore */ sources);
  }
}

/** {@link builtOrSources} for `@nix2dream/core`: `vi.mock("@nix2dream/core", coreOrSources)`. */
export function coreOrSources(importOriginal: () => Promise<unknown>): Promise<unknown> {
  return builtOrSources(importOriginal, "core");
}
