import { relative, resolve } from "node:path";
import { dependsOnMapping, isMapping, keyedMapping, type Mapping } from "./compose-load.js";
import {
  commandArgv,
  durationText,
  goDurationSeconds,
  memoryQuantity,
  parsePort,
} from "./compose-values.js";
import { TsCode, TsObject, type TsValue, tsString } from "./emit.js";
import type { ImportContext } from "./model.js";
import { type PortNames, type RefScope, withRefs } from "./refs.js";

/** What every aspect of one service gets. */
export interface ServiceInput {
  name: string;
  svc: Mapping;
  out: TsObject;
  ctx: ImportContext;
  scope: RefScope;
  /** The Compose project's directory (relative paths in the input). */
  projectDir: string;
  /** The generated config's directory (relative paths in the output). */
  configDir: string;
  projectName: string;
  /** The merged document (top-level `volumes`, `secrets`, `configs`). */
  doc: Mapping;
  /** Named volume → the service that owns it (the first that mounts it). */
  volumeOwners: Map<string, string>;
}

/** Keys the aspects below carry; anything else in a service is reported as not carried. */
export const CARRIED = new Set([
  "image",
  "build",
  "command",
  "entrypoint",
  "environment",
  "env_file",
  "ports",
  "expose",
  "volumes",
  "tmpfs",
  "healthcheck",
  "depends_on",
  "restart",
  "user",
  "working_dir",
  "secrets",
  "configs",
  "deploy",
  "cpus",
  "mem_limit",
  "labels",
  "scale",
  "stop_signal",
  "stop_grace_period",
  "init",
]);

const at = (i: ServiceInput, key: string) => `services.${i.name}.${key}`;

const WELL_KNOWN_PORTS: Record<number, string> = {
  80: "http",
  443: "https",
  3000: "http",
  3306: "mysql",
  5000: "http",
  5432: "pg",
  5672: "amqp",
  6379: "redis",
  8000: "http",
  8080: "http",
  9200: "elasticsearch",
  11211: "memcached",
  27017: "mongo",
};

/** A name for a port of one service, unique among its ports. */
export function portNameFor(port: number, protocol: string, taken: PortNames): string {
  let name = WELL_KNOWN_PORTS[port] ?? `p${port}`;
  if ([...taken.values()].includes(name)) name = `p${port}`;
  return protocol === "udp" ? `${name}Udp` : name;
}

/** The service's ports by container port, before anything else (references need them). */
export function collectPorts(i: Pick<ServiceInput, "svc" | "ctx" | "name" | "out">): PortNames {
  const names: PortNames = new Map();
  const ports = i.out.child("ports");
  const entries = Array.isArray(i.svc.ports) ? i.svc.ports : [];
  for (const entry of entries) {
    const specs = parsePort(entry);
    if (!specs) {
      i.ctx.unsupported(
        i.out,
        `services.${i.name}.ports`,
        "ports",
        [entry],
        "this port syntax is not understood",
      );
      continue;
    }
    for (const p of specs) addPort(i, names, ports, p.target, p.protocol, p);
  }
  for (const e of Array.isArray(i.svc.expose) ? i.svc.expose : []) {
    const [port, proto] = String(e).split("/");
    if (!names.has(String(Number(port))))
      addPort(i, names, ports, Number(port), proto === "udp" ? "udp" : "tcp", null);
  }
  return names;
}

function addPort(
  i: Pick<ServiceInput, "ctx" | "name" | "out">,
  names: PortNames,
  ports: TsObject,
  port: number,
  protocol: "tcp" | "udp",
  published: { published: number | null; hostIp: string | null } | null,
): void {
  const name = portNameFor(port, protocol, names);
  names.set(protocol === "udp" ? `${port}/udp` : String(port), name);
  const def = new TsObject().set("port", port);
  if (protocol === "udp") def.set("protocol", "udp");
  if (published) {
    const loopback = published.hostIp === "127.0.0.1" || published.hostIp === "::1";
    if (!loopback) def.set("expose", true);
    if (published.published !== null && published.published !== port)
      def.set("hostPort", published.published);
    if (published.hostIp && !loopback && published.hostIp !== "0.0.0.0") {
      i.ctx.changed(
        null,
        "ports",
        `services.${i.name}.ports`,
        `host IP ${published.hostIp} of port ${port} is not kept: an exposed port is published on every interface.`,
      );
    }
    if (published.published === null) {
      i.ctx.changed(
        null,
        "ports",
        `services.${i.name}.ports`,
        `port ${port} was published on a random host port; here the host port is the port itself.`,
      );
    }
  }
  ports.set(name, def.size === 1 ? port : def, published ? [] : ["From `expose:`."]);
}

