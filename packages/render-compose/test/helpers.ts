import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Artifact } from "@nix2dream/core";
import { writeArtifacts } from "@nix2dream/testkit";
import { Ajv } from "ajv";

/** Writes artifacts under a new temporary directory as the CLI would (mode included). */
export function writeRender(artifacts: Artifact[]): string {
  const dir = mkdtempSync(join(tmpdir(), "n2d-compose-render-"));
  writeArtifacts(dir, artifacts);
  return dir;
}

const require = createRequire(import.meta.url);

/** Validates against the current Compose Specification schema (the one npm `dclint` ships). */
export function composeSchemaErrors(doc: unknown): string[] {
  const schemaFile = join(
    dirname(require.resolve("dclint/package.json")),
    "schemas/compose.schema.json",
  );
  const schema = JSON.parse(readFileSync(schemaFile, "utf8")) as Record<string, unknown>;
  const { $schema: _ignored, ...rest } = schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(rest);
  if (validate(doc)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`,
  );
}

/** Runs `docker-compose config -q` (v1) in `dir`; fails loudly when it is not installed. */
export function composeConfig(dir: string, quiet = true, env: NodeJS.ProcessEnv = {}): string {
  try {
    execFileSync("docker-compose", ["version"], { stdio: "ignore" });
  } catch {
    throw new Error(
      "docker-compose is not installed: `apt-get install -y docker-compose` (Debian) — this test needs the real tool.",
    );
  }
  return execFileSync(
    "docker-compose",
    ["-f", "compose.yaml", "config", ...(quiet ? ["-q"] : [])],
    {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
}
