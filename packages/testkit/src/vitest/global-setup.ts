/**
 * Vitest global setup of the monorepo (see vitest.config.ts):
 * - fails at once, naming the package, when a workspace package is not built: tests import the
 *   built packages as users do, so a missing or broken build can never be hidden by a fallback;
 * - gives the run a temporary directory of its own (`TMPDIR`, inherited by every worker and
 *   every process the tests start) and, at the end, fails the run if something was left in it,
 *   listing what, before removing it. Concurrent runs never share temporary files.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/** Paths (relative to the repository) of the built entry points that are missing. */
function missingBuilds(): string[] {
  const missing: string[] = [];
  for (const dir of readdirSync(join(ROOT, "packages"))) {
    const manifest = join(ROOT, "packages", dir, "package.json");
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, "utf8"));
    if (!pkg.scripts?.build) continue;
    const entries = [pkg.main, pkg.types].filter((e): e is string => typeof e === "string");
    for (const entry of entries) {
      if (!existsSync(join(ROOT, "packages", dir, entry))) missing.push(`packages/${dir}/${entry}`);
    }
  }
  return missing;
}

/** What is left under `dir`, two levels deep at most, for the report. */
function leftovers(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    try {
      const inner = readdirSync(path);
      return inner.length === 0 ? [name] : inner.slice(0, 5).map((n) => `${name}/${n}`);
    } catch {
      return [name];
    }
  });
}

export default function setup(): () => void {
  const missing = missingBuilds();
  if (missing.length > 0) {
    throw new Error(
      `Not built: ${missing.join(", ")}. Tests run against the built packages, as users get them; run \`npm test\` (it builds first) or \`npm run build\`.`,
    );
  }
  const previous = process.env.TMPDIR;
  const runTmp = mkdtempSync(join(tmpdir(), "n2d-run-"));
  // As open as /tmp itself: programs the tests start may run as other users (systemd's test
  // mode refuses a private parent directory).
  chmodSync(runTmp, 0o1777);
  process.env.TMPDIR = runTmp;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    const left = leftovers(runTmp);
    rmSync(runTmp, { recursive: true, force: true });
    if (left.length > 0) {
      console.error(
        `\nTests left ${left.length} temporary path(s) behind (removed now): ${left.join(", ")}. Each test removes what it creates (testkit's fileTempDir does it for you).`,
      );
      process.exitCode = 1;
    }
  };
}
