/**
 * Warnings for options a local process started from a Procfile cannot honour, one function per
 * aspect: the package and limits, volumes and files, ports and replicas, and (with
 * `foreman: true`) what foreman itself ignores.
 */
import type { EvaluatedService } from "@nix2dream/core";
import { STATE_DIR_VAR } from "@nix2dream/core/entrypoint";
import { fileKey, type ProcfileContext, relocated } from "./context.js";
import { primaryPort } from "./launcher.js";

/** Every warning about what `s` loses on the Procfile target. */
export function fidelityWarnings(s: EvaluatedService, ctx: ProcfileContext): void {
  packageAndLimits(s, ctx);
  volumesAndFiles(s, ctx);
  portsAndReplicas(s, ctx);
  if (ctx.opts.foreman) foremanIgnores(s, ctx);
}

function packageAndLimits(s: EvaluatedService, ctx: ProcfileContext): void {
  const n = s.name;
  const warn = (option: string, message: string) => ctx.warn(n, option, message);
  if (s.package.image !== null) {
    warn(
      "package.image",
      `The Procfile target runs programs from PATH, not images; \`${s.package.image}\` is not used.`,
    );
  }
  if (s.package.nix !== null) {
    warn(
      "package.nix",
      `The Procfile target does not build Nix packages; \`${s.command[0] ?? ""}\` must be on PATH (e.g. inside \`nix develop\`).`,
    );
  }
  if (s.user !== null)
    warn(
      "user",
      `manage-local runs the service as \`${s.user}\` only when it runs as root (its state directory is then owned by that user); otherwise, and under foreman, it runs as the user who starts it.`,
    );
  if (s.group !== null && s.user === null)
    warn("group", "`group` is applied only together with `user`; it is not applied.");
  if (s.resources.cpu !== null)
    warn("resources.cpu", "The Procfile target cannot limit CPU; `resources.cpu` is not applied.");
  if (s.resources.memory !== null)
    warn(
      "resources.memory",
      "The Procfile target cannot limit memory; `resources.memory` is not applied.",
    );
  if (Object.keys(s.labels).length)
    warn("labels", "A Procfile has no place for labels; they are not rendered.");
}

function volumesAndFiles(s: EvaluatedService, ctx: ProcfileContext): void {
  const n = s.name;
  for (const [name, v] of Object.entries(s.volumes)) {
    if (v.size !== null)
      ctx.warn(
        n,
        `volumes.${name}.size`,
        `Local volumes are directories and cannot be sized; \`${v.size}\` is not applied.`,
      );
    if (s.replicas > 1) {
      const emptied = v.persistent
        ? ""
        : ", and each replica's start empties it (it is not persistent)";
      ctx.warn(
        n,
        `volumes.${name}`,
        `All ${s.replicas} replicas share the volume directory${emptied}.`,
      );
    }
  }
  for (const target of Object.keys(s.files)) {
    // A program told the file's place through `ref.<svc>.files[...]` finds it: nothing lost.
    if (relocated(target) === undefined || ctx.referenced.has(fileKey(n, target))) continue;
    ctx.warn(
      n,
      `files.${JSON.stringify(target)}`,
      `The file is written under the state directory, at $${STATE_DIR_VAR}/${n}/files/${relocated(target)}, not at ${JSON.stringify(target)}; pass its place to the program with \`ref.${n}.files[${JSON.stringify(target)}]\`.`,
    );
  }
}

function portsAndReplicas(s: EvaluatedService, ctx: ProcfileContext): void {
  const n = s.name;
  const primary = primaryPort(s);
  for (const [name, p] of Object.entries(s.ports)) {
    if (p.hostPort !== null && p.hostPort !== p.port) {
      ctx.warn(
        n,
        `ports.${name}.hostPort`,
        `Local processes cannot remap ports; the service listens on ${p.port}, not ${p.hostPort}.`,
      );
    }
    if (s.replicas > 1 && name !== primary) {
      ctx.warn(
        n,
        `ports.${name}`,
        `Only the primary port \`${primary}\` moves per replica (through PORT); all ${s.replicas} replicas would listen on ${p.port}.`,
      );
    }
  }
  if (s.replicas > 1 && primary !== undefined) {
    ctx.warn(
      n,
      "replicas",
      `Replica n listens on PORT=${s.ports[primary]?.port}+n-1 and must read $PORT; references point at the first replica.`,
    );
  }
}

/** What a plain foreman ignores: dependencies, healthchecks, restarts, the stop signal. */
function foremanIgnores(s: EvaluatedService, ctx: ProcfileContext): void {
  const warn = (option: string, message: string) => ctx.warn(s.name, option, message);
  if (ctx.awaitedJobs.has(s.name))
    warn(
      "restart",
      "This service is a job (others wait for it to complete), and foreman stops every process as soon as one exits: when the job finishes, foreman stops the whole deployment. Run it with manage-local (`nix2dream up`), or run the job on its own before `foreman start`.",
    );
  if (Object.keys(s.dependsOn).length)
    warn(
      "dependsOn",
      "foreman starts every process at once; `dependsOn` is honoured only by manage-local (processes.json).",
    );
  if (s.healthcheck)
    warn(
      "healthcheck",
      "foreman has no healthchecks; the healthcheck is honoured only by manage-local (processes.json).",
    );
  if (s.restart.policy !== "no")
    warn(
      "restart",
      "foreman does not restart processes: when one exits it stops them all; `restart` is honoured only by manage-local.",
    );
  if (s.stop.signal !== "SIGTERM")
    warn(
      "stop.signal",
      `foreman always sends SIGTERM; \`${s.stop.signal}\` is honoured only by manage-local.`,
    );
}
