/**
 * OCI build contexts: what every container target (OCI images, Compose, Kubernetes) needs to
 * turn one service into an image built `FROM` a base image. The context holds a `Dockerfile` and
 * the service's launcher (`entrypoint.sh`, from {@link entrypointScript}) with container
 * settings: files and volumes at their declared absolute paths, secrets read when the container
 * starts. Pure: nothing here reads the disk; `files.*.source` contents are listed in
 * {@link OciBuildContext.sources} for the build step to copy in.
 */
import { createHash } from "node:crypto";
import { posix, resolve as resolvePath } from "node:path";
import { programNotInImage } from "./base-image.js";
import type { Artifact, Diagnostic } from "./contracts.js";
import type { EvaluatedDeployment, EvaluatedService } from "./deployment.js";
import { entrypointScript } from "./entrypoint.js";
import { diagnostic } from "./helpers.js";
import { describeRef, type Ref } from "./refs.js";
import type { RefResolver, ResolvedRef } from "./shell.js";

/** Directory inside the image that holds what nix2dream adds (launcher, copied sources). */
export const OCI_DIR = "/nix2dream";
/** Path of the launcher inside the image. */
export const OCI_ENTRYPOINT = `${OCI_DIR}/entrypoint.sh`;
/** Shell the launcher runs with; the base image must provide it (busybox does). */
export const OCI_SHELL = "/bin/sh";
/** Name of the launcher in the build context. */
export const OCI_ENTRYPOINT_FILE = "entrypoint.sh";
/** Name of the Dockerfile in the build context. */
export const OCI_DOCKERFILE = "Dockerfile";

/** Options of {@link ociBuildContext}. */
export interface OciBuildContextOptions {
  /** Image the service's image is built `FROM`; it must have `/bin/sh` and the service's program. */
  baseImage: string;
  /** Resolves references for the target (e.g. from {@link containerRefResolver}). */
  resolve: RefResolver;
}

/** A host file the build step must copy into the context before building (`files.*.source`). */
export interface OciContextSource {
  /** Absolute path on the machine that renders/builds (resolved against the config's directory). */
  from: string;
  /** Path inside the build context, `/`-separated. */
  path: string;
}

/** One service's build context. */
export interface OciBuildContext {
  /** `Dockerfile` and `entrypoint.sh`, paths relative to the context directory. */
  artifacts: Artifact[];
  diagnostics: Diagnostic[];
  /**
   * Lowercase hex sha256 over the context (paths, modes, contents, and the list of sources):
   * equal contexts give equal hashes, for deterministic image tags. The contents of `sources`
   * are not known to a pure function and are not part of it.
   */
  contentHash: string;
  /** Host files to copy into the context before `docker build`; empty for most services. */
  sources: OciContextSource[];
}

/**
 * Whether `image` looks like an image reference `docker build` accepts in `FROM`
 * (`busybox`, `registry:5000/a/b:tag`, `name@sha256:…`): no whitespace, quotes, `$` or control characters.
 */
export function isImageReference(image: string): boolean {
  return /^[a-z0-9][a-z0-9._/:-]*(@sha256:[a-f0-9]{64})?$/i.test(image) && !image.includes("//");
}

/**
 * A Dockerfile exec-form argument list (`["/bin/sh","x"]`): a JSON array of strings, which
 * is what Docker parses as exec form. `JSON.stringify` never emits a raw newline, so the
 * instruction stays on one line whatever the arguments hold.
 */
export function dockerfileExecForm(argv: readonly string[]): string {
  return JSON.stringify(argv);
}

const DOCKER_USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const STOP_SIGNAL = /^(SIG[A-Z0-9+-]+|[0-9]+)$/;

/**
 * A {@link RefResolver} for services running as containers that reach each other by name on one
 * network: hosts are `hostOf(service)` (e.g. the service name in Compose), ports the container
 * ports, volumes and files their declared paths. A reference that does not point at anything is
 * passed to `report` (once per call site, by the caller's choice) and resolves to `""`.
 */
