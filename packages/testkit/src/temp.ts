/** Temporary directories that tests do not have to clean up themselves. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/**
 * A fresh temporary directory (`<tmpdir>/<prefix>XXXXXX`) for the calling test file or
 * `describe`, removed after all its tests. Call it at the top level of the file or suite.
 */
export function fileTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
