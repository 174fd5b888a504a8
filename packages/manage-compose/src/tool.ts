/**
 * Finding and running the Compose tool (`docker compose` v2 or `docker-compose` v1) and the
 * Docker engine it talks to.
 */
import { type CommandResult, runCommand, UserError } from "@nix2dream/core";

/** A user-facing failure: printed as one paragraph, exit code 1. */
export class ComposeManagerError extends UserError {
  constructor(code: string, message: string) {
    super(`MANAGE_COMPOSE_${code}`, message, { source: "manager compose" });
    this.name = "ComposeManagerError";
  }
}

/** The Compose command found on this machine. */
export interface ComposeTool {
  /** argv prefix: `["docker", "compose"]` or `["docker-compose"]`. */
  argv: string[];
  /** 2 for the Go plugin, 1 for the Python docker-compose. */
  major: 1 | 2;
  version: string;
}

async function tryVersion(argv: string[], env: NodeJS.ProcessEnv): Promise<string | null> {
  try {
    const r = await runCommand([...argv, "version", "--short"], { env });
    return r.code === 0 ? r.stdout.trim() : null;
  } catch {
    return null;
  }
}

/**
 * The Compose tool to use: `docker compose` (v2) when the plugin answers, else `docker-compose`
 * (v1). `prefer` forces one of them.
 * @throws ComposeManagerError `NO_COMPOSE` naming what to install when neither is present.
 */
export async function findCompose(
  env: NodeJS.ProcessEnv = process.env,
  prefer?: 1 | 2,
): Promise<ComposeTool> {
  if (prefer !== 1) {
    const v2 = await tryVersion(["docker", "compose"], env);
    if (v2 !== null) return { argv: ["docker", "compose"], major: 2, version: v2 };
  }
  if (prefer !== 2) {
    const v1 = await tryVersion(["docker-compose"], env);
    if (v1 !== null) return { argv: ["docker-compose"], major: 1, version: v1 };
  }
  throw new ComposeManagerError(
    "NO_COMPOSE",
    prefer === 2
      ? "`docker compose` (the Compose v2 plugin) is not installed. Install it (Debian: `apt-get install -y docker-compose-plugin` from Docker's repository) or use docker-compose v1."
      : "Neither `docker compose` (v2) nor `docker-compose` (v1) is installed. Install one: `apt-get install -y docker-compose` (Debian's v1) or the `docker-compose-plugin` (v2).",
  );
}

/**
 * Checks that a Docker engine answers.
 * @throws ComposeManagerError `NO_DOCKER` when there is no `docker` command, `NO_ENGINE` when
 * no engine answers.
 */
export async function checkEngine(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let r: CommandResult;
  try {
    r = await runCommand(["docker", "info", "--format", "{{.ServerVersion}}"], { env });
  } catch {
    throw new ComposeManagerError(
      "NO_DOCKER",
      "The `docker` command is not installed; the compose manager needs it: `apt-get install -y docker.io`.",
    );
  }
  const version = r.stdout.trim();
  if (r.code !== 0 || !version) {
    const why = r.stderr.trim().split("\n").pop() ?? "";
    throw new ComposeManagerError(
      "NO_ENGINE",
      `No Docker engine answers (\`docker info\` failed${why ? `: ${why}` : ""}). Start it (\`dockerd\`, or \`systemctl start docker\`) or point DOCKER_HOST at one.`,
    );
  }
  return version;
}
