/**
 * The deployment-wide checks of the core options: dependencies, cycles, host ports,
 * references, healthcheck ports, files and secrets. Each problem is one paragraph naming the
 * option path and the files that defined it.
 */
import { ModuleError } from "@nix2dream/modules";
import type { EvaluatedService } from "./deployment.js";
import { findDependencyCycle } from "./graph.js";
import { publishedHostPort } from "./helpers.js";
import { describeRef, parseRefs, type Ref } from "./refs.js";

/** One failed check. */
export interface Problem {
  code: string;
  option: string;
  message: string;
  files: string[];
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** POSIX environment variable names: what every launcher can export. */
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function showFiles(files: readonly string[]): string {
  const u = [...new Set(files)];
  if (u.length === 0) return "an unknown file";
  if (u.length === 1) return u[0] as string;
  return `${u.slice(0, -1).join(", ")} and ${u[u.length - 1]}`;
}

function list(names: Iterable<string>): string {
  const sorted = [...names].sort();
  return sorted.length > 0 ? sorted.join(", ") : "none";
}

/** Every string of a service that may hold references, with its option path. */
function referenceSites(s: EvaluatedService): Array<[string, string]> {
  const base = `services.${s.name}`;
  const sites: Array<[string, string]> = [];
  const each = (prefix: string, values: readonly string[]) => {
    values.forEach((v, i) => {
      sites.push([`${prefix}.${i}`, v]);
    });
  };
  each(`${base}.command`, s.command);
  each(`${base}.args`, s.args);
  sites.push([`${base}.preStart`, s.preStart]);
  for (const [k, v] of Object.entries(s.env)) sites.push([`${base}.env.${k}`, v]);
  for (const [k, f] of Object.entries(s.files)) {
    if (f.text !== null) sites.push([`${base}.files.${k}.text`, f.text]);
  }
  for (const [k, v] of Object.entries(s.volumes)) {
    sites.push([`${base}.volumes.${k}.init`, v.init]);
    sites.push([`${base}.volumes.${k}.check`, v.check]);
    sites.push([`${base}.volumes.${k}.clear`, v.clear]);
  }
  if (s.healthcheck?.type === "exec") {
    each(`${base}.healthcheck.command`, s.healthcheck.command);
  }
  return sites;
}

/** Why a reference does not resolve, or null when it does. */
function brokenReason(r: Ref, all: Record<string, EvaluatedService>): string | null {
  const target = all[r.service];
  if (!target) return `there is no service ${r.service} (services: ${list(Object.keys(all))})`;
  if (!target.enable) return `service ${r.service} is disabled`;
  if ((r.kind === "port" || r.kind === "address") && !target.ports[r.port]) {
    return `service ${r.service} has no port ${r.port} (ports: ${list(Object.keys(target.ports))})`;
  }
  if (r.kind === "volume" && !target.volumes[r.volume]) {
    return `service ${r.service} has no volume ${r.volume} (volumes: ${list(Object.keys(target.volumes))})`;
  }
  if (r.kind === "file" && !target.files[r.path]) {
    return `service ${r.service} has no file ${JSON.stringify(r.path)} (files: ${list(Object.keys(target.files))})`;
  }
  return null;
}

// A NUL byte, or a UTF-16 surrogate without its pair: no target can carry either (argv,
// environment and files are C strings or UTF-8 text).
const UNWRITABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A NUL byte or any surrogate: a quick test that clears almost every string. */
const SUSPECT = /[\0\uD800-\uDFFF]/;

/** Why no target can carry the string `s`, or null when one can. */
function whyUnwritable(s: string): string | null {
  if (!SUSPECT.test(s)) return null;
  const m = UNWRITABLE.exec(s);
  if (!m) return null;
  if (m[0] === "\0") return "a NUL byte";
  const code = m[0].charCodeAt(0).toString(16);
  return `a lone UTF-16 surrogate (\\u${code}), which is not a character and has no UTF-8 form`;
}

/** `[option path, what is wrong]` for every string (value or key) under `value` no target can carry. */
function unwritableStrings(value: unknown, path: string): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  if (typeof value === "string") {
    const w = whyUnwritable(value);
    if (w) found.push([path, w]);
  } else if (anySuspect(value)) collectUnwritable(value, path, found);
  return found;
}

/**
 * Whether a string (value or key) under `value` holds a NUL or a surrogate, which
 * {@link collectUnwritable} then looks at: almost never, so no path is built for the others.
 */
function anySuspect(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  const isList = Array.isArray(value);
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!isList && SUSPECT.test(k)) return true;
    const v = obj[k];
    if (typeof v === "string" ? SUSPECT.test(v) : anySuspect(v)) return true;
  }
  return false;
}

