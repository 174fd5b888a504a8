/**
 * The launcher (entrypoint) script of one service: a `#!/bin/sh` program that sets up the
 * service's environment and then `exec`s it. The Procfile renderer uses it for local processes;
 * container renderers reuse it as the image entrypoint. Target-specific choices (where files and
 * volumes live, how references resolve, the state directory) come in through
 * {@link EntrypointOptions}; everything else is the same on every target.
 */
import type { Diagnostic } from "./contracts.js";
import type { EvaluatedDeployment, EvaluatedService, ServiceVolume } from "./deployment.js";
import { diagnostic } from "./helpers.js";
import {
  isShellName,
  type RefResolver,
  type ResolvedRef,
  ShellQuoteError,
  shellQuote,
  shellWord,
} from "./shell.js";

/** Variable the launcher exports with the state directory, when the target has one. */
export const STATE_DIR_VAR = "NIX2DREAM_STATE_DIR";

/** Target settings for {@link entrypointScript}. Paths are resolved values, not shell source, unless they are a `ShellExpansion`. */
export interface EntrypointOptions {
  /** Resolves cross-service references in env, args, command, file text and paths. */
  resolve: RefResolver;
  /** Deployment name, for the header comment. */
  deployment?: string;
  /** The deployment's definition files: diagnostics name the files that set the option. */
  definitionFiles?: EvaluatedDeployment["definitionFiles"];
  /**
   * Shell source expanding to the default state directory. When set, the launcher exports
   * `NIX2DREAM_STATE_DIR` (a value already in the environment wins) before anything else, so
   * paths and resolved references may use `"${NIX2DREAM_STATE_DIR}"`.
   */
  stateDir?: string;
  /** Extra shell lines run after the state directory is known and before `env` is exported. */
  setup?: string[];
  /** Where the file declared at `target` is written. Default: `target` itself. */
  filePath?: (target: string) => ResolvedRef;
  /** Where a `files.*.source` is copied from. Default: the path as given. */
  sourcePath?: (source: string) => ResolvedRef;
  /** Where a secret's `fromFile` is read. Default: the path as given. */
  secretPath?: (path: string) => ResolvedRef;
  /** Directory of volume `name`. Default: `volume.path`. */
  volumePath?: (name: string, volume: ServiceVolume) => ResolvedRef;
  /**
   * Working directory of the program, preStart and `--exec` commands. `undefined`: the
   * service's `workingDir` (nothing when it is null); `null`: stay where the launcher started.
   */
  workingDir?: ResolvedRef | null;
  /**
   * Empty non-persistent volumes on every start (a local directory has no container lifetime to
   * end it). Leave false where the volume is a fresh mount anyway.
   */
  emptyEphemeralVolumes?: boolean;
}

/** The generated script and what could not be expressed in it. */
export interface Entrypoint {
  script: string;
  diagnostics: Diagnostic[];
}

const FILE_MODE = /^[0-7]{3,4}$/;

function word(value: ResolvedRef): string {
  return typeof value === "string" ? shellQuote(value) : value.shell;
}

function comment(text: string): string[] {
  return text.split(/\r?\n|\r/).map((l) => (l ? `# ${l}` : "#"));
}

/**
 * Generates the launcher script of `service`.
 *
 * Modes: no argument runs the service (files, volume init/check, `cd`, `preStart`, `exec` of
 * `command` + `args`); `--exec CMD [ARG...]` runs CMD in the service's environment and working
 * directory (for exec healthchecks); `--clear` runs each volume's `clear` script and empties the
 * volume. Secrets are read when the script starts, from the variable `fromEnv` (checked first)
 * or the file `fromFile` (trailing newlines dropped, as `$(cat file)` does); their values never
 * appear in the script. Every value is quoted for POSIX `sh`.
 */
