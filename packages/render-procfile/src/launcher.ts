/**
 * A service's launcher script (`launchers/<name>.sh`) and its processes in the plan, one
 * function per aspect: the primary port, the files and volumes that have a place under the
 * state directory, the script, the planned dependencies and probes.
 */
import path from "node:path";
import {
  type Artifact,
  definitionFilesView,
  type EvaluatedService,
  type Healthcheck,
  type RefResolver,
  type ResolvedRef,
} from "@nix2dream/core";
import { entrypointScript } from "@nix2dream/core/entrypoint";
import { literalValue, shellQuote, shellWord } from "@nix2dream/core/shell";
import { HOST, type ProcfileContext, relocated, STATE } from "./context.js";
import type { PlannedProbe, PlannedProcess, PlannedWatch } from "./plan.js";

/** Directory of the launcher scripts, relative to the render directory. */
export const LAUNCHERS_DIR = "launchers";

/** Foreman's default base port (`foreman start -p`). */
const FOREMAN_BASE_PORT = 5000;
/**
 * The state dir by default: `<render dir>/../state`, found from the launcher's own path
 * (`<render dir>/launchers/<svc>.sh`), so it is the same under foreman and manage-local.
 */
const DEFAULT_STATE_DIR = `"$(CDPATH= cd -P -- "$(dirname -- "$0")/../.." && pwd -P)"/state`;

/** The port that `PORT` carries: the only one, else the one named `http`, else the first. */
export function primaryPort(s: EvaluatedService): string | undefined {
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

/** Shell lines that set `PORT` to the primary port, one up per replica. */
function portSetup(s: EvaluatedService): string[] {
  const primary = primaryPort(s);
  if (primary === undefined) return [];
  const base = s.ports[primary]?.port ?? 0;
  return [
    "# PORT: the primary port, one up per replica (foreman's PS is <process>.<n>)",
    `case \${PS:-} in`,
    `  *.*) n2d_replica=\${PS##*.} ;;`,
    "  *) n2d_replica=1 ;;",
    "esac",
    "case $n2d_replica in ''|*[!0-9]*) n2d_replica=1 ;; esac",
    `PORT=$((${base} + n2d_replica - 1))`,
    "export PORT",
  ];
}

/** The service's volumes and files that have a place under the state directory. */
function placeable(s: EvaluatedService, ctx: ProcfileContext): EvaluatedService {
  const volumes: EvaluatedService["volumes"] = {};
  for (const [vol, v] of Object.entries(s.volumes)) {
    if (/^[^/]+$/.test(vol) && vol !== "." && vol !== "..") volumes[vol] = v;
    else {
      ctx.report(
        "error",
        s.name,
        `volumes.${JSON.stringify(vol)}`,
        `The volume name ${JSON.stringify(vol)} cannot be a directory name; the volume is not created.`,
      );
    }
  }
  const files: EvaluatedService["files"] = {};
  for (const [target, file] of Object.entries(s.files)) {
    if (relocated(target) !== undefined) files[target] = file;
    else {
      ctx.report(
        "error",
        s.name,
        `files.${JSON.stringify(target)}`,
        `The file path ${JSON.stringify(target)} has no place under the state directory (empty, or with ".." segments); it is not written.`,
      );
    }
  }
  return { ...s, files, volumes };
}

/** The launcher script of `s`: core's entrypoint with local paths under the state directory. */
export function launcherOf(
  s: EvaluatedService,
  ctx: ProcfileContext,
  resolve: RefResolver,
): Artifact {
  const d = ctx.deployment;
  const name = s.name;
  // Relative paths are relative to the config file's directory, when the deployment has one.
  const fromRoot = (p: string): ResolvedRef => {
    const w = shellWord(p, resolve);
    if (p.startsWith("/") || d.root === null) return { shell: w };
    return { shell: `${shellQuote(`${d.root.replace(/\/+$/, "")}/`)}${w}` };
  };
  const { script, diagnostics } = entrypointScript(placeable(s, ctx), {
    resolve,
    deployment: d.name,
    definitionFiles: definitionFilesView(d),
    stateDir: DEFAULT_STATE_DIR,
    setup: portSetup(s),
    filePath: (target) => ({
      shell: `${STATE}/${shellQuote(`${name}/files/${relocated(target)}`)}`,
    }),
    volumePath: (vol) => ({ shell: `${STATE}/${shellQuote(`${name}/volumes/${vol}`)}` }),
    sourcePath: fromRoot,
    secretPath: fromRoot,
    workingDir: s.workingDir === null ? d.root : fromRoot(s.workingDir),
    emptyEphemeralVolumes: true,
  });
  ctx.diagnostics.push(...diagnostics);
  return { path: launcherPath(name), content: script, mode: 0o755 };
}

/** Where the launcher of the service `name` is, relative to the render directory. */
export const launcherPath = (name: string) => `${LAUNCHERS_DIR}/${name}.sh`;

/**
 * The planned processes of `s`, one per replica (`PS`, `PORT`, dependencies, probe); `index`
 * is the service's place in the Procfile (foreman's port for a service without ports).
 */
export function processesOf(
  s: EvaluatedService,
  index: number,
  ctx: ProcfileContext,
  resolve: RefResolver,
): PlannedProcess[] {
  const name = s.name;
  const launcher = launcherPath(name);
  const dependsOn = plannedDependsOn(s, ctx);
  const primary = primaryPort(s);
  const out: PlannedProcess[] = [];
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
    out.push({
      name: replica === 1 ? name : `${name}.${replica}`,
      service: name,
      replica,
      command: ["sh", launcher],
      execPrefix: ["sh", launcher, "--exec"],
      env,
      dependsOn,
      probe: s.healthcheck && probeFor(s, s.healthcheck, ports, resolve, ctx),
      restart: s.restart,
      stop: s.stop,
      ports,
      ...(s.user === null ? {} : { user: s.user }),
      ...(s.group === null ? {} : { group: s.group }),
      ...watchOf(s, ctx.deployment.root),
    });
  }
  return out;
}