/** Adds to `found` every unwritable string (and key) under `value`; paths built only when needed. */
function collectUnwritable(value: unknown, path: string, found: Array<[string, string]>): void {
  if (value === null || typeof value !== "object") return;
  const isList = Array.isArray(value);
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    const w = isList ? null : whyUnwritable(k);
    if (w) found.push([`${path}.${k}`, `${w} in its name`]);
    if (typeof v === "string") {
      const wv = whyUnwritable(v);
      if (wv) found.push([isList ? path : `${path}.${k}`, wv]);
    } else if (v !== null && typeof v === "object")
      collectUnwritable(v, isList ? path : `${path}.${k}`, found);
  }
}

/**
 * Runs every core check over the services (`all` includes disabled ones; only enabled
 * services are checked). `filesFor(option)` gives the files that defined an option.
 */
export function checkServices(
  all: Record<string, EvaluatedService>,
  filesFor: (option: string) => string[],
): Problem[] {
  const problems: Problem[] = [];
  const add = (code: string, option: string, message: string, files?: string[]) => {
    // Messages that already name their files (cycles, duplicate ports) pass them explicitly.
    const named = files ?? filesFor(option);
    const text = files ? message : `${message} Defined in ${showFiles(named)}.`;
    problems.push({ code, option, files: [...new Set(named)], message: text });
  };
  const enabled = Object.fromEntries(
    Object.keys(all)
      .sort()
      .filter((n) => all[n]?.enable)
      .map((n) => [n, all[n] as EvaluatedService]),
  );

  for (const name of Object.keys(all).sort()) {
    if (NAME_RE.test(name) && name.length <= 63) continue;
    add(
      "INVALID_NAME",
      `services.${name}`,
      `The service name ${JSON.stringify(name)} is not one every target can carry: use at most 63 letters, digits, \`_\`, \`.\` and \`-\`, starting with a letter or digit (it becomes a host name, a unit name and a file name).`,
    );
  }
  for (const [name, s] of Object.entries(enabled)) {
    for (const [option, what] of unwritableStrings(s, `services.${name}`)) {
      add(
        "UNWRITABLE_VALUE",
        option,
        `The option \`${option}\` holds ${what}: no target can carry it (programs get their arguments, environment and files as C strings and UTF-8 text). Remove it from the value.`,
      );
    }
    for (const [dep, condition] of Object.entries(s.dependsOn).sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      const option = `services.${name}.dependsOn.${dep}`;
      const target = all[dep];
      if (!target) {
        add(
          "UNKNOWN_DEPENDENCY",
          option,
          `The option \`${option}\` makes service ${name} depend on ${dep}, but there is no service ${dep} (services: ${list(Object.keys(all))}).`,
        );
      } else if (!target.enable) {
        const offFiles = filesFor(`services.${dep}.enable`);
        add(
          "DISABLED_DEPENDENCY",
          option,
          `The option \`${option}\` makes service ${name} depend on ${dep}, but service ${dep} is disabled (\`services.${dep}.enable\` is false in ${showFiles(offFiles)}). Enable ${dep} or remove the dependency. Defined in ${showFiles(filesFor(option))}.`,
          [...filesFor(option), ...offFiles],
        );
      } else if (condition === "healthy" && target.healthcheck === null) {
        add(
          "MISSING_HEALTHCHECK",
          option,
          `The option \`${option}\` makes service ${name} wait until ${dep} is healthy, but service ${dep} has no healthcheck. Set \`services.${dep}.healthcheck\` or depend on it being \`started\`.`,
        );
      } else if (target.replicas === 0) {
        add(
          "NO_REPLICAS",
          option,
          `The option \`${option}\` makes service ${name} wait for ${dep}, but \`services.${dep}.replicas\` is 0, so ${dep} never runs. Run at least one replica or remove the dependency.`,
        );
      }
    }
  }

  const cycle = findDependencyCycle(enabled);
  if (cycle) {
    const edges = cycle.slice(0, -1).map((n, i) => `services.${n}.dependsOn.${cycle[i + 1]}`);
    const files = edges.flatMap((e) => filesFor(e));
    add(
      "DEPENDENCY_CYCLE",
      edges[0] as string,
      `Services depend on each other in a cycle: ${cycle.join(" -> ")} (${edges.map((e) => `\`${e}\``).join(", ")}). Remove one of these dependencies.`,
      files,
    );
  }

  for (const [name, s] of Object.entries(enabled)) {
    for (const what of ["ports", "volumes"] as const) {
      for (const key of Object.keys(s[what]).sort()) {
        if (NAME_RE.test(key)) continue;
        const option = `services.${name}.${what}.${key}`;
        add(
          "INVALID_NAME",
          option,
          `The option \`${option}\` has a name that references cannot carry: use letters, digits, \`_\`, \`.\` and \`-\`.`,
        );
      }
    }
    for (const what of ["env", "secrets"] as const) {
      for (const key of Object.keys(s[what]).sort()) {
        if (ENV_NAME_RE.test(key)) continue;
        const option = `services.${name}.${what}.${key}`;
        add(
          "INVALID_NAME",
          option,
          `The option \`${option}\` names an environment variable \`${key}\` that a shell cannot export: use letters, digits and \`_\`, not starting with a digit.`,
        );
      }
    }
    const hc = s.healthcheck;
    if (hc && hc.type !== "exec" && !s.ports[hc.port]) {
      const option = `services.${name}.healthcheck.port`;
      add(
        "UNKNOWN_PORT",
        option,
        `The option \`${option}\` names port ${hc.port}, but service ${name} has no port ${hc.port} (ports: ${list(Object.keys(s.ports))}).`,
      );
    }
    for (const [path, f] of Object.entries(s.files).sort(([a], [b]) => a.localeCompare(b))) {
      if ((f.text === null) === (f.source === null)) {
        const option = `services.${name}.files.${path}`;
        add(
          "INVALID_FILE",
          option,
          `The option \`${option}\` must set exactly one of \`text\` and \`source\`, but ${f.text === null ? "sets neither" : "sets both"}.`,
        );
      }
    }
    for (const [key, secret] of Object.entries(s.secrets).sort(([a], [b]) => a.localeCompare(b))) {
      if (secret.fromEnv !== null && secret.fromFile !== null) {
        const option = `services.${name}.secrets.${key}`;
        add(
          "INVALID_SECRET",
          option,
          `The option \`${option}\` sets both \`fromEnv\` and \`fromFile\`; a secret has one source.`,
        );
      }
    }
    for (const [site, value] of referenceSites(s)) {
      for (const part of parseRefs(value)) {
        if (typeof part === "string") continue;
        const reason = brokenReason(part, all);
        if (reason === null) continue;
        add(
          "INVALID_REFERENCE",
          site,
          `The option \`${site}\` refers to ${describeRef(part)}, but ${reason}.`,
        );
      }
    }
  }

  const published = new Map<string, string>();
  for (const [name, s] of Object.entries(enabled)) {
    for (const [portName, port] of Object.entries(s.ports).sort(([a], [b]) => a.localeCompare(b))) {
      const host = publishedHostPort(port);
      if (host === null) continue;
      const key = `${host}/${port.protocol}`;
      const option = `services.${name}.ports.${portName}`;
      const first = published.get(key);
      if (first === undefined) {
        published.set(key, option);
        continue;
      }
      add(
        "DUPLICATE_HOST_PORT",
        option,
        `Host port ${host}/${port.protocol} is published twice: by \`${first}\` (${showFiles(filesFor(first))}) and by \`${option}\` (${showFiles(filesFor(option))}). Set a different \`hostPort\` on one of them.`,
        [...filesFor(first), ...filesFor(option)],
      );
    }
  }
  return problems;
}

