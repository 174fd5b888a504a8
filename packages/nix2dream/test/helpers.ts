import { type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI, requireCli } from "@nix2dream/testkit";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, "..");

/** The built CLI the tests run, as a user would. */
export { CLI };

/** Fails early with a clear message when the package has not been built. */
export function requireBuild(): void {
  requireCli();
}

const created: string[] = [];

/**
 * A temporary project: `files` written under a fresh directory, `plugins.ts` (the fixture
 * renderer and manager) beside them, and node_modules links to nix2dream and its core so the
 * config imports them as an installed package.
 */
export async function project(files: Record<string, string>): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), "nix2dream-cli-")));
  created.push(dir);
  await mkdir(join(dir, "node_modules", "@nix2dream"), { recursive: true });
  await symlink(pkg, join(dir, "node_modules", "nix2dream"));
  for (const dep of ["core", "modules"]) {
    await symlink(
      await realpath(join(pkg, "node_modules", "@nix2dream", dep)),
      join(dir, "node_modules", "@nix2dream", dep),
    );
  }
  await copyFile(join(here, "fixtures", "plugins.ts"), join(dir, "plugins.ts"));
  for (const [path, content] of Object.entries(files)) await put(dir, path, content);
  return dir;
}

/** Writes one file of a project (creating directories). */
export async function put(dir: string, path: string, content: string): Promise<void> {
  await mkdir(dirname(join(dir, path)), { recursive: true });
  await writeFile(join(dir, path), content);
}

/** Removes every project created so far. */
export async function cleanProjects(): Promise<void> {
  await Promise.all(created.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** The environment the CLI runs with: no colour variables unless a test sets them. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI in `cwd` and waits for it. */
export function cli(cwd: string, args: string[], env: Record<string, string> = {}): CliResult {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: cleanEnv(env),
    encoding: "utf8",
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs the built CLI under a pseudo-terminal (util-linux `script`, Debian's bsdutils, part of
 * every Debian system), so stdout and stderr are a TTY; fails loudly when `script` is missing.
 */
export function cliOnTty(cwd: string, args: string[], env: Record<string, string> = {}): CliResult {
  const probe = spawnSync("script", ["--version"], { encoding: "utf8" });
  if (probe.status !== 0) {
    throw new Error("`script` is missing: apt-get install -y bsdutils (util-linux's script)");
  }
  const command = [process.execPath, CLI, ...args]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(" ");
  const r = spawnSync("script", ["-qec", command, "/dev/null"], {
    cwd,
    env: cleanEnv(env),
    encoding: "utf8",
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the built CLI without waiting for it. */
export function startCli(cwd: string, args: string[]) {
  return spawn(process.execPath, [CLI, ...args], { cwd, env: cleanEnv(), stdio: "pipe" });
}

/** A config using the fixture plugins; `body` is the object passed to defineDeployment. */
export function config(
  body: string,
  imports = 'import { echo, files } from "./plugins.ts";',
): string {
  return `import { defineDeployment } from "nix2dream";\n${imports}\n\nexport default defineDeployment(${body});\n`;
}
