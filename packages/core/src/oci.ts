/**
 * OCI build contexts: what every container target (OCI images, Compose, Kubernetes) needs to
 * turn one service into an image built `FROM` a base image. The context holds a `Dockerfile` and
 * the service's launcher (`entrypoint.sh`, from {@link entrypointScript}) with container
 * settings: files and volumes at their declared absolute paths, secrets read when the container
 * starts. Pure: nothing here reads the disk; `files.*.source` files are host-file artifacts of
 * the context, which the writer copies in.
 */
import * as crypto from "node:crypto";
import { posix, resolve as resolvePath } from "node:path";
import { programNotInImage } from "./base-image.js";
import type { Artifact, Diagnostic } from "./contracts.js";
import { definitionFilesView } from "./definition-files.js";
import type { EvaluatedDeployment, EvaluatedService } from "./deployment.js";
import { entrypointScript } from "./entrypoint.js";
import { diagnostic, hostFileArtifact } from "./helpers.js";
import type { RefResolver } from "./shell.js";
import { sha256Hex } from "./text.js";

export { BUSYBOX_PROGRAMS, programNotInImage } from "./base-image.js";
export { emptyRecord, setEntry } from "./record.js";

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
  /** Resolves references for the target (e.g. from core's `containerRefResolver`). */
  resolve: RefResolver;
}

/** A host file copied into the context (`files.*.source`), as a host-file artifact. */
export interface OciContextSource {
  /** Absolute path on the machine that renders (resolved against the config's directory). */
  from: string;
  /** Path inside the build context, `/`-separated. */
  path: string;
}

/** One service's build context. */
export interface OciBuildContext {
  /**
   * `Dockerfile`, `entrypoint.sh` and the copies of `sources` (host-file artifacts), paths
   * relative to the context directory.
   */
  artifacts: Artifact[];
  diagnostics: Diagnostic[];
  /**
   * Lowercase hex sha256 over the context (paths, modes, contents, and the list of sources):
   * equal contexts give equal hashes, for deterministic image tags. The contents of `sources`
   * are not known to a pure function and are not part of it.
   */
  contentHash: string;
  /**
   * The host files the context holds copies of (also in `artifacts`, copied when the render is
   * written); empty for most services. Listed because `contentHash` cannot cover their contents.
   */
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

/** sha256 over artifacts and sources, each field length-prefixed so no two contexts collide. */
export function contextHash(
  artifacts: readonly Artifact[],
  sources: readonly OciContextSource[] = [],
): string {
  // Made only for binary content: text alone is hashed in one call (see `sha256Hex`).
  let h: crypto.Hash | undefined;
  // Text is gathered and hashed in one update (each update is a call into native code); the
  // bytes are the same as hashing field by field.
  let text = "";
  const field = (data: string | Uint8Array) => {
    if (typeof data === "string") {
      text += `${Buffer.byteLength(data, "utf8")}:${data}`;
      return;
    }
    h ??= crypto.createHash("sha256");
    h.update(`${text}${data.length}:`);
    h.update(data);
    text = "";
  };
  for (const a of [...artifacts].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))) {
    field(a.path);
    field(String(a.mode ?? 0o644));
    field(typeof a.source === "string" ? `copy of ${a.source}` : a.content);
  }
  for (const s of sources) {
    field(s.path);
    field(s.from);
  }
  return h === undefined ? sha256Hex(text) : h.update(text).digest("hex");
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
  const diagnostics: Diagnostic[] = [];
  const report: ContextReport = (severity, option, message) =>
    diagnostics.push(
      diagnostic(deployment, {
        severity,
        service: service.name,
        option: `services.${service.name}${option ? `.${option}` : ""}`,
        message,
      }),
    );
  const { sources, sourceIn, optionOf } = contextSourcesOf(service, deployment, report);
  containerPathWarnings(service, report);
  const entry = entrypointScript(service, {
    resolve: opts.resolve,
    deployment: deployment.name,
    // A view: looking up the few paths of this service does not build the whole record.
    definitionFiles: definitionFilesView(deployment),
    sourcePath: (source) => sourceIn.get(source) ?? source,
    emptyEphemeralVolumes: false,
  });
  diagnostics.push(...entry.diagnostics);
  const dockerfile = dockerfileOf(service, deployment, opts, sources, report, diagnostics);
  const artifacts: Artifact[] = [
    { path: OCI_DOCKERFILE, content: dockerfile },
    { path: OCI_ENTRYPOINT_FILE, content: entry.script, mode: 0o755 },
  ];
  const contentHash = contextHash(artifacts, sources);
  // The writer copies each source into the context, so the context builds wherever it is.
  for (const s of sources) {
    const option = optionOf.get(s.path) as string;
    artifacts.push(hostFileArtifact(deployment, { path: s.path, source: s.from, option }));
  }
  return { artifacts, diagnostics, contentHash, sources };
}