/**
 * Things that are allowed but probably not meant, as warning messages (deterministic order):
 * waiting for a service to complete when its restart policy is `always`.
 */
export function serviceWarnings(
  all: Record<string, EvaluatedService>,
  filesFor: (option: string) => string[],
): string[] {
  const warnings: string[] = [];
  for (const name of Object.keys(all).sort()) {
    const s = all[name] as EvaluatedService;
    if (!s.enable) continue;
    for (const dep of Object.keys(s.dependsOn).sort()) {
      const target = all[dep];
      if (s.dependsOn[dep] !== "completed" || !target?.enable) continue;
      if (target.restart.policy !== "always") continue;
      const option = `services.${name}.dependsOn.${dep}`;
      warnings.push(
        `The option \`${option}\` (${showFiles(filesFor(option))}) waits for ${dep} to complete, but \`services.${dep}.restart.policy\` is \`always\`: ${dep} is restarted each time it exits. Use \`on-failure\` or \`no\` for a one-shot service.`,
      );
    }
  }
  return warnings;
}

/** Throws one ModuleError for the problems (the first one's code), or returns when there are none. */
export function throwProblems(problems: Problem[]): void {
  const first = problems[0];
  if (!first) return;
  const errors = problems.map(
    (p) => new ModuleError(p.code, p.message, { optionPath: p.option, files: p.files }),
  );
  if (errors.length === 1) throw errors[0];
  throw new ModuleError(first.code, problems.map((p) => p.message).join("\n"), {
    optionPath: first.option,
    files: problems.flatMap((p) => p.files),
    errors,
  });
}
