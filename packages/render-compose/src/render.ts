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
  ociBuildContext,
  type Ref,
  type RefResolver,
  refsIn,
  resolvePort,
  resolveRefs,
} from "@nix2dream/core";
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
}

/** Renders `deployment` to the compose artifacts; pure. */
export function renderCompose(
  deployment: EvaluatedDeployment,
  options: RenderComposeOptions = {},
): { artifacts: Artifact[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const artifacts: Artifact[] = [];
  const d = deployment.renderers.compose ?? DEFAULT_DEPLOYMENT_OPTIONS;
  const makeContext = options.buildContext ?? ociBuildContext;
  const warn = (option: string, message: string, severity: Diagnostic["severity"] = "warning") =>
    diagnostics.push(diagnostic(deployment, { option, message, severity }));

  /** References as containers on the compose network see them. */
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
  const value = (v: string) => literal(resolveRefs(v, resolve));

  const services: Record<string, unknown> = {};
  const volumes: Record<string, unknown> = {};
  const secrets: Record<string, unknown> = {};

  for (const [name, service] of sorted(deployment.services)) {
    const at = (option: string) => `services.${name}.${option}`;
    const so = service.renderers.compose ?? DEFAULT_SERVICE_OPTIONS;
    const readyImage = service.package.image;
    const entry: Record<string, unknown> = {};

    // Secrets read from files become compose secrets mounted under /run/secrets.
    const secretFiles = new Map<string, string>();
    for (const [key, s] of sorted(service.secrets)) {
      if (s.fromFile === null) continue;
      const file = fromRoot(deployment.root, s.fromFile);
      const secretName = `${name}_${key}`;
      if (file === null) {
        warn(
          at(`secrets.${key}.fromFile`),
          `The secret file ${JSON.stringify(s.fromFile)} is relative and the deployment has no config directory; Compose would resolve it against the render directory. Use an absolute path.`,
        );
      }
      if (!secretFiles.has(s.fromFile)) {
        secretFiles.set(s.fromFile, `/run/secrets/${secretName}`);
        secrets[secretName] = { file: literal(file ?? s.fromFile) };
      }
    }

    if (readyImage === null) {
      if (service.package.nix !== null) {
        warn(
          at("package.nix"),
          `The Nix package ${JSON.stringify(service.package.nix)} is not built into the image here (render-oci's Nix expression does that); the program must be in the base image.`,
        );
      }
      const baseImage = so.baseImage ?? d.baseImage;
      // Files are bind-mounted and env comes from `environment:`, so the image's launcher
      // does only what a container cannot: secrets, volume scripts, preStart and exec.
      const launched: EvaluatedService = {
        ...service,
        env: {},
        files: {},
        secrets: Object.fromEntries(
          Object.entries(service.secrets).map(([k, s]) => [
            k,
            s.fromFile === null ? s : { ...s, fromFile: secretFiles.get(s.fromFile) ?? s.fromFile },
          ]),
        ),
      };
      const context = makeContext(launched, deployment, { baseImage, resolve });
      for (const diag of context.diagnostics) {
        // The shared context names the OCI renderer's option; here the base image is ours.
        diagnostics.push({
          ...diag,
          option: diag.option.replace(
            /\.renderers\.oci\.baseImage$/,
            ".renderers.compose.baseImage",
          ),
        });
      }
      for (const a of context.artifacts) {
        artifacts.push({ ...a, path: `${BUILD_DIR}/${name}/${a.path}` });
      }
      entry.image = `${imageName(deployment.name)}-${imageName(name)}:${context.contentHash.slice(0, 16)}`;
      entry.build = { context: `./${BUILD_DIR}/${name}` };
    } else {
      entry.image = literal(readyImage);
      const argv = [...service.command, ...service.args];
      if (argv.length > 0) entry.command = argv.map(value);
      if (service.preStart) {
        warn(
          at("preStart"),
          `Not run: the image ${JSON.stringify(readyImage)} is used as it is, without nix2dream's launcher. Build the service from a base image (drop \`package.image\`) or do it in the image's entrypoint.`,
        );
      }
      for (const [vname, v] of sorted(service.volumes)) {
        for (const script of ["init", "check"] as const) {
          if (v[script]) {
            warn(
              at(`volumes.${vname}.${script}`),
              `Not run: the image ${JSON.stringify(readyImage)} is used as it is, without nix2dream's launcher.`,
            );
          }
        }
      }
    }

    if (service.user !== null || service.group !== null) {
      if (service.user === null) {
        warn(
          at("group"),
          "Compose sets a group only together with a user; `group` is not applied.",
        );
      } else {
        entry.user = literal(
          service.group === null ? service.user : `${service.user}:${service.group}`,
        );
      }
    }
    if (service.workingDir !== null) entry.working_dir = value(service.workingDir);
    // busybox and most programs ignore SIGTERM as PID 1; an init forwards signals and reaps.
    entry.init = true;

    const environment: Record<string, string | null> = {};
    for (const [key, v] of sorted(service.env)) environment[key] = value(v);
    for (const [key, s] of sorted(service.secrets)) {
      const fromEnv = s.fromEnv ?? (s.fromFile === null ? key : null);
      if (key in service.env) {
        warn(
          at(`secrets.${key}`),
          `\`${key}\` is both in \`env\` and in \`secrets\`; the secret wins.`,
        );
        delete environment[key];
      }
      if (fromEnv === null) {
        if (readyImage !== null) {
          warn(
            at(`secrets.${key}.fromFile`),
            `The image ${JSON.stringify(readyImage)} runs without nix2dream's launcher, so \`${key}\` is not set from the file; the file is mounted at ${secretFiles.get(s.fromFile ?? "") ?? "/run/secrets"} for the program to read.`,
          );
        }
        continue;
      }
      if (readyImage === null || fromEnv === key) {
        // Passed through from the environment of the compose command; the launcher maps it.
        environment[fromEnv] = null;
      } else {
        // Interpolated by Compose from the caller's environment: the value is never in the file.
        environment[key] = `\${${fromEnv}}`;
      }
      if (readyImage !== null && s.fromFile !== null) {
        warn(
          at(`secrets.${key}.fromFile`),
          `The image ${JSON.stringify(readyImage)} runs without nix2dream's launcher; \`${key}\` comes from the variable ${fromEnv} only, and the file is mounted at ${secretFiles.get(s.fromFile)} for the program to read.`,
        );
      }
    }
    if (Object.keys(environment).length > 0) {
      entry.environment = Object.fromEntries(
        Object.entries(environment).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    const mountedSecrets = [...new Set(secretFiles.values())].sort();
    if (mountedSecrets.length > 0) {
      entry.secrets = mountedSecrets.map((target) => ({
        source: target.slice("/run/secrets/".length),
        target,
      }));
    }

    const ports: string[] = [];
    for (const [pname, p] of sorted(service.ports)) {
      const host = p.hostPort ?? p.port;
      const bind = p.expose ? "" : "127.0.0.1:";
      if (service.replicas > 1) {
        warn(
          at(`ports.${pname}`),
          `${service.replicas} replicas cannot share host port ${host}; each replica gets a free host port (see \`ps\`).`,
        );
        ports.push(`${bind}${bind ? ":" : ""}${p.port}/${p.protocol}`);
      } else {
        ports.push(`${bind}${host}:${p.port}/${p.protocol}`);
      }
    }
    if (ports.length > 0) entry.ports = ports;

    const mounts: Record<string, unknown>[] = [];
    for (const [vname, v] of sorted(service.volumes)) {
      if (v.persistent) {
        const volumeName = `${name}_${vname}`;
        volumes[volumeName] = {};
        mounts.push({ type: "volume", source: volumeName, target: literal(v.path) });
        if (v.size !== null) {
          warn(
            at(`volumes.${vname}.size`),
            "Compose cannot size a named volume; `size` is ignored.",
          );
        }
        if (service.replicas > 1) {
          warn(
            at(`volumes.${vname}`),
            `The ${service.replicas} replicas share the named volume ${volumeName}.`,
          );
        }
      } else {
        const mount: Record<string, unknown> = { type: "tmpfs", target: literal(v.path) };
        if (v.size !== null) {
          const bytes = quantityBytes(v.size);
          if (bytes === null) {
            warn(
              at(`volumes.${vname}.size`),
              `\`${v.size}\` is not a size; the tmpfs is not limited.`,
            );
          } else mount.tmpfs = { size: bytes };
        }
        mounts.push(mount);
      }
      if (v.clear) {
        warn(
          at(`volumes.${vname}.clear`),
          "Not run: `down --volumes` deletes the Compose volume without running `clear`.",
        );
      }
    }
    for (const [target, f] of sorted(service.files)) {
      const opt = at(`files.${JSON.stringify(target)}`);
      if (!target.startsWith("/") || target.split("/").includes("..")) {
        warn(
          opt,
          "A file's path must be absolute and without `..` in a container; it is not mounted.",
          "error",
        );
        continue;
      }
      if ((f.text === null) === (f.source === null)) {
        warn(
          opt,
          "Exactly one of `text` and `source` must be set; the file is not mounted.",
          "error",
        );
        continue;
      }
      let source: string;
      if (f.text !== null) {
        source = `${FILES_DIR}/${name}${target}`;
        artifacts.push({
          path: source,
          content: resolveRefs(f.text, resolve),
          mode: Number.parseInt(f.mode, 8),
        });
        source = `./${source}`;
      } else {
        const abs = fromRoot(deployment.root, f.source as string);
        if (abs === null) {
          warn(
            `${opt}.source`,
            "The source is relative and the deployment has no config directory; Compose would resolve it against the render directory.",
          );
        }
        source = abs ?? (f.source as string);
        if (f.mode !== "0644") {
          warn(
            `${opt}.mode`,
            "A bind-mounted source file keeps its own mode; `mode` is not applied.",
          );
        }
      }
      mounts.push({
        type: "bind",
        source: literal(source),
        target: literal(target),
        read_only: true,
      });
    }
    mounts.push(...foreignMounts(service, deployment, mounts, warn, at));
    if (mounts.length > 0) entry.volumes = mounts;

    if (service.healthcheck) {
      const tools =
        so.probeTools ?? (readyImage === null ? (d.baseImageTools as ProbeTool[]) : null);
      const test = healthcheckTest(service, service.healthcheck, tools, readyImage, warn, value);
      if (test) {
        entry.healthcheck = {
          test,
          interval: composeDuration(service.healthcheck.interval),
          timeout: composeDuration(service.healthcheck.timeout),
          retries: service.healthcheck.retries,
          start_period: composeDuration(service.healthcheck.startPeriod),
        };
      }
    }

    const dependsOn = sorted(service.dependsOn).filter(([dep]) => dep in deployment.services);
    if (dependsOn.length > 0) {
      entry.depends_on = Object.fromEntries(
        dependsOn.map(([dep, condition]) => [dep, { condition: CONDITIONS[condition] }]),
      );
    }

    const r = service.restart;
    if (r.policy === "on-failure") {
      entry.restart = r.maxRetries === null ? "on-failure" : `on-failure:${r.maxRetries}`;
    } else {
      entry.restart = r.policy;
      if (r.maxRetries !== null) {
        warn(
          at("restart.maxRetries"),
          `Docker limits retries only for \`on-failure\`; ignored for \`${r.policy}\`.`,
        );
      }
    }
    if (
      r.backoff.initial !== DEFAULT_BACKOFF.initial ||
      r.backoff.factor !== DEFAULT_BACKOFF.factor ||
      r.backoff.max !== DEFAULT_BACKOFF.max
    ) {
      warn(
        at("restart.backoff"),
        "Docker uses its own restart delays (100ms, doubling); `backoff` is ignored.",
      );
    }
    entry.stop_signal = service.stop.signal;
    entry.stop_grace_period = composeDuration(service.stop.gracePeriod);

    const deploy: Record<string, unknown> = {};
    if (service.replicas !== 1) deploy.replicas = service.replicas;
    const limits: Record<string, string> = {};
    if (service.resources.cpu !== null) limits.cpus = String(service.resources.cpu);
    if (service.resources.memory !== null) {
      const bytes = quantityBytes(service.resources.memory);
      if (bytes === null) {
        warn(
          at("resources.memory"),
          `\`${service.resources.memory}\` is not a memory quantity; not limited.`,
        );
      } else limits.memory = composeMemory(bytes);
    }
    if (Object.keys(limits).length > 0) deploy.resources = { limits };
    if (Object.keys(deploy).length > 0) entry.deploy = deploy;

    if (Object.keys(service.labels).length > 0) {
      entry.labels = Object.fromEntries(sorted(service.labels).map(([k, v]) => [k, literal(v)]));
    }

    services[name] = deepMerge(entry, so.override);
  }

  let file: Record<string, unknown> = { services };
  if (Object.keys(volumes).length > 0) file.volumes = volumes;
  if (Object.keys(secrets).length > 0) file.secrets = secrets;
  file = deepMerge(file, d.override);
  artifacts.unshift({
    path: COMPOSE_FILE,
    content: toYaml(file, [
      `Deployment ${JSON.stringify(deployment.name)}, generated by nix2dream; do not edit.`,
      "Run: docker compose up --build (or docker-compose up --build) in this directory.",
    ]),
  });
  return { artifacts, diagnostics };
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
 * too. A persistent volume is shared (the same named volume at the same path); a rendered or
 * source file is bind-mounted again; a tmpfs cannot be shared (an error diagnostic).
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
      const source =
        f.text !== null
          ? `./${FILES_DIR}/${r.service}${path}`
          : (fromRoot(deployment.root, f.source as string) ?? (f.source as string));
      mounts.push({
        type: "bind",
        source: literal(source),
        target: literal(path),
        read_only: true,
      });
    }
    taken.add(literal(path));
  }
  return mounts;
}