/** `image`, or `build` (the image Compose builds, kept for the compose target). */
export function packageOf(i: ServiceInput): void {
  const image = i.svc.image === undefined ? null : String(i.svc.image);
  if (i.svc.build === undefined) {
    if (image !== null) i.out.set("package", new TsObject().set("image", image));
    return;
  }
  const build: Mapping = isMapping(i.svc.build)
    ? { ...i.svc.build }
    : { context: String(i.svc.build) };
  const override = new TsObject();
  for (const [k, v] of Object.entries(build)) {
    if (k === "context" && typeof v === "string" && !/^[a-z]+:\/\/|^git@/.test(v)) {
      override.set("context", fileUrl(i, resolve(i.projectDir, v)));
    } else override.set(k, toTs(v));
  }
  const tag = image ?? `${i.projectName}_${i.name}`;
  i.out.set("package", new TsObject().set("image", tag), [
    image === null
      ? `Compose builds this image (as ${tag}); other targets need it built and pushed.`
      : "Built by Compose from `build` below; other targets need it built and pushed.",
  ]);
  i.out.child("renderers").child("compose").child("override").set("build", override);
}

/** A path as an absolute one computed from the config file's location. */
function fileUrl(i: ServiceInput, absolute: string): TsCode {
  i.ctx.usesFileUrl = true;
  const rel = relative(i.configDir, absolute) || ".";
  const spec = rel.startsWith(".") ? rel : `./${rel}`;
  return new TsCode(`fileURLToPath(new URL(${tsString(spec)}, import.meta.url))`);
}

/** `command` and `entrypoint`: the full argv for every target; Compose keeps the split. */
export function commandOf(i: ServiceInput): void {
  const command = i.svc.command === undefined ? null : commandArgv(i.svc.command);
  const entrypoint = i.svc.entrypoint === undefined ? null : commandArgv(i.svc.entrypoint);
  for (const [key, v] of [
    ["command", command],
    ["entrypoint", entrypoint],
  ] as const) {
    if (i.svc[key] !== undefined && v === null) {
      i.ctx.unsupported(i.out, at(i, key), key, i.svc[key], "unbalanced quotes");
    }
  }
  const refs = (argv: string[]) => argv.map((a) => refValue(i, "command", a));
  if (entrypoint === null) {
    if (command) i.out.set("command", refs(command));
    else {
      i.out.entries
        .find((e) => e.key === "package")
        ?.comment.push(
          "No command: the image's own runs. Targets that run programs (Procfile, systemd, NixOS) need `command`.",
        );
    }
    return;
  }
  i.out.set("command", refs([...entrypoint, ...(command ?? [])]), [
    "Compose's entrypoint followed by its command (the compose render keeps them apart).",
  ]);
  const override = i.out.child("renderers").child("compose").child("override");
  override.set("entrypoint", refs(entrypoint));
  override.set("command", command ? refs(command) : []);
}

function refValue(i: ServiceInput, key: string, value: string): TsValue {
  const v = withRefs(value, key, i.name, i.scope);
  if (v instanceof TsCode) i.ctx.usesRef = true;
  return v;
}

/** `environment` and `env_file` (read now; `environment` wins); `KEY` alone passes through. */
export function envOf(
  i: ServiceInput,
  readEnvFile: (path: string) => Record<string, string>,
): void {
  const env = new TsObject();
  const fromFile: Record<string, string> = {};
  const envFiles =
    i.svc.env_file === undefined
      ? []
      : Array.isArray(i.svc.env_file)
        ? i.svc.env_file
        : [i.svc.env_file];
  for (const f of envFiles) {
    const path = isMapping(f) ? String(f.path) : String(f);
    Object.assign(fromFile, readEnvFile(resolve(i.projectDir, path)));
  }
  const vars = { ...fromFile, ...keyedMapping(i.svc.environment ?? {}) };
  const secrets = new TsObject();
  for (const [key, value] of Object.entries(vars)) {
    if (value === null) {
      secrets.set(key, new TsObject().set("fromEnv", key).set("required", false), [
        "Passed through from the environment `up` runs in, as Compose does.",
      ]);
    } else env.set(key, refValue(i, key, value));
  }
  if (envFiles.length > 0 && Object.keys(fromFile).length > 0) {
    env.entries[0]?.comment.push(
      `Includes the variables read from ${envFiles.map((f) => (isMapping(f) ? f.path : f)).join(", ")} at import.`,
    );
  }
  if (env.size > 0) i.out.set("env", env);
  if (secrets.size > 0) i.out.child("secrets").entries.push(...secrets.entries);
}

