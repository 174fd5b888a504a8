/** Running the built `nix2dream` CLI (packages/nix2dream/dist/cli.js) as a user would. */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The built CLI's entry file. */
export const CLI = fileURLToPath(new URL("../../nix2dream/dist/cli.js", import.meta.url));

/** Fails loudly when the CLI has not been built; returns its path. */
export function requireCli(): string {
  if (!existsSync(CLI)) {
    throw new Error(
      `${CLI} is missing: build it first (pnpm exec turbo run build --filter nix2dream...)`,
    );
  }
  return CLI;
}

/**
 * Runs the built CLI with `node` and waits for it (two minutes at most by default); the
 * environment is this process's plus `env`.
 */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [requireCli(), ...args], {
    cwd: opts.cwd,
    encoding: "utf8",
    env: { ...process.env, ...opts.env },
    timeout: opts.timeout ?? 120_000,
  });
}
