import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Artifact } from "@nix2dream/core";
import { Ajv } from "ajv";

/** Writes artifacts under a new temporary directory as the CLI would (mode included). */
export function writeRender(artifacts: Artifact[]): string {
  const dir = mkdtempSync(join(tmpdir(), "n2d-compose-render-"));
  for (const a of artifacts) {
    const path = join(dir, a.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, a.content);
    chmodSync(path, a.mode ?? 0o644);
  }
  return dir;
}

/** The text of one artifact; fails when it is missing. */
export function artifact(artifacts: Artifact[], path: string): string {
  const a = artifacts.find((x) => x.path === path);
  if (!a) throw new Error(`no artifact ${path}; have ${artifacts.map((x) => x.path).join(", ")}`);
  return typeof a.content === "string" ? a.content : new TextDecoder().decode(a.content);
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
