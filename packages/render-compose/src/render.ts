/**
 * The compose render: one `compose.yaml` (Compose Specification, readable by `docker compose`
 * v2 and by docker-compose 1.29), a build context per service without `package.image`, and the
 * files bind-mounted into containers.
 */
import {
  type Artifact,
  type Diagnostic,
  describeRef,
  diagnostic,
  type EvaluatedDeployment,
  type EvaluatedService,
  type Healthcheck,
  hostFileArtifact,
  type Ref,
  type RefResolver,
  refsIn,
  resolvePort,
  resolveRefs,
} from "@nix2dream/core";
import { ociBuildContext } from "@nix2dream/core/oci";
import { emptyRecord, packedMap, setEntry } from "@nix2dream/core/record";
import type { ComposeDeploymentOptions, ComposeServiceOptions, ProbeTool } from "./options.js";
import { deepMerge, literal, toYaml } from "./yaml.js";

/** Name of the compose file in the render directory. */
export const COMPOSE_FILE = "compose.yaml";
/** Directory of the build contexts (`build/<svc>/`). */
export const BUILD_DIR = "build";
/** Directory of the bind-mounted files (`files/<svc>/<path>`). */
export const FILES_DIR = "files";

/** A build context for one service: its files (paths relative to the context) and a content hash. */
export interface BuildContext {
  artifacts: Artifact[];
  diagnostics: Diagnostic[];
  /** Hex digest of everything in the context; the image tag. */
  contentHash: string;
}

/** Makes the build context of a service without `package.image`. */
export type BuildContextFactory = (
  service: EvaluatedService,
  deployment: EvaluatedDeployment,
  options: { baseImage: string; resolve: RefResolver },
) => BuildContext;

const DEFAULT_DEPLOYMENT_OPTIONS: ComposeDeploymentOptions = {
  baseImage: "busybox:stable",
  baseImageTools: ["wget", "nc"],
  override: {},
};
const DEFAULT_SERVICE_OPTIONS: ComposeServiceOptions = {
  baseImage: null,
  probeTools: null,
  override: {},
};
const DEFAULT_BACKOFF = { initial: 1, factor: 2, max: 30 };
const CONDITIONS = {
  started: "service_started",
  healthy: "service_healthy",
  completed: "service_completed_successfully",
} as const;

/** Lowercase, Docker-reference-safe form of a name. */
function imageName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+/, "");
}

/** `5s`, `1.5s`, `500ms`: a Go duration Compose accepts. */
export function composeDuration(seconds: number): string {
  if (Number.isInteger(seconds)) return `${seconds}s`;
  return `${Math.round(seconds * 1000)}ms`;
}

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};
const DECIMAL: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

/** Bytes of a Kubernetes-style quantity (`512Mi`, `1G`, `1048576`), or null when it is not one. */
export function quantityBytes(quantity: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P)?$/.exec(quantity.trim());
  if (!m) return null;
  const unit = m[2] ?? "";
  const factor = BINARY[unit] ?? DECIMAL[unit] ?? 1;
  return Math.round(Number(m[1]) * factor);
}

/** Compose's memory notation: `512m` when a whole number of MiB/GiB/KiB, else bytes. */
function composeMemory(bytes: number): string {
  for (const [suffix, factor] of [
    ["g", 2 ** 30],
    ["m", 2 ** 20],
    ["k", 2 ** 10],
  ] as const) {
    if (bytes % factor === 0) return `${bytes / factor}${suffix}`;
  }
  return `${bytes}b`;
}