/** `healthcheck`: an exec probe with Compose's timing (and its defaults made explicit). */
export function healthcheckOf(i: ServiceInput): void {
  const h = i.svc.healthcheck;
  if (!isMapping(h)) return;
  const { test, interval, timeout, retries, start_period, disable, ...rest } = h;
  const list =
    typeof test === "string" ? ["CMD-SHELL", test] : Array.isArray(test) ? test.map(String) : null;
  if (disable === true || list?.[0] === "NONE") {
    i.ctx.unsupported(
      i.out,
      at(i, "healthcheck"),
      "healthcheck",
      h,
      "a service without a healthcheck has none; nix2dream cannot switch off one built into the image",
    );
    return;
  }
  if (!list || (list[0] !== "CMD" && list[0] !== "CMD-SHELL")) {
    i.ctx.unsupported(
      i.out,
      at(i, "healthcheck"),
      "healthcheck",
      h,
      "the test is not CMD or CMD-SHELL",
    );
    return;
  }
  const command = list[0] === "CMD" ? list.slice(1) : ["/bin/sh", "-c", list.slice(1).join(" ")];
  const out = new TsObject().set(
    "command",
    command.map((a) => refValue(i, "healthcheck", a)),
  );
  out.set("interval", durationText(goDurationSeconds(interval ?? "30s") ?? 30));
  out.set("timeout", durationText(goDurationSeconds(timeout ?? "30s") ?? 30));
  out.set("retries", Number(retries ?? 3));
  out.set("startPeriod", durationText(goDurationSeconds(start_period ?? "0s") ?? 0));
  i.out.set("healthcheck", out);
  for (const [k, v] of Object.entries(rest)) {
    i.ctx.unsupported(
      i.out,
      at(i, `healthcheck.${k}`),
      `healthcheck.${k}`,
      v,
      "no nix2dream healthcheck option for it",
    );
  }
}

const CONDITIONS: Record<string, string> = {
  service_started: "started",
  service_healthy: "healthy",
  service_completed_successfully: "completed",
};

/** `depends_on` with its conditions. */
export function dependsOnOf(i: ServiceInput): void {
  if (i.svc.depends_on === undefined) return;
  const out = new TsObject();
  for (const [dep, spec] of Object.entries(dependsOnMapping(i.svc.depends_on))) {
    const { condition = "service_started", ...rest } = spec;
    const c = CONDITIONS[String(condition)];
    if (!c) {
      i.ctx.unsupported(
        i.out,
        at(i, `depends_on.${dep}`),
        `depends_on.${dep}`,
        spec,
        `the condition ${String(condition)} is unknown`,
      );
      continue;
    }
    out.set(dep, c);
    for (const [k, v] of Object.entries(rest)) {
      if (k === "required" && v === true) continue;
      i.ctx.unsupported(
        i.out,
        at(i, `depends_on.${dep}.${k}`),
        `depends_on.${dep}.${k}`,
        v,
        "nix2dream dependencies have only a condition",
      );
    }
  }
  if (out.size > 0) i.out.set("dependsOn", out);
}

/** `restart` (or `deploy.restart_policy`); Compose's default is `no`, so it is always written. */
export function restartOf(i: ServiceInput): void {
  const deploy = isMapping(i.svc.deploy) ? i.svc.deploy : {};
  const rp = isMapping(deploy.restart_policy) ? deploy.restart_policy : null;
  if (rp) {
    const policy =
      rp.condition === "none" ? "no" : rp.condition === "on-failure" ? "on-failure" : "always";
    const def = new TsObject().set("policy", policy);
    if (rp.max_attempts !== undefined) def.set("maxRetries", Number(rp.max_attempts));
    i.out.set("restart", def.size === 1 ? policy : def);
    return;
  }
  const r =
    i.svc.restart === undefined ? "no" : String(i.svc.restart === false ? "no" : i.svc.restart);
  const m = /^on-failure(?::(\d+))?$/.exec(r);
  if (m) {
    i.out.set(
      "restart",
      m[1] === undefined
        ? "on-failure"
        : new TsObject().set("policy", "on-failure").set("maxRetries", Number(m[1])),
    );
  } else if (r === "unless-stopped") {
    i.out.set("restart", "always");
    i.ctx.changed(
      i.out,
      "restart",
      at(i, "restart"),
      "`unless-stopped` became `always`: nix2dream has no stopped-by-hand state that survives a restart of the engine.",
    );
  } else if (r === "always" || r === "no") {
    i.out.set("restart", r, i.svc.restart === undefined ? ["Compose's default."] : []);
  } else {
    i.ctx.unsupported(i.out, at(i, "restart"), "restart", i.svc.restart, "unknown restart policy");
  }
}

