import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

/** Fails loudly when the Docker engine does not answer. */
export function requireDocker(): void {
  const r = run(["docker", "version", "--format", "{{.Server.Version}}"]);
  if (r.status !== 0) {
    throw new Error(
      `No Docker engine answers (apt-get install -y docker.io, then start dockerd): ${r.stderr.trim()}`,
    );
  }
}

/**
 * Builds `tag` FROM scratch with Debian's busybox-static (no registry is reachable here) and
 * `/bin/sh` and the applets linked into /bin.
 */
export function buildBusyboxBase(tag: string): void {
  const dir = mkdtempSync(join(tmpdir(), "n2d-oci-base-"));
  try {
    try {
      copyFileSync("/bin/busybox", join(dir, "busybox"));
    } catch {
      throw new Error("/bin/busybox is missing: apt-get install -y busybox-static");
    }
    writeFileSync(
      join(dir, "Dockerfile"),
      'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","--install","-s","/bin"]\n',
    );
    const r = run(["docker", "build", "-q", "-t", tag, dir]);
    if (r.status !== 0) throw new Error(`building ${tag} failed: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