/** Reports on `services.<svc>.<option>` of the service whose context is built. */
type ContextReport = (severity: Diagnostic["severity"], option: string, message: string) => void;

/**
 * The host files to copy into the context (`files.*.source`, each once), and where each is
 * inside the image; a file path that is not absolute is an error.
 */
function contextSourcesOf(
  service: EvaluatedService,
  deployment: Pick<EvaluatedDeployment, "root">,
  report: ContextReport,
): { sources: OciContextSource[]; sourceIn: Map<string, string>; optionOf: Map<string, string> } {
  const sources: OciContextSource[] = [];
  const sourceIn = new Map<string, string>();
  const optionOf = new Map<string, string>(); // context path → the option naming its source
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
    optionOf.set(path, `services.${service.name}.files.${JSON.stringify(target)}.source`);
    sourceIn.set(f.source, `${OCI_DIR}/${path}`);
  }
  return { sources, sourceIn, optionOf };
}

/** Volume paths must be absolute in a container; a relative `workingDir` is relative to the image's. */
function containerPathWarnings(service: EvaluatedService, report: ContextReport): void {
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
}

/** The Dockerfile: FROM, COPY, EXPOSE, USER, STOPSIGNAL and the exec-form ENTRYPOINT. */
function dockerfileOf(
  service: EvaluatedService,
  deployment: Pick<EvaluatedDeployment, "name" | "definitionFiles">,
  opts: OciBuildContextOptions,
  sources: readonly OciContextSource[],
  report: ContextReport,
  diagnostics: Diagnostic[],
): string {
  const lines: string[] = [
    `# Image of service ${JSON.stringify(service.name)} of deployment ${JSON.stringify(deployment.name)}, generated by nix2dream; do not edit.`,
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
  // Each distinct `port/protocol` once, pushed one by one: `map` and `filter` give arrays of
  // another kind once V8 has optimized them, which deoptimizes the code reading them.
  const ports: string[] = [];
  for (const p of Object.values(service.ports)) {
    const text = `${p.port}/${p.protocol}`;
    if (!ports.includes(text)) ports.push(text);
  }
  ports.sort();
  if (ports.length) lines.push(`EXPOSE ${ports.join(" ")}`);
  const user = userLineOf(service, report);
  if (user) lines.push(user);
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
  return `${lines.join("\n")}\n`;
}

/** `USER user[:group]`, or null when none is set or it cannot be written (reported). */
function userLineOf(service: EvaluatedService, report: ContextReport): string | null {
  if (service.user === null && service.group === null) return null;
  const ok = (v: string | null) => v === null || DOCKER_USER.test(v);
  if (!ok(service.user) || !ok(service.group)) {
    report(
      "error",
      service.user !== null && !ok(service.user) ? "user" : "group",
      "A user or group name in an image must be a plain name or number (letters, digits, `_`, `.`, `-`); the image runs as the base image's user.",
    );
    return null;
  }
  if (service.user === null) {
    report(
      "warning",
      "group",
      "An image can only set a group together with a user; `group` is ignored without `user`.",
    );
    return null;
  }
  if (Object.keys(service.files).length || Object.keys(service.volumes).length) {
    report(
      "warning",
      "user",
      `The launcher runs as \`${service.user}\`: the base image must know this user, and the directories of \`files\` and \`volumes\` must exist writable for it (or be mounted so).`,
    );
  }
  return `USER ${service.user}${service.group === null ? "" : `:${service.group}`}`;
}