/** `user` (`user:group`), `working_dir`, `stop_signal`, `stop_grace_period`, `labels`, `init`. */
export function processOf(i: ServiceInput): void {
  if (i.svc.user !== undefined) {
    const [user, group] = String(i.svc.user).split(":");
    i.out.set("user", user as string);
    if (group !== undefined) i.out.set("group", group);
  }
  if (i.svc.working_dir !== undefined) i.out.set("workingDir", String(i.svc.working_dir));
  const stop = new TsObject();
  if (i.svc.stop_signal !== undefined) stop.set("signal", String(i.svc.stop_signal));
  if (i.svc.stop_grace_period !== undefined) {
    const s = goDurationSeconds(i.svc.stop_grace_period);
    if (s === null)
      i.ctx.unsupported(
        i.out,
        at(i, "stop_grace_period"),
        "stop_grace_period",
        i.svc.stop_grace_period,
        "not a duration",
      );
    else stop.set("gracePeriod", durationText(s));
  }
  if (stop.size > 0) i.out.set("stop", stop);
  const labels = keyedMapping(i.svc.labels ?? {});
  if (Object.keys(labels).length > 0) {
    const out = new TsObject();
    for (const [k, v] of Object.entries(labels)) out.set(k, v ?? "");
    i.out.set("labels", out);
  }
  if (i.svc.init === false) {
    i.ctx.changed(
      null,
      "init",
      at(i, "init"),
      "`init: false` is not kept: the compose render always runs an init, so that the program gets its stop signal.",
    );
  }
}

/** `deploy.replicas`/`scale`, `deploy.resources.limits`, `cpus`, `mem_limit`. */
export function deployOf(i: ServiceInput): void {
  const deploy: Mapping = isMapping(i.svc.deploy) ? i.svc.deploy : {};
  const replicas = deploy.replicas ?? i.svc.scale;
  if (replicas !== undefined) i.out.set("replicas", Number(replicas));
  if (Number(replicas) > 1 && Array.isArray(i.svc.ports) && i.svc.ports.length > 0) {
    i.ctx.changed(
      i.out,
      "replicas",
      at(i, "ports"),
      `${Number(replicas)} replicas cannot share a host port: the compose render publishes each replica on a free host port.`,
    );
  }
  const limits =
    isMapping(deploy.resources) && isMapping(deploy.resources.limits)
      ? deploy.resources.limits
      : {};
  const cpus = limits.cpus ?? i.svc.cpus;
  const memory = limits.memory ?? i.svc.mem_limit;
  const resources = new TsObject();
  if (cpus !== undefined) resources.set("cpu", Number(cpus));
  if (memory !== undefined) {
    const q = memoryQuantity(memory);
    if (q === null)
      i.ctx.unsupported(
        i.out,
        at(i, "deploy.resources.limits.memory"),
        "memory",
        memory,
        "not a memory size",
      );
    else resources.set("memory", q);
  }
  if (resources.size > 0) i.out.set("resources", resources);
  const { replicas: _r, resources: res, restart_policy: rp, ...rest } = deploy;
  if (isMapping(rp)) {
    const { condition: _c, max_attempts: _m, ...more } = rp;
    for (const [k, v] of Object.entries(more)) {
      i.ctx.unsupported(
        i.out,
        at(i, `deploy.restart_policy.${k}`),
        `deploy.restart_policy.${k}`,
        v,
        "nix2dream restarts with its own backoff (`restart.backoff`)",
      );
    }
  }
  if (isMapping(res)) {
    const { limits: l, ...more } = res;
    if (isMapping(l)) {
      const { cpus: _c, memory: _m, ...other } = l;
      for (const [k, v] of Object.entries(other)) {
        i.ctx.unsupported(
          i.out,
          at(i, `deploy.resources.limits.${k}`),
          `deploy.resources.limits.${k}`,
          v,
          "nix2dream limits only cpu and memory",
        );
      }
    }
    for (const [k, v] of Object.entries(more)) {
      i.ctx.unsupported(
        i.out,
        at(i, `deploy.resources.${k}`),
        `deploy.resources.${k}`,
        v,
        "nix2dream has limits only, no reservations",
      );
    }
  }
  for (const [k, v] of Object.entries(rest)) {
    i.ctx.unsupported(
      i.out,
      at(i, `deploy.${k}`),
      `deploy.${k}`,
      v,
      "a Swarm placement/update setting nix2dream does not model",
    );
  }
}

/** A Compose value printed as written (for `build` options). */
function toTs(v: unknown): TsValue {
  if (Array.isArray(v)) return v.map(toTs);
  if (isMapping(v)) {
    const o = new TsObject();
    for (const [k, x] of Object.entries(v)) o.set(k, toTs(x));
    return o;
  }
  if (v === undefined) return null;
  return v as TsValue;
}