export function containerRefResolver(
  deployment: Pick<EvaluatedDeployment, "services">,
  hostOf: (service: string) => string,
  report?: (ref: Ref, why: string) => void,
): RefResolver {
  const missing = (r: Ref, why: string): ResolvedRef => {
    report?.(r, why);
    return "";
  };
  return (r) => {
    const target = deployment.services[r.service];
    if (!target) return missing(r, `service \`${r.service}\` is not in the deployment`);
    switch (r.kind) {
      case "host":
        return hostOf(r.service);
      case "port":
      case "address": {
        const p = target.ports[r.port];
        if (!p) return missing(r, `service \`${r.service}\` has no port \`${r.port}\``);
        return r.kind === "port" ? String(p.port) : `${hostOf(r.service)}:${p.port}`;
      }
      case "volume": {
        const v = target.volumes[r.volume];
        if (!v) return missing(r, `service \`${r.service}\` has no volume \`${r.volume}\``);
        return v.path;
      }
      case "file":
        if (!target.files[r.path]) {
          return missing(r, `service \`${r.service}\` has no file \`${r.path}\``);
        }
        return r.path;
    }
  };
}

/**
 * A resolver that reports each unresolvable reference once as an error diagnostic about
 * service `from`, for use with {@link containerRefResolver}'s `report`.
 */
export function refReporter(
  from: string,
  diagnostics: Diagnostic[],
  files?: Record<string, string[]>,
): (ref: Ref, why: string) => void {
  const seen = new Set<string>();
  return (r, why) => {
    const key = describeRef(r);
    if (seen.has(key)) return;
    seen.add(key);
    diagnostics.push(
      diagnostic(
        { definitionFiles: files ?? {} },
        {
          severity: "error",
          option: `services.${from}`,
          service: from,
          message: `\`${key}\` cannot be resolved: ${why}.`,
        },
      ),
    );
  };
}

/** sha256 over artifacts and sources, each field length-prefixed so no two contexts collide. */
export function contextHash(
  artifacts: readonly Artifact[],
  sources: readonly OciContextSource[] = [],
): string {
  const h = createHash("sha256");
  const field = (data: string | Uint8Array) => {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    h.update(`${bytes.length}:`);
    h.update(bytes);
  };
  for (const a of [...artifacts].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))) {
    field(a.path);
    field(String(a.mode ?? 0o644));
    field(a.content);
  }
  for (const s of sources) {
    field(s.path);
    field(s.from);
  }
  return h.digest("hex");
}

function sourceName(index: number, from: string): string {
  const base = posix.basename(from.replaceAll("\\", "/")).replace(/[^A-Za-z0-9._-]/g, "_");
  return `sources/${index}-${base || "file"}`;
}

/**
 * The build context of one service: a `Dockerfile` (`FROM` the base image, `COPY` of the
 * launcher and of `files.*.source` files, `USER`, `EXPOSE`, `STOPSIGNAL`, and an exec-form
 * `ENTRYPOINT` running the launcher with `/bin/sh`, so the service's program replaces the shell
 * and is PID 1) and `entrypoint.sh`. The launcher writes `files` at their declared absolute
 * paths, creates volumes at their declared paths (running `init` on an empty one and `check` on
 * every start) and reads secrets when the container starts, from a variable (`docker run -e`)
 * or a mounted file: secret values are never in the context, never `COPY`ed and never `ENV`.
 * Environment values are exported by the launcher, not baked in with `ENV`. Options a
 * Dockerfile cannot carry safely come back as diagnostics.
 */
