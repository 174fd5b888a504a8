/** Temporary directories that tests do not have to clean up themselves. */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, onTestFinished } from "vitest";

/**
 * A temporary directory (`<tmpdir>/<prefix>XXXXXX`) for the calling test file or `describe`,
 * created before its first test and removed after its last. Call it at the top level of the
 * file or suite; nothing is created when the file's tests are filtered out (a tag filter still
 * runs describe bodies, never hooks).
 */
export function fileTempDir(prefix: string): string {
  const dir = join(tmpdir(), `${prefix}${Math.random().toString(36).slice(2, 8)}`);
  beforeAll(() => mkdirSync(dir, { recursive: true }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Directories made outside a test (in a hook or a describe body), removed after the test file.
// Vitest evaluates this module once per test file, so the hook belongs to that file.
const outsideTests = new Set<string>();
afterAll(() => {
  for (const dir of outsideTests) rmSync(dir, { recursive: true, force: true });
  outsideTests.clear();
});

/**
 * A fresh temporary directory, created now and removed when the current test finishes (called
 * inside a test) or after the test file (called in a hook or a describe body).
 */
export function tempDir(prefix = "n2d-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  } catch {
    outsideTests.add(dir);
  }
  return dir;
}
