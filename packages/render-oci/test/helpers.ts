import { spawnSync } from "node:child_process";
import {
  type DeploymentDefinition,
  type EvaluatedDeployment,
  evaluateDeployment,
  type RenderResult,
} from "@nix2dream/core";
import oci, { type OciOptions } from "../src/index.js";

/** Evaluates `definition` with the oci renderer in use, as the CLI does. */
export function evaluate(
  definition: Omit<DeploymentDefinition, "use">,
  opts: OciOptions = {},
  root = "/srv/shop",
): EvaluatedDeployment {
  return evaluateDeployment({ ...definition, use: [oci(opts)] } as DeploymentDefinition, {
    root,
  }).deployment;
}

/** Evaluates and renders. */
export function render(
  definition: Omit<DeploymentDefinition, "use">,
  opts: OciOptions = {},
  root = "/srv/shop",
): RenderResult {
  return oci(opts).render(evaluate(definition, opts, root));
}

/** Runs a command; fails loudly (naming the apt package) when the tool is missing. */
export function run(
  argv: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
) {
  const r = spawnSync(argv[0] as string, argv.slice(1), {
    input: opts.input,
    env: { ...process.env, DOCKER_BUILDKIT: "0", ...opts.env },
    timeout: opts.timeout ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
    const pkg =
      argv[0] === "docker" ? "docker.io" : argv[0] === "nix-instantiate" ? "nix-bin" : argv[0];
    throw new Error(`${argv[0]} is not installed: apt-get install -y ${pkg}`);
  }
  return {
    status: r.status,
    stdout: r.stdout?.toString("utf8") ?? "",
    stderr: r.stderr?.toString("utf8") ?? "",
    raw: r.stdout ?? Buffer.alloc(0),
  };
}