export function entrypointScript(
  service: EvaluatedService,
  options: EntrypointOptions,
): Entrypoint {
  const diagnostics: Diagnostic[] = [];
  const svc = service.name;
  const at = (option: string) => `services.${svc}.${option}`;
  const files = { definitionFiles: options.definitionFiles ?? {} };
  const report = (severity: Diagnostic["severity"], option: string, message: string) =>
    diagnostics.push(diagnostic(files, { severity, option: at(option), service: svc, message }));
  const problem = (option: string, message: string) => report("error", option, message);
  const { resolve } = options;
  /** Quotes a user value; on a NUL byte records an error and yields `''`. */
  const w = (value: string, option: string): string => {
    try {
      return shellWord(value, resolve);
    } catch (e) {
      if (!(e instanceof ShellQuoteError)) throw e;
      problem(option, `The value of \`${at(option)}\` contains a NUL byte, which sh cannot carry.`);
      return "''";
    }
  };
  const path = (hook: ((p: string) => ResolvedRef) | undefined, p: string, option: string) =>
    hook ? word(hook(p)) : w(p, option);

  const out: string[] = ["#!/bin/sh"];
  const dep =
    options.deployment === undefined ? "" : ` of deployment ${JSON.stringify(options.deployment)}`;
  out.push(
    `# Launcher of service ${JSON.stringify(svc)}${dep}, generated by nix2dream; do not edit.`,
  );
  if (service.description) out.push(...comment(service.description));
  out.push(
    "# Usage: launcher            run the service",
    "#        launcher --exec CMD [ARG...]   run CMD in the service's environment",
    "#        launcher --clear    run the volumes' clear scripts and empty them",
    "set -eu",
    "",
    `n2d_fail() { printf 'nix2dream: service %s: %s\\n' ${w(svc, "name")} "$1" >&2; exit 1; }`,
    `n2d_empty() { (cd -- "$1" && rm -rf -- ./* ./.[!.]* ./..?*); }`,
    "n2d_mode=run",
    'if [ "$#" -gt 0 ]; then',
    "  case $1 in",
    `    --exec) shift; [ "$#" -gt 0 ] || n2d_fail '--exec needs a command'; n2d_mode=exec ;;`,
    `    --clear) shift; [ "$#" -eq 0 ] || n2d_fail '--clear takes no arguments'; n2d_mode=clear ;;`,
    `    *) n2d_fail "unknown argument: $1 (expected --exec CMD [ARG...] or --clear)" ;;`,
    "  esac",
    "fi",
  );

  if (options.stateDir !== undefined) {
    out.push(
      "",
      `if [ -z "\${${STATE_DIR_VAR}:-}" ]; then`,
      `  ${STATE_DIR_VAR}=${options.stateDir}`,
      "fi",
      `export ${STATE_DIR_VAR}`,
    );
  }
  if (options.setup?.length) out.push("", ...options.setup);

  const envKeys = Object.keys(service.env);
  if (envKeys.length) out.push("", "# Environment");
  for (const key of envKeys) {
    if (!isShellName(key)) {
      problem(
        `env.${key}`,
        `\`${key}\` is not a valid environment variable name for sh (letters, digits and _, not starting with a digit); it is not set.`,
      );
      continue;
    }
    out.push(`${key}=${w(service.env[key] ?? "", `env.${key}`)}`, `export ${key}`);
  }

  const secretKeys = Object.keys(service.secrets);
  if (secretKeys.length) out.push("", "# Secrets: read now, never written to a file");
  for (const key of secretKeys) {
    const s = service.secrets[key];
    if (!s) continue;
    if (!isShellName(key)) {
      problem(
        `secrets.${key}`,
        `\`${key}\` is not a valid environment variable name for sh; the secret is not set.`,
      );
      continue;
    }
    if (key in service.env) {
      report(
        "warning",
        `secrets.${key}`,
        `\`${key}\` is both in \`env\` and in \`secrets\`; the secret wins.`,
      );
    }
    const fromEnv = s.fromEnv ?? (s.fromFile === null ? key : null);
    if (fromEnv !== null && !isShellName(fromEnv)) {
      problem(
        `secrets.${key}.fromEnv`,
        `\`${fromEnv}\` is not a valid environment variable name for sh.`,
      );
      continue;
    }
    const branches: string[] = [];
    const how: string[] = [];
    if (fromEnv !== null) {
      branches.push(`[ -n "\${${fromEnv}+x}" ]; then`, `  ${key}=$${fromEnv}`);
      how.push(`set the variable ${fromEnv}`);
    }
    let missing = "";
    if (s.fromFile !== null) {
      const file = path(options.secretPath, s.fromFile, `secrets.${key}.fromFile`);
      branches.push(`[ -f ${file} ] && [ -r ${file} ]; then`, `  ${key}=$(cat -- ${file})`);
      how.push("create the readable file ");
      missing = file;
    }
    for (let i = 0; i < branches.length; i += 2) {
      out.push(`${i === 0 ? "if" : "elif"} ${branches[i]}`, branches[i + 1] as string);
    }
    missing = `${shellQuote(`secret ${key} is missing: ${how.join(" or ")}`)}${missing}`;
    out.push("else");
    if (s.required) {
      out.push(
        `  if [ "$n2d_mode" = clear ]; then unset ${key}; else n2d_fail ${missing}; fi`,
        "fi",
        `export ${key}`,
      );
    } else {
      out.push(`  unset ${key}`, "fi", `if [ -n "\${${key}+x}" ]; then export ${key}; fi`);
    }
  }

  const volumes = Object.entries(service.volumes).map(([name, v]) => ({
    name,
    v,
    dir: options.volumePath ? word(options.volumePath(name, v)) : w(v.path, `volumes.${name}.path`),
  }));
  const script = (code: string, option: string) => w(code, option);

  out.push("", 'if [ "$n2d_mode" = clear ]; then');
  for (const { name, v, dir } of volumes) {
    out.push(`  if [ -d ${dir} ]; then`);
    if (v.clear) {
      out.push(
        `    (cd -- ${dir} && exec sh -ec ${script(v.clear, `volumes.${name}.clear`)} sh) || n2d_fail ${shellQuote(`volume ${name}: clear failed`)}`,
      );
    }
    out.push(`    n2d_empty ${dir}`, "  fi");
  }
  out.push("  exit 0", "fi");

  let workingDir: string | null = null;
  if (options.workingDir === undefined) {
    if (service.workingDir !== null) workingDir = w(service.workingDir, "workingDir");
  } else if (options.workingDir !== null) {
    workingDir = word(options.workingDir);
  }
  const cd = workingDir
    ? `cd -- ${workingDir} || n2d_fail ${shellQuote("cannot enter the working directory ")}${workingDir}`
    : "";

  out.push("", 'if [ "$n2d_mode" = exec ]; then');
  if (cd) out.push(`  ${cd}`);
  out.push('  exec "$@"', "fi");

  const fileTargets = Object.keys(service.files);
  if (fileTargets.length) out.push("", "# Files");
  for (const target of fileTargets) {
    const f = service.files[target];
    if (!f) continue;
    const opt = `files.${JSON.stringify(target)}`;
    let mode = f.mode;
    if (!FILE_MODE.test(mode)) {
      problem(`${opt}.mode`, `File mode \`${mode}\` is not an octal mode like "0644"; using 0644.`);
      mode = "0644";
    }
    const dest = path(options.filePath, target, opt);
    if ((f.text === null) === (f.source === null)) {
      problem(opt, "Exactly one of `text` and `source` must be set; the file is not written.");
      continue;
    }
    out.push(`n2d_f=${dest}`, `case $n2d_f in */*) mkdir -p -- "\${n2d_f%/*}" ;; esac`);
    if (f.text !== null) {
      out.push(`printf '%s' ${w(f.text, `${opt}.text`)} >"$n2d_f.n2d-tmp.$$"`);
    } else {
      const src = path(options.sourcePath, f.source as string, `${opt}.source`);
      out.push(`cp -- ${src} "$n2d_f.n2d-tmp.$$" || n2d_fail ${shellQuote("cannot copy ")}${src}`);
    }
    out.push(`chmod ${mode} "$n2d_f.n2d-tmp.$$"`, 'mv -f -- "$n2d_f.n2d-tmp.$$" "$n2d_f"');
  }

  if (volumes.length) out.push("", "# Volumes");
  for (const { name, v, dir } of volumes) {
    out.push(`mkdir -p -- ${dir}`);
    if (!v.persistent && options.emptyEphemeralVolumes) out.push(`n2d_empty ${dir}`);
    if (v.init) {
      // A mark beside the volume while its init runs: an init that was interrupted (Ctrl-C,
      // down, a crash) leaves it, and the next start empties the volume and runs init again
      // instead of taking a half-made volume for a ready one. Beside, not inside: programs such
      // as initdb insist on an empty directory.
      out.push(
        `n2d_m=${dir}'.n2d-init'`,
        `if [ -e "$n2d_m" ]; then n2d_empty ${dir}; fi`,
        `if [ -z "$(ls -A -- ${dir})" ]; then`,
        `  : >"$n2d_m"`,
        `  if ! (cd -- ${dir} && exec sh -ec ${script(v.init, `volumes.${name}.init`)} sh); then`,
        `    n2d_empty ${dir}`,
        `    rm -f -- "$n2d_m"`,
        `    n2d_fail ${shellQuote(`volume ${name}: init failed (the volume was emptied so the next start retries)`)}`,
        "  fi",
        `  rm -f -- "$n2d_m"`,
        "fi",
      );
    }
    if (v.check) {
      out.push(
        `(cd -- ${dir} && exec sh -ec ${script(v.check, `volumes.${name}.check`)} sh) || n2d_fail ${shellQuote(`volume ${name}: check failed`)}`,
      );
    }
  }

  out.push("");
  if (cd) out.push(cd);
  if (service.preStart) {
    out.push("# preStart", "set +u", `eval ${w(service.preStart, "preStart")}`, "set -u");
  }
  const argv = [...service.command, ...service.args];
  if (service.command.length === 0) {
    problem("command", "The service has no `command`; the launcher cannot start anything.");
    out.push("n2d_fail 'no command to run'");
  } else {
    const words = argv.map((a, i) =>
      w(a, i < service.command.length ? `command.${i}` : `args.${i - service.command.length}`),
    );
    out.push(`exec ${words.join(" ")}`);
  }
  return { script: `${out.join("\n")}\n`, diagnostics };
}
