import path from "node:path";
import type { Artifact, RenderResult } from "@nix2dream/core";
import {
  type Diagnostic,
  describeRef,
  type EvaluatedDeployment,
  type EvaluatedService,
  entrypointScript,
  type Healthcheck,
  literalValue,
  parseRefs,
  type Ref,
  type RefResolver,
  type ResolvedRef,
  STATE_DIR_VAR,
  shellQuote,
  shellWord,
} from "@nix2dream/core";
import {
  PLAN_FILE,
  PLAN_VERSION,
  type PlannedProbe,
  type PlannedProcess,
  type PlannedWatch,
  type ProcessPlan,
} from "./plan.js";

/** Options of {@link procfile}. */
export interface ProcfileOptions {
  /**
   * Also report what a plain Procfile runner such as foreman ignores: `dependsOn`,
   * `healthcheck`, `restart`, `stop`. Off by default, because manage-local reads them from
   * `processes.json`.
   */
  foreman?: boolean;
}

/** The Procfile file name. */
export const PROCFILE = "Procfile";
/** Directory of the launcher scripts, relative to the render directory. */
export const LAUNCHERS_DIR = "launchers";

const HOST = "127.0.0.1";
/** Foreman's default base port (`foreman start -p`). */
const FOREMAN_BASE_PORT = 5000;
/** Foreman's process-name grammar (`Foreman::Procfile#parse`). */
const PROCESS_NAME = /^[A-Za-z0-9_-]+$/;
/**
 * The state dir by default: `<render dir>/../state`, found from the launcher's own path
 * (`<render dir>/launchers/<svc>.sh`), so it is the same under foreman and manage-local.
 */
const DEFAULT_STATE_DIR = `"$(CDPATH= cd -P -- "$(dirname -- "$0")/../.." && pwd -P)"/state`;
const STATE = `"\${${STATE_DIR_VAR}}"`;

/** The port that `PORT` carries: the only one, else the one named `http`, else the first. */
function primaryPort(s: EvaluatedService): string | undefined {
  const names = Object.keys(s.ports);
  if (names.length <= 1 || !names.includes("http")) return names[0];
  return "http";
}

/** Port numbers replica `replica` listens on: the primary port moves up by one per replica. */
function replicaPorts(s: EvaluatedService, replica: number): Record<string, number> {
  const primary = primaryPort(s);
  const out: Record<string, number> = {};
  for (const [name, p] of Object.entries(s.ports)) {
    out[name] = name === primary ? p.port + replica - 1 : p.port;
  }
  return out;
}

/** Under the state dir: a relative path with no `.`/`..` segments, or undefined. */
function relocated(path: string): string | undefined {
  const segments = path.split("/").filter((x) => x !== "" && x !== ".");
  if (segments.length === 0 || segments.includes("..")) return undefined;
  return segments.join("/");
}

function isAbsolute(p: string): boolean {
  return p.startsWith("/");
}

