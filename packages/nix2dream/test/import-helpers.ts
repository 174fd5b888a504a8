/**
 * Helpers of the import tests: temporary copies of the fixtures in which the generated config
 * can load (node_modules linking the workspace's packages) and be type-checked by `tsc`.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli, tempDir } from "@nix2dream/testkit";

const here = dirname(fileURLToPath(import.meta.url));
const packages = resolve(here, "../..");
const root = resolve(packages, "..");

/** The fixtures of `nix2dream import`. */
export const IMPORT_FIXTURES = join(here, "fixtures", "import");

/** Every renderer: `[package, default import name]`. */
export const ALL_RENDERERS: Array<[string, string]> = [
  ["render-compose", "compose"],
  ["render-k8s", "k8s"],
  ["render-systemd", "systemd"],
  ["render-nixos", "nixos"],
  ["render-oci", "oci"],
  ["render-procfile", "procfile"],
];

const LINKED = [
  "render-k8s",
  "render-systemd",
  "render-nixos",
  "render-oci",
  "core",
  "modules",
  "render-compose",
  "manage-compose",
  "render-procfile",
  "manage-local",
];

/**
 * A temporary project: a copy of the fixture `name` (or an empty directory) with node_modules
 * linking nix2dream and the plugins a generated config imports. Removed after the test (file).
 */
export function importProject(name: string | null): string {
  const dir = realpathSync(tempDir("n2d-import-"));
  if (name !== null) cpSync(join(IMPORT_FIXTURES, name), dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), '{ "private": true, "type": "module" }\n');
  mkdirSync(join(dir, "node_modules", "@nix2dream"), { recursive: true });
  symlinkSync(join(packages, "nix2dream"), join(dir, "node_modules", "nix2dream"));
  for (const p of LINKED)
    symlinkSync(join(packages, p), join(dir, "node_modules", "@nix2dream", p));
  mkdirSync(join(dir, "node_modules", "@types"), { recursive: true });
  symlinkSync(
    realpathSync(join(root, "node_modules", "@types", "node")),
    join(dir, "node_modules", "@types", "node"),
  );
  return dir;
}

/** Runs the built CLI in `dir`. */
export function n2d(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = runCli(args, { cwd: dir, env: { NO_COLOR: "1", ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Type-checks `files` (relative to `dir`) with the workspace's TypeScript under `strict` and
 * `noUncheckedIndexedAccess`, the strictest settings a user's project may have (the import
 * writes the typed form of `defineDeployment`); returns tsc's output and status.
 */
export function typecheck(dir: string, files: string[]): { status: number | null; output: string } {
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noUncheckedIndexedAccess: true,
        noEmit: true,
        allowImportingTsExtensions: true,
        skipLibCheck: true,
        types: ["node"],
      },
      files,
    }),
  );
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], {
    encoding: "utf8",
    cwd: dir,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