/** The plan's `watch` entry: paths made absolute against the config's directory; none when empty. */
function watchOf(s: EvaluatedService, root: string | null): { watch?: PlannedWatch } {
  // Older evaluations (and hand-written ones in tests) have no `watch` at all.
  const w = s.watch as EvaluatedService["watch"] | undefined;
  if (!w || w.paths.length === 0) return {};
  const paths = w.paths.map((p) => (root ? path.resolve(root, p) : p));
  return { watch: { paths, ignore: [...w.ignore], debounce: w.debounce } };
}

/** The dependencies of `s` on rendered services; others are warned about. */
function plannedDependsOn(s: EvaluatedService, ctx: ProcfileContext): PlannedProcess["dependsOn"] {
  const dependsOn: PlannedProcess["dependsOn"] = {};
  for (const [dep, condition] of Object.entries(s.dependsOn)) {
    const target = ctx.deployment.services[dep];
    if (target && ctx.rendered.has(target)) dependsOn[dep] = condition;
    else
      ctx.warn(
        s.name,
        `dependsOn.${dep}`,
        `\`${dep}\` is not a rendered service; the dependency is not planned.`,
      );
  }
  return dependsOn;
}

/** The healthcheck as manage-local probes it, on the replica's `ports`. */
function probeFor(
  s: EvaluatedService,
  h: Healthcheck,
  ports: Record<string, number>,
  resolve: RefResolver,
  ctx: ProcfileContext,
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
    ctx.warn(
      s.name,
      "healthcheck.port",
      `The service has no port \`${h.port}\`; the healthcheck is not planned.`,
    );
    return null;
  }
  if (h.type === "tcp") return { type: "tcp", host: HOST, port, ...timing };
  return { type: "http", host: HOST, port, path: h.path, scheme: h.scheme, ...timing };
}