/** JSON with object keys sorted at every level, two-space indented, newline-terminated. */
function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/** Renders a deployment to a Procfile, launchers and the process plan. Pure. */
export function renderProcfile(d: EvaluatedDeployment, opts: ProcfileOptions = {}): RenderResult {
  const diagnostics: Diagnostic[] = [];
  const artifacts: Artifact[] = [];
  const files = (option: string) => d.definitionFiles[option];
  const report = (
    severity: Diagnostic["severity"],
    service: string,
    option: string,
    message: string,
  ) => {
    const full = `services.${service}${option ? `.${option}` : ""}`;
    const defined = files(full);
    diagnostics.push({
      severity,
      option: full,
      service,
      ...(defined ? { files: defined } : {}),
      message,
    });
  };
  const warn = (service: string, option: string, message: string) =>
    report("warning", service, option, message);

  const names = Object.keys(d.services)
    .filter((n) => d.services[n]?.enable !== false)
    .sort();
  const services: EvaluatedService[] = [];
  for (const name of names) {
    const s = d.services[name] as EvaluatedService;
    if (!PROCESS_NAME.test(name)) {
      report(
        "error",
        name,
        "",
        `The service name ${JSON.stringify(name)} cannot be a Procfile process name (letters, digits, _ and - only); it is not rendered.`,
      );
      continue;
    }
    services.push(s);
  }
  // Looked up once per reference and dependency: a set, not a scan of every service.
  const rendered = new Set(services);

  const resolverFor = (from: string): RefResolver => {
    const seen = new Set<string>();
    const missing = (r: Ref, why: string): ResolvedRef => {
      const key = describeRef(r);
      if (!seen.has(key)) {
        seen.add(key);
        report("error", from, "", `\`${key}\` cannot be resolved: ${why}.`);
      }
      return "";
    };
    return (r) => {
      const target = d.services[r.service];
      if (!target || !rendered.has(target)) {
        return missing(r, `service \`${r.service}\` is not in the rendered deployment`);
      }
      switch (r.kind) {
        case "host":
          return HOST;
        case "port":
        case "address": {
          const p = target.ports[r.port];
          if (!p) return missing(r, `service \`${r.service}\` has no port \`${r.port}\``);
          return r.kind === "port" ? String(p.port) : `${HOST}:${p.port}`;
        }
        case "volume": {
          if (!target.volumes[r.volume]) {
            return missing(r, `service \`${r.service}\` has no volume \`${r.volume}\``);
          }
          return { shell: `${STATE}/${shellQuote(`${r.service}/volumes/${r.volume}`)}` };
        }
        case "file": {
          const place = target.files[r.path] ? relocated(r.path) : undefined;
          if (place === undefined) {
            return missing(r, `service \`${r.service}\` has no file \`${r.path}\``);
          }
          return { shell: `${STATE}/${shellQuote(`${r.service}/files/${place}`)}` };
        }
      }
    };
  };

  const formation: string[] = [];
  const procfileLines: string[] = [];
  const processes: PlannedProcess[] = [];
  let maxGrace = 0;
  const referenced = referencedFiles(d);

  // Services another service waits for with `completed`: jobs, meant to exit.
  const awaitedJobs = new Set(
    services.flatMap((x) =>
      Object.entries(x.dependsOn)
        .filter(([, condition]) => condition === "completed")
        .map(([dep]) => dep),
    ),
  );
  services.forEach((s, index) => {
    const name = s.name;
    const resolve = resolverFor(name);
    const launcher = `${LAUNCHERS_DIR}/${name}.sh`;
    procfileLines.push(`${name}: sh ${launcher}`);
    formation.push(`${name}=${s.replicas}`);
    maxGrace = Math.max(maxGrace, s.stop.gracePeriod);

    fidelity(s, warn, opts, referenced, awaitedJobs);

    // Relative paths are relative to the config file's directory, when the deployment has one.
    const fromRoot = (p: string): ResolvedRef => {
      const w = shellWord(p, resolve);
      if (isAbsolute(p) || d.root === null) return { shell: w };
      return { shell: `${shellQuote(`${d.root.replace(/\/+$/, "")}/`)}${w}` };
    };
    const workingDir: ResolvedRef | null = s.workingDir === null ? d.root : fromRoot(s.workingDir);

    const primary = primaryPort(s);
    const setup: string[] = [];
    if (primary !== undefined) {
      const base = s.ports[primary]?.port ?? 0;
      setup.push(
        "# PORT: the primary port, one up per replica (foreman's PS is <process>.<n>)",
        `case \${PS:-} in`,
        `  *.*) n2d_replica=\${PS##*.} ;;`,
        "  *) n2d_replica=1 ;;",
        "esac",
        "case $n2d_replica in ''|*[!0-9]*) n2d_replica=1 ;; esac",
        `PORT=$((${base} + n2d_replica - 1))`,
        "export PORT",
      );
    }

    const volumes: EvaluatedService["volumes"] = {};
    for (const [vol, v] of Object.entries(s.volumes)) {
      if (/^[^/]+$/.test(vol) && vol !== "." && vol !== "..") volumes[vol] = v;
      else {
        report(
          "error",
          name,
          `volumes.${JSON.stringify(vol)}`,
          `The volume name ${JSON.stringify(vol)} cannot be a directory name; the volume is not created.`,
        );
      }
    }
    const files: EvaluatedService["files"] = {};
    for (const [target, file] of Object.entries(s.files)) {
      if (relocated(target) !== undefined) files[target] = file;
      else {
        report(
          "error",
          name,
          `files.${JSON.stringify(target)}`,
          `The file path ${JSON.stringify(target)} has no place under the state directory (empty, or with ".." segments); it is not written.`,
        );
      }
    }

    const { script, diagnostics: generated } = entrypointScript(
      { ...s, files, volumes },
      {
        resolve,
        deployment: d.name,
        stateDir: DEFAULT_STATE_DIR,
        setup,
        filePath: (target) => ({
          shell: `${STATE}/${shellQuote(`${name}/files/${relocated(target)}`)}`,
        }),
        volumePath: (vol) => ({ shell: `${STATE}/${shellQuote(`${name}/volumes/${vol}`)}` }),
        sourcePath: fromRoot,
        secretPath: fromRoot,
        workingDir,
        emptyEphemeralVolumes: true,
      },
    );
    diagnostics.push(...generated);
    artifacts.push({ path: launcher, content: script, mode: 0o755 });

    const dependsOn: PlannedProcess["dependsOn"] = {};
    for (const [dep, condition] of Object.entries(s.dependsOn)) {
      const target = d.services[dep];
      if (target && rendered.has(target)) dependsOn[dep] = condition;
      else
        warn(
          name,
          `dependsOn.${dep}`,
          `\`${dep}\` is not a rendered service; the dependency is not planned.`,
        );
    }

    for (let replica = 1; replica <= s.replicas; replica++) {
      const ports = replicaPorts(s, replica);
      const env: Record<string, string> = { PS: `${name}.${replica}` };
      if (!("PORT" in s.env)) {
        env.PORT = String(
          primary !== undefined
            ? (ports[primary] as number)
            : FOREMAN_BASE_PORT + index * 100 + replica - 1,
        );
      }
      processes.push({
        name: replica === 1 ? name : `${name}.${replica}`,
        service: name,
        replica,
        command: ["sh", launcher],
        execPrefix: ["sh", launcher, "--exec"],
        env,
        dependsOn,
        probe: s.healthcheck && probeFor(s, s.healthcheck, ports, resolve, warn),
        restart: s.restart,
        stop: s.stop,
        ports,
        ...(s.user === null ? {} : { user: s.user }),
        ...(s.group === null ? {} : { group: s.group }),
        ...watchOf(s, d.root),
      });
    }
  });

  const plan: ProcessPlan = {
    version: PLAN_VERSION,
    deployment: d.name,
    processes: processes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
  artifacts.push(
    { path: PROCFILE, content: procfileLines.map((l) => `${l}\n`).join("") },
    {
      path: ".foreman",
      content: [
        "# Defaults for `foreman start` run in this directory; generated by nix2dream.",
        `formation: "${formation.join(",")}"`,
        `timeout: ${maxGrace || 5}`,
        "",
      ].join("\n"),
    },
    { path: PLAN_FILE, content: stableJson(plan) },
  );
  artifacts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { artifacts, diagnostics };
}

function probeFor(
  s: EvaluatedService,
  h: Healthcheck,
  ports: Record<string, number>,
  resolve: RefResolver,
  warn: (service: string, option: string, message: string) => void,
): PlannedProbe | null {
  const timing = {
    interval: h.interval,
    timeout: h.timeout,
    retries: h.retries,
    startPeriod: h.startPeriod,
  };
  if (h.type === "exec") {
    const literal = h.command.map((a) => literalValue(a, resolve));
    const command = literal.every((a): a is string => a !== undefined)
      ? literal
      : ["sh", "-c", `exec ${h.command.map((a) => shellWord(a, resolve)).join(" ")}`];
    return { type: "exec", command, ...timing };
  }
  const port = ports[h.port] ?? (/^[0-9]+$/.test(h.port) ? Number(h.port) : undefined);
  if (port === undefined) {
    warn(
      s.name,
      "healthcheck.port",
      `The service has no port \`${h.port}\`; the healthcheck is not planned.`,
    );
    return null;
  }
  if (h.type === "tcp") return { type: "tcp", host: HOST, port, ...timing };
  return { type: "http", host: HOST, port, path: h.path, scheme: h.scheme, ...timing };
}

const fileKey = (service: string, path: string) => `${service}\u0000${path}`;

/** Every `ref.<svc>.files[path]` used anywhere in the deployment's strings, as `fileKey`s. */
function referencedFiles(d: EvaluatedDeployment): Set<string> {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      for (const p of parseRefs(v)) {
        if (typeof p !== "string" && p.kind === "file") found.add(fileKey(p.service, p.path));
      }
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(d.services);
  return found;
}

/** Warnings for options a local process started from a Procfile cannot honour. */
function fidelity(
  s: EvaluatedService,
  warn: (service: string, option: string, message: string) => void,
  opts: ProcfileOptions,
  referenced: ReadonlySet<string>,
  awaitedJobs: ReadonlySet<string>,
): void {
  const n = s.name;
  if (s.package.image !== null) {
    warn(
      n,
      "package.image",
      `The Procfile target runs programs from PATH, not images; \`${s.package.image}\` is not used.`,
    );
  }
  if (s.package.nix !== null) {
    warn(
      n,
      "package.nix",
      `The Procfile target does not build Nix packages; \`${s.command[0] ?? ""}\` must be on PATH (e.g. inside \`nix develop\`).`,
    );
  }
  if (s.user !== null)
    warn(
      n,
      "user",
      `manage-local runs the service as \`${s.user}\` only when it runs as root (its state directory is then owned by that user); otherwise, and under foreman, it runs as the user who starts it.`,
    );
  if (s.group !== null && s.user === null)
    warn(n, "group", "`group` is applied only together with `user`; it is not applied.");
  if (s.resources.cpu !== null)
    warn(
      n,
      "resources.cpu",
      "The Procfile target cannot limit CPU; `resources.cpu` is not applied.",
    );
  if (s.resources.memory !== null)
    warn(
      n,
      "resources.memory",
      "The Procfile target cannot limit memory; `resources.memory` is not applied.",
    );
  if (Object.keys(s.labels).length)
    warn(n, "labels", "A Procfile has no place for labels; they are not rendered.");
  for (const [name, v] of Object.entries(s.volumes)) {
    if (v.size !== null)
      warn(
        n,
        `volumes.${name}.size`,
        `Local volumes are directories and cannot be sized; \`${v.size}\` is not applied.`,
      );
    if (s.replicas > 1) {
      const emptied = v.persistent
        ? ""
        : ", and each replica's start empties it (it is not persistent)";
      warn(
        n,
        `volumes.${name}`,
        `All ${s.replicas} replicas share the volume directory${emptied}.`,
      );
    }
  }
  for (const target of Object.keys(s.files)) {
    // A program told the file's place through `ref.<svc>.files[...]` finds it: nothing lost.
    if (relocated(target) === undefined || referenced.has(fileKey(n, target))) continue;
    warn(
      n,
      `files.${JSON.stringify(target)}`,
      `The file is written under the state directory, at $${STATE_DIR_VAR}/${n}/files/${relocated(target)}, not at ${JSON.stringify(target)}; pass its place to the program with \`ref.${n}.files[${JSON.stringify(target)}]\`.`,
    );
  }
  const primary = primaryPort(s);
  for (const [name, p] of Object.entries(s.ports)) {
    if (p.hostPort !== null && p.hostPort !== p.port) {
      warn(
        n,
        `ports.${name}.hostPort`,
        `Local processes cannot remap ports; the service listens on ${p.port}, not ${p.hostPort}.`,
      );
    }
    if (s.replicas > 1 && name !== primary) {
      warn(
        n,
        `ports.${name}`,
        `Only the primary port \`${primary}\` moves per replica (through PORT); all ${s.replicas} replicas would listen on ${p.port}.`,
      );
    }
  }
  if (s.replicas > 1 && primary !== undefined) {
    warn(
      n,
      "replicas",
      `Replica n listens on PORT=${s.ports[primary]?.port}+n-1 and must read $PORT; references point at the first replica.`,
    );
  }
  if (!opts.foreman) return;
  if (awaitedJobs.has(n))
    warn(
      n,
      "restart",
      "This service is a job (others wait for it to complete), and foreman stops every process as soon as one exits: when the job finishes, foreman stops the whole deployment. Run it with manage-local (`nix2dream up`), or run the job on its own before `foreman start`.",
    );
  if (Object.keys(s.dependsOn).length)
    warn(
      n,
      "dependsOn",
      "foreman starts every process at once; `dependsOn` is honoured only by manage-local (processes.json).",
    );
  if (s.healthcheck)
    warn(
      n,
      "healthcheck",
      "foreman has no healthchecks; the healthcheck is honoured only by manage-local (processes.json).",
    );
  if (s.restart.policy !== "no")
    warn(
      n,
      "restart",
      "foreman does not restart processes: when one exits it stops them all; `restart` is honoured only by manage-local.",
    );
  if (s.stop.signal !== "SIGTERM")
    warn(
      n,
      "stop.signal",
      `foreman always sends SIGTERM; \`${s.stop.signal}\` is honoured only by manage-local.`,
    );
}

/** The plan's `watch` entry: paths made absolute against the config's directory; none when empty. */
function watchOf(s: EvaluatedService, root: string | null): { watch?: PlannedWatch } {
  // Older evaluations (and hand-written ones in tests) have no `watch` at all.
  const w = s.watch as EvaluatedService["watch"] | undefined;
  if (!w || w.paths.length === 0) return {};
  const paths = w.paths.map((p) => (root ? path.resolve(root, p) : p));
  return { watch: { paths, ignore: [...w.ignore], debounce: w.debounce } };
}