function sorted<T>(record: Record<string, T>): Array<[string, T]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Joins a relative path to the config directory, POSIX style. */
function fromRoot(root: string | null, p: string): string | null {
  if (p.startsWith("/")) return p;
  if (root === null) return null;
  const parts = `${root}/${p}`.split("/");
  const out: string[] = [];
  for (const part of parts) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

/** Options of the render itself (the renderer factory's, minus the module defaults). */
export interface RenderComposeOptions {
  /** Makes the build context of services without `package.image`. */
  buildContext?: BuildContextFactory;
  /**
   * Base image when the deployment has no `renderers.compose` (the renderer was not in `use`
   * when it was evaluated, so the factory's default never reached the options).
   */
  baseImage?: string;
}

type Warn = (option: string, message: string, severity?: Diagnostic["severity"]) => void;

/** What every aspect of a service's entry reads and where the render's shared parts go. */
interface ComposeContext {
  deployment: EvaluatedDeployment;
  options: ComposeDeploymentOptions;
  makeContext: BuildContextFactory;
  warn: Warn;
  /** References as containers on the compose network see them. */
  resolve: (r: Ref) => string;
  /** A value with its references resolved, escaped for Compose interpolation. */
  value: (v: string) => string;
  artifacts: Artifact[];
  diagnostics: Diagnostic[];
  /** Top-level `volumes:` and `secrets:` of the compose file. */
  volumes: Record<string, unknown>;
  secrets: Record<string, unknown>;
}

/** One service as its aspects see it. */
interface ServiceView {
  name: string;
  service: EvaluatedService;
  own: ComposeServiceOptions;
  /** `package.image`, used as it is; null when the service is built from a base image. */
  readyImage: string | null;
  at: (option: string) => string;
  /** Secret files by their `fromFile`, as the path they are mounted at. */
  secretFiles: Map<string, string>;
}

/** Renders `deployment` to the compose artifacts; pure. */
export function renderCompose(
  deployment: EvaluatedDeployment,
  options: RenderComposeOptions = {},
): { artifacts: Artifact[]; diagnostics: Diagnostic[] } {
  const ctx = composeContextFor(deployment, options);
  const services = emptyRecord<unknown>();
  for (const [name, service] of sorted(deployment.services)) {
    const own = service.renderers.compose ?? DEFAULT_SERVICE_OPTIONS;
    const view: ServiceView = {
      name,
      service,
      own,
      readyImage: service.package.image,
      at: (option) => `services.${name}.${option}`,
      secretFiles: new Map(),
    };
    view.secretFiles = secretFilesOf(view, ctx);
    services[name] = deepMerge(serviceEntry(view, ctx), own.override);
  }
  let file: Record<string, unknown> = { services };
  if (Object.keys(ctx.volumes).length > 0) file.volumes = ctx.volumes;
  if (Object.keys(ctx.secrets).length > 0) file.secrets = ctx.secrets;
  file = deepMerge(file, ctx.options.override);
  ctx.artifacts.unshift({
    path: COMPOSE_FILE,
    content: toYaml(file, [
      `Deployment ${JSON.stringify(deployment.name)}, generated by nix2dream; do not edit.`,
      "Run: docker compose up --build (or docker-compose up --build) in this directory.",
    ]),
  });
  return { artifacts: ctx.artifacts, diagnostics: ctx.diagnostics };
}

function composeContextFor(
  deployment: EvaluatedDeployment,
  options: RenderComposeOptions,
): ComposeContext {
  const diagnostics: Diagnostic[] = [];
  const resolve = (r: Ref): string => {
    const target = deployment.services[r.service];
    if (!target) return r.service;
    switch (r.kind) {
      case "host":
        return r.service;
      case "port":
        return String(resolvePort(target, r.port).port);
      case "address":
        return `${r.service}:${resolvePort(target, r.port).port}`;
      case "volume":
        return target.volumes[r.volume]?.path ?? "";
      case "file":
        return r.path;
    }
  };
  return {
    deployment,
    options: deployment.renderers.compose ?? {
      ...DEFAULT_DEPLOYMENT_OPTIONS,
      baseImage: options.baseImage ?? DEFAULT_DEPLOYMENT_OPTIONS.baseImage,
    },
    makeContext: options.buildContext ?? ociBuildContext,
    warn: (option, message, severity = "warning") =>
      diagnostics.push(diagnostic(deployment, { option, message, severity })),
    resolve,
    value: (v) => literal(resolveRefs(v, resolve)),
    artifacts: [],
    diagnostics,
    volumes: {},
    secrets: {},
  };
}

/** The service's entry under `services:`, one aspect after the other (in the file's key order). */
function serviceEntry(view: ServiceView, ctx: ComposeContext): Record<string, unknown> {
  const { service } = view;
  const entry = emptyRecord<unknown>();
  Object.assign(
    entry,
    view.readyImage === null ? builtImageOf(view, ctx) : readyImageOf(view, ctx),
    userOf(view, ctx),
  );
  if (service.workingDir !== null) entry.working_dir = ctx.value(service.workingDir);
  // busybox and most programs ignore SIGTERM as PID 1; an init forwards signals and reaps.
  entry.init = true;
  Object.assign(entry, environmentOf(view, ctx));
  const ports = portsOf(view, ctx);
  if (ports.length > 0) entry.ports = ports;
  const mounts = [...volumeMountsOf(view, ctx), ...fileMountsOf(view, ctx)];
  mounts.push(...foreignMounts(service, ctx.deployment, mounts, ctx.warn, view.at));
  if (mounts.length > 0) entry.volumes = mounts;
  const healthcheck = healthcheckOf(view, ctx);
  if (healthcheck) entry.healthcheck = healthcheck;
  const dependsOn = sorted(service.dependsOn).filter(([dep]) => dep in ctx.deployment.services);
  if (dependsOn.length > 0) {
    entry.depends_on = recordOf(
      packedMap(dependsOn, ([dep, condition]) => [dep, { condition: CONDITIONS[condition] }]),
    );
  }
  entry.restart = restartOf(view, ctx);
  entry.stop_signal = service.stop.signal;
  entry.stop_grace_period = composeDuration(service.stop.gracePeriod);
  const deploy = deployOf(view, ctx);
  if (Object.keys(deploy).length > 0) entry.deploy = deploy;
  if (Object.keys(service.labels).length > 0) {
    entry.labels = recordOf(packedMap(sorted(service.labels), ([k, v]) => [k, literal(v)]));
  }
  return entry;
}

/** Secrets read from files become compose secrets mounted under /run/secrets. */
function secretFilesOf(view: ServiceView, ctx: ComposeContext): Map<string, string> {
  const secretFiles = new Map<string, string>();
  for (const [key, s] of sorted(view.service.secrets)) {
    if (s.fromFile === null) continue;
    const file = fromRoot(ctx.deployment.root, s.fromFile);
    const secretName = `${view.name}_${key}`;
    if (file === null) {
      ctx.warn(
        view.at(`secrets.${key}.fromFile`),
        `The secret file ${JSON.stringify(s.fromFile)} is relative and the deployment has no config directory; Compose would resolve it against the render directory. Use an absolute path.`,
      );
    }
    if (!secretFiles.has(s.fromFile)) {
      secretFiles.set(s.fromFile, `/run/secrets/${secretName}`);
      ctx.secrets[secretName] = { file: literal(file ?? s.fromFile) };
    }
  }
  return secretFiles;
}

/**
 * `image` and `build` of a service built from a base image: core's build context, whose
 * launcher does only what a container cannot (secrets, volume scripts, preStart, exec): files
 * are bind-mounted and env comes from `environment:`.
 */
function builtImageOf(view: ServiceView, ctx: ComposeContext): Record<string, unknown> {
  const { name, service } = view;
  if (service.package.nix !== null) {
    ctx.warn(
      view.at("package.nix"),
      `The Nix package ${JSON.stringify(service.package.nix)} is not built into the image here (render-oci's Nix expression does that); the program must be in the base image.`,
    );
  }
  const baseImage = view.own.baseImage ?? ctx.options.baseImage;
  const launched: EvaluatedService = {
    ...service,
    env: {},
    files: {},
    secrets: recordOf(
      packedMap(Object.entries(service.secrets), ([k, s]) => [
        k,
        s.fromFile === null
          ? s
          : { ...s, fromFile: view.secretFiles.get(s.fromFile) ?? s.fromFile },
      ]),
    ),
  };
  const context = ctx.makeContext(launched, ctx.deployment, { baseImage, resolve: ctx.resolve });
  for (const diag of context.diagnostics) {
    // The shared context names the OCI renderer's option; here the base image is ours.
    ctx.diagnostics.push({
      ...diag,
      option: diag.option.replace(/\.renderers\.oci\.baseImage$/, ".renderers.compose.baseImage"),
    });
  }
  for (const a of context.artifacts) {
    ctx.artifacts.push({ ...a, path: `${BUILD_DIR}/${name}/${a.path}` });
  }
  return {
    image: `${imageName(ctx.deployment.name)}-${imageName(name)}:${context.contentHash.slice(0, 16)}`,
    build: { context: `./${BUILD_DIR}/${name}` },
  };
}

/** `image` and `command` of a service run from a ready image, without nix2dream's launcher. */
function readyImageOf(view: ServiceView, ctx: ComposeContext): Record<string, unknown> {
  const { service } = view;
  const image = view.readyImage as string;
  const entry: Record<string, unknown> = { image: literal(image) };
  const argv = [...service.command, ...service.args];
  if (argv.length > 0) entry.command = argv.map(ctx.value);
  if (service.preStart) {
    ctx.warn(
      view.at("preStart"),
      `Not run: the image ${JSON.stringify(image)} is used as it is, without nix2dream's launcher. Build the service from a base image (drop \`package.image\`) or do it in the image's entrypoint.`,
    );
  }
  for (const [vname, v] of sorted(service.volumes)) {
    for (const script of ["init", "check"] as const) {
      if (v[script]) {
        ctx.warn(
          view.at(`volumes.${vname}.${script}`),
          `Not run: the image ${JSON.stringify(image)} is used as it is, without nix2dream's launcher.`,
        );
      }
    }
  }
  return entry;
}

/** `user` (with the group); a group alone cannot be set. */
function userOf(view: ServiceView, ctx: ComposeContext): { user?: string } {
  const { user, group } = view.service;
  if (user === null && group === null) return {};
  if (user === null) {
    ctx.warn(
      view.at("group"),
      "Compose sets a group only together with a user; `group` is not applied.",
    );
    return {};
  }
  return { user: literal(group === null ? user : `${user}:${group}`) };
}

/**
 * `environment` (values resolved; secrets passed through from the caller's environment, never
 * written) and `secrets` (the mounted secret files).
 */
function environmentOf(view: ServiceView, ctx: ComposeContext): Record<string, unknown> {
  const { service, readyImage, secretFiles } = view;
  const environment = emptyRecord<string | null>();
  // setEntry and hasOwn: `__proto__` and `constructor` are variable names like any other.
  for (const [key, v] of sorted(service.env)) setEntry(environment, key, ctx.value(v));
  for (const [key, s] of sorted(service.secrets)) {
    const fromEnv = s.fromEnv ?? (s.fromFile === null ? key : null);
    if (Object.hasOwn(service.env, key)) {
      ctx.warn(
        view.at(`secrets.${key}`),
        `\`${key}\` is both in \`env\` and in \`secrets\`; the secret wins.`,
      );
      delete environment[key];
    }
    if (fromEnv === null) {
      if (readyImage !== null) {
        ctx.warn(
          view.at(`secrets.${key}.fromFile`),
          `The image ${JSON.stringify(readyImage)} runs without nix2dream's launcher, so \`${key}\` is not set from the file; the file is mounted at ${secretFiles.get(s.fromFile ?? "") ?? "/run/secrets"} for the program to read.`,
        );
      }
      continue;
    }
    if (readyImage === null || fromEnv === key) {
      // Passed through from the environment of the compose command; the launcher maps it.
      setEntry(environment, fromEnv, null);
    } else {
      // Interpolated by Compose from the caller's environment: the value is never in the file.
      setEntry(environment, key, `\${${fromEnv}}`);
    }
    if (readyImage !== null && s.fromFile !== null) {
      ctx.warn(
        view.at(`secrets.${key}.fromFile`),
        `The image ${JSON.stringify(readyImage)} runs without nix2dream's launcher; \`${key}\` comes from the variable ${fromEnv} only, and the file is mounted at ${secretFiles.get(s.fromFile)} for the program to read.`,
      );
    }
  }
  const out = emptyRecord<unknown>();
  if (Object.keys(environment).length > 0) {
    out.environment = recordOf(
      Object.entries(environment).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  }
  const mounted = [...new Set(secretFiles.values())].sort();
  if (mounted.length > 0) {
    out.secrets = mounted.map((target) => ({
      source: target.slice("/run/secrets/".length),
      target,
    }));
  }
  return out;
}

/** `ports`: published on the host port (loopback unless exposed); replicas get free ones. */
function portsOf(view: ServiceView, ctx: ComposeContext): string[] {
  const { service } = view;
  const ports: string[] = [];
  for (const [pname, p] of sorted(service.ports)) {
    const host = p.hostPort ?? p.port;
    const bind = p.expose ? "" : "127.0.0.1:";
    if (service.replicas > 1) {
      ctx.warn(
        view.at(`ports.${pname}`),
        `${service.replicas} replicas cannot share host port ${host}; each replica gets a free host port (see \`ps\`).`,
      );
      ports.push(`${bind}${bind ? ":" : ""}${p.port}/${p.protocol}`);
    } else {
      ports.push(`${bind}${host}:${p.port}/${p.protocol}`);
    }
  }
  return ports;
}

/** Mounts of the service's volumes: a named volume when persistent, else a tmpfs. */
function volumeMountsOf(view: ServiceView, ctx: ComposeContext): Record<string, unknown>[] {
  const { name, service } = view;
  const mounts: Record<string, unknown>[] = [];
  for (const [vname, v] of sorted(service.volumes)) {
    if (v.persistent) {
      const volumeName = `${name}_${vname}`;
      // Its own string for the key: V8 turns a string used as a property name into a "thin"
      // string, and one thin string among the pieces of the file makes the whole joined file
      // two-byte (twice the memory, slower to copy and to write).
      ctx.volumes[`${name}_${vname}`] = {};
      mounts.push({ type: "volume", source: volumeName, target: literal(v.path) });
      if (v.size !== null) {
        ctx.warn(
          view.at(`volumes.${vname}.size`),
          "Compose cannot size a named volume; `size` is ignored.",
        );
      }
      if (service.replicas > 1) {
        ctx.warn(
          view.at(`volumes.${vname}`),
          `The ${service.replicas} replicas share the named volume ${volumeName}.`,
        );
      }
    } else {
      const mount: Record<string, unknown> = { type: "tmpfs", target: literal(v.path) };
      const bytes = v.size === null ? null : quantityBytes(v.size);
      if (v.size !== null && bytes === null) {
        ctx.warn(
          view.at(`volumes.${vname}.size`),
          `\`${v.size}\` is not a size; the tmpfs is not limited.`,
        );
      } else if (bytes !== null) mount.tmpfs = { size: bytes };
      mounts.push(mount);
    }
    if (v.clear) {
      ctx.warn(
        view.at(`volumes.${vname}.clear`),
        "Not run: `down --volumes` deletes the Compose volume without running `clear`.",
      );
    }
  }
  return mounts;
}

/**
 * Read-only bind mounts of the service's files, each from its copy in the render
 * (`files/<svc>/<path>`, mounted by a path relative to the compose file): `text` files are
 * written there, `source` files are copied there by the writer (a host-file artifact), so the
 * render directory works wherever it is moved.
 */
function fileMountsOf(view: ServiceView, ctx: ComposeContext): Record<string, unknown>[] {
  const mounts: Record<string, unknown>[] = [];
  for (const [target, f] of sorted(view.service.files)) {
    const opt = view.at(`files.${JSON.stringify(target)}`);
    if (!target.startsWith("/") || target.split("/").includes("..")) {
      ctx.warn(
        opt,
        "A file's path must be absolute and without `..` in a container; it is not mounted.",
        "error",
      );
      continue;
    }
    if ((f.text === null) === (f.source === null)) {
      ctx.warn(
        opt,
        "Exactly one of `text` and `source` must be set; the file is not mounted.",
        "error",
      );
      continue;
    }
    const copy = `${FILES_DIR}/${view.name}${target}`;
    const mode = Number.parseInt(f.mode, 8);
    if (f.text !== null) {
      ctx.artifacts.push({ path: copy, content: resolveRefs(f.text, ctx.resolve), mode });
    } else {
      const abs = fromRoot(ctx.deployment.root, f.source as string);
      if (abs === null) {
        ctx.warn(
          `${opt}.source`,
          `\`${f.source}\` is relative, and the deployment was evaluated from memory (no config directory to resolve it against); the file is not mounted.`,
          "error",
        );
        continue;
      }
      ctx.artifacts.push(
        hostFileArtifact(ctx.deployment, {
          path: copy,
          source: abs,
          option: `${opt}.source`,
          mode,
        }),
      );
    }
    mounts.push({
      type: "bind",
      source: literal(`./${copy}`),
      target: literal(target),
      read_only: true,
    });
  }
  return mounts;
}

/** `healthcheck`, with a test the image can run (or none, with an error). */
function healthcheckOf(view: ServiceView, ctx: ComposeContext): Record<string, unknown> | null {
  const { service, readyImage } = view;
  const h = service.healthcheck;
  if (!h) return null;
  const tools =
    view.own.probeTools ??
    (readyImage === null ? (ctx.options.baseImageTools as ProbeTool[]) : null);
  const test = healthcheckTest(service, h, tools, readyImage, ctx.warn, ctx.value);
  if (!test) return null;
  return {
    test,
    interval: composeDuration(h.interval),
    timeout: composeDuration(h.timeout),
    retries: h.retries,
    start_period: composeDuration(h.startPeriod),
  };
}

/** `restart`: Docker's policy; retries only for `on-failure`, its own backoff. */
function restartOf(view: ServiceView, ctx: ComposeContext): string {
  const r = view.service.restart;
  let restart: string;
  if (r.policy === "on-failure") {
    restart = r.maxRetries === null ? "on-failure" : `on-failure:${r.maxRetries}`;
  } else {
    restart = r.policy;
    if (r.maxRetries !== null) {
      ctx.warn(
        view.at("restart.maxRetries"),
        `Docker limits retries only for \`on-failure\`; ignored for \`${r.policy}\`.`,
      );
    }
  }
  if (
    r.backoff.initial !== DEFAULT_BACKOFF.initial ||
    r.backoff.factor !== DEFAULT_BACKOFF.factor ||
    r.backoff.max !== DEFAULT_BACKOFF.max
  ) {
    ctx.warn(
      view.at("restart.backoff"),
      "Docker uses its own restart delays (100ms, doubling); `backoff` is ignored.",
    );
  }
  return restart;
}

/** `deploy`: replicas and resource limits. */
function deployOf(view: ServiceView, ctx: ComposeContext): Record<string, unknown> {
  const { service } = view;
  const deploy = emptyRecord<unknown>();
  if (service.replicas !== 1) deploy.replicas = service.replicas;
  const limits = emptyRecord<string>();
  if (service.resources.cpu !== null) limits.cpus = String(service.resources.cpu);
  if (service.resources.memory !== null) {
    const bytes = quantityBytes(service.resources.memory);
    if (bytes === null) {
      ctx.warn(
        view.at("resources.memory"),
        `\`${service.resources.memory}\` is not a memory quantity; not limited.`,
      );
    } else limits.memory = composeMemory(bytes);
  }
  if (Object.keys(limits).length > 0) deploy.resources = { limits };
  return deploy;
}

/** The healthcheck `test` of a service, or null when the image cannot run it (with an error). */
function healthcheckTest(
  service: EvaluatedService,
  h: Healthcheck,
  tools: ProbeTool[] | null,
  readyImage: string | null,
  warn: (option: string, message: string, severity?: Diagnostic["severity"]) => void,
  value: (v: string) => string,
): string[] | null {
  const option = `services.${service.name}.healthcheck`;
  // References resolved as everywhere else: a raw token would make the check fail forever.
  if (h.type === "exec") return ["CMD", ...h.command.map(value)];
  const port = resolvePort(service, h.port).port;
  const where = readyImage === null ? "the base image" : `the image ${JSON.stringify(readyImage)}`;
  const unknown = () =>
    warn(
      option,
      `The ${h.type} healthcheck runs \`${h.type === "http" ? "wget" : "nc"}\` inside ${where}, which must provide it; set \`services.${service.name}.renderers.compose.probeTools\` to what the image has.`,
    );
  if (h.type === "http") {
    const url = literal(`${h.scheme}://127.0.0.1:${port}${h.path}`);
    const insecure = h.scheme === "https";
    if (tools === null || tools.includes("wget")) {
      if (tools === null) unknown();
      return [
        "CMD",
        "wget",
        "-q",
        ...(insecure ? ["--no-check-certificate"] : []),
        "-O",
        "/dev/null",
        url,
      ];
    }
    if (tools.includes("curl")) {
      return ["CMD", "curl", "-fsS", ...(insecure ? ["-k"] : []), "-o", "/dev/null", url];
    }
    warn(
      option,
      `The http healthcheck needs \`wget\` or \`curl\` inside ${where}, which has neither (probeTools: ${tools.join(", ") || "none"}); no healthcheck is rendered. Use an exec healthcheck with a command the image has.`,
      "error",
    );
    return null;
  }
  if (tools === null || tools.includes("nc")) {
    if (tools === null) unknown();
    // busybox nc has no -z; with stdin at EOF it connects and exits 0, or fails.
    return ["CMD-SHELL", `nc -w 1 127.0.0.1 ${port} </dev/null`];
  }
  warn(
    option,
    `The tcp healthcheck needs \`nc\` inside ${where} (probeTools: ${tools.join(", ") || "none"}); no healthcheck is rendered. Use an exec healthcheck with a command the image has.`,
    "error",
  );
  return null;
}

/**
 * Mounts for what `service` refers to in another service: a reference to another service's
 * volume or file is a path, and in a container that path exists only if it is mounted there
 * too. A persistent volume is shared (the same named volume at the same path); a file is
 * bind-mounted again from the owner's copy in the render; a tmpfs cannot be shared (an error diagnostic).
 */
function foreignMounts(
  service: EvaluatedService,
  deployment: EvaluatedDeployment,
  own: Record<string, unknown>[],
  warn: (option: string, message: string, severity?: Diagnostic["severity"]) => void,
  at: (option: string) => string,
): Record<string, unknown>[] {
  const taken = new Set(own.map((m) => m.target));
  const mounts: Record<string, unknown>[] = [];
  const { healthcheck, env, args, command, preStart, files } = service;
  for (const r of refsIn({ healthcheck, env, args, command, preStart, files })) {
    if (r.service === service.name || (r.kind !== "volume" && r.kind !== "file")) continue;
    const owner = deployment.services[r.service];
    if (!owner) continue; // core's checks report references to missing services
    const path = r.kind === "volume" ? owner.volumes[r.volume]?.path : r.path;
    if (path === undefined || taken.has(literal(path))) continue;
    if (r.kind === "volume") {
      const v = owner.volumes[r.volume];
      if (!v?.persistent) {
        warn(
          at("env"),
          `\`${describeRef(r)}\` is a tmpfs of another container; Compose cannot share it, so the path does not exist here. Make the volume persistent to share it.`,
          "error",
        );
        continue;
      }
      mounts.push({ type: "volume", source: `${r.service}_${r.volume}`, target: literal(path) });
    } else {
      const f = owner.files[r.path];
      if (!f || !path.startsWith("/") || path.split("/").includes("..")) continue;
      // The owner's copy in the render (a relative `source` without a config directory is
      // not copied; the owner's own mount reports it).
      if (f.text === null && fromRoot(deployment.root, f.source as string) === null) continue;
      mounts.push({
        type: "bind",
        source: literal(`./${FILES_DIR}/${r.service}${path}`),
        target: literal(path),
        read_only: true,
      });
    }
    taken.add(literal(path));
  }
  return mounts;
}

/**
 * `Object.fromEntries`, into an object from core's `emptyRecord`: after a big evaluation, new
 * keys on objects that start as `{}` each cost a hidden class of their own (see core's record.ts).
 */
function recordOf<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const out = emptyRecord<T>();
  for (const [key, value] of entries) setEntry(out, key, value);
  return out;
}