export function ociBuildContext(
  service: EvaluatedService,
  deployment: Pick<EvaluatedDeployment, "name" | "root" | "definitionFiles">,
  opts: OciBuildContextOptions,
): OciBuildContext {
  const svc = service.name;
  const diagnostics: Diagnostic[] = [];
  const report = (severity: Diagnostic["severity"], option: string, message: string) =>
    diagnostics.push(
      diagnostic(deployment, {
        severity,
        service: svc,
        option: `services.${svc}${option ? `.${option}` : ""}`,
        message,
      }),
    );

  const sources: OciContextSource[] = [];
  const sourceIn = new Map<string, string>();
  for (const [target, f] of Object.entries(service.files)) {
    if (!target.startsWith("/")) {
      report(
        "error",
        `files.${JSON.stringify(target)}`,
        `In a container, files are written at their declared path, which must be absolute; \`${target}\` is not.`,
      );
    }
    if (f.source === null || sourceIn.has(f.source)) continue;
    let from = f.source;
    if (!from.startsWith("/")) {
      if (deployment.root === null) {
        report(
          "error",
          `files.${JSON.stringify(target)}.source`,
          `\`${from}\` is relative, and the deployment was evaluated from memory (no config directory to resolve it against).`,
        );
        continue;
      }
      from = resolvePath(deployment.root, from);
    }
    const path = sourceName(sources.length, from);
    sources.push({ from, path });
    sourceIn.set(f.source, `${OCI_DIR}/${path}`);
  }
  for (const [name, v] of Object.entries(service.volumes)) {
    if (!v.path.startsWith("/")) {
      report(
        "error",
        `volumes.${name}.path`,
        `In a container, volumes are at their declared path, which must be absolute; \`${v.path}\` is not.`,
      );
    }
  }
  if (service.workingDir !== null && !service.workingDir.startsWith("/")) {
    report(
      "warning",
      "workingDir",
      `\`${service.workingDir}\` is relative; in a container it is relative to the image's working directory.`,
    );
  }

  const entry = entrypointScript(service, {
    resolve: opts.resolve,
    deployment: deployment.name,
    definitionFiles: deployment.definitionFiles,
    sourcePath: (source) => sourceIn.get(source) ?? source,
    emptyEphemeralVolumes: false,
  });
  diagnostics.push(...entry.diagnostics);

  const lines: string[] = [
    `# Image of service ${JSON.stringify(svc)} of deployment ${JSON.stringify(deployment.name)}, generated by nix2dream; do not edit.`,
  ];
  let base = opts.baseImage;
  if (!isImageReference(base)) {
    report(
      "error",
      "renderers.oci.baseImage",
      `The base image ${JSON.stringify(base)} is not an image reference (like \`busybox:1.36\` or \`registry:5000/base@sha256:…\`).`,
    );
    base = "scratch";
  } else {
    const missing = programNotInImage(service, deployment, base);
    if (missing) diagnostics.push(missing);
  }
  lines.push(`FROM ${base}`);
  lines.push(`COPY ${OCI_ENTRYPOINT_FILE} ${OCI_ENTRYPOINT}`);
  for (const s of sources) lines.push(`COPY ${s.path} ${OCI_DIR}/${s.path}`);

  const ports = Object.entries(service.ports)
    .map(([, p]) => `${p.port}/${p.protocol}`)
    .filter((p, i, all) => all.indexOf(p) === i)
    .sort();
  if (ports.length) lines.push(`EXPOSE ${ports.join(" ")}`);

  if (service.user !== null || service.group !== null) {
    const ok = (v: string | null) => v === null || DOCKER_USER.test(v);
    if (!ok(service.user) || !ok(service.group)) {
      report(
        "error",
        service.user !== null && !ok(service.user) ? "user" : "group",
        "A user or group name in an image must be a plain name or number (letters, digits, `_`, `.`, `-`); the image runs as the base image's user.",
      );
    } else if (service.user === null) {
      report(
        "warning",
        "group",
        "An image can only set a group together with a user; `group` is ignored without `user`.",
      );
    } else {
      lines.push(`USER ${service.user}${service.group === null ? "" : `:${service.group}`}`);
      if (Object.keys(service.files).length || Object.keys(service.volumes).length) {
        report(
          "warning",
          "user",
          `The launcher runs as \`${service.user}\`: the base image must know this user, and the directories of \`files\` and \`volumes\` must exist writable for it (or be mounted so).`,
        );
      }
    }
  }
  if (STOP_SIGNAL.test(service.stop.signal)) {
    lines.push(`STOPSIGNAL ${service.stop.signal}`);
  } else {
    report(
      "error",
      "stop.signal",
      `\`${service.stop.signal}\` is not a signal name like SIGTERM or a number; the image keeps the default.`,
    );
  }
  lines.push(`ENTRYPOINT ${dockerfileExecForm([OCI_SHELL, OCI_ENTRYPOINT])}`);
  // The launcher takes no argument in normal runs; `docker run IMAGE --exec CMD` still works.
  lines.push(`CMD ${dockerfileExecForm([])}`);

  const artifacts: Artifact[] = [
    { path: OCI_DOCKERFILE, content: `${lines.join("\n")}\n` },
    { path: OCI_ENTRYPOINT_FILE, content: entry.script, mode: 0o755 },
  ];
  return { artifacts, diagnostics, contentHash: contextHash(artifacts, sources), sources };
}
