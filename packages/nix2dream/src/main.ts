/**
 * The `nix2dream` command line: argument parsing, dispatch, and error reporting.
 */
import { readFileSync, writeSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import type {
  DeploymentDefinition,
  Diagnostic,
  Manager,
  ManagerContext,
  Renderer,
  RenderResult,
} from "@nix2dream/core";
import { CONFIG_NAMES, displayPath, findConfigFile } from "./config.js";
import { isModuleError, shortenPaths, UserError } from "./errors.js";
import { GLOBAL_OPTIONS, MANAGER_OPTIONS } from "./flags.js";
import {
  type DiagnosticParagraph,
  foldDiagnostics,
  foldWarnings,
  type Reported,
  type WarningParagraph,
} from "./fold.js";
import { COMMANDS, type CommandHelp, commandHelp, globalHelp, type ProjectHelp } from "./help.js";
import { optionEntries, optionsMarkdown, optionsText } from "./options-doc.js";
import {
  colorAllowed,
  formatDiagnostic,
  formatFolded,
  formatFoldedWarning,
  type Styles,
  styles,
} from "./output.js";
import type { Project } from "./project.js";
import { closest } from "./suggest.js";
import { watchedFiles } from "./watched-files.js";
import { checkArtifactPaths, checkHostFiles, type WriteResult, writeArtifacts } from "./write.js";

// What only some commands need is imported by them (the module engine, zod, the config loader,
// the options docs), so that `--version` and `--help` start as fast as node itself.
const projectModule = () => import("./project.js");

/**
 * Manager actions that act on what is already running or built, from the artifacts already on
 * disk: the CLI does not render before them (a `down` after editing the config must still see
 * what `up` started). Every other action (`up`, `build`, `apply`, `diff`, ...) renders the
 * manager's renderer first.
 */
const ACTS_ON_WHAT_RUNS = new Set([
  "down",
  "ps",
  "logs",
  "restart",
  "stop",
  "status",
  "delete",
  "images",
  "ssh",
  "console",
]);

/** Where the CLI reads and writes; defaults to this process. */
export interface CliIO {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /**
   * Aborts running manager actions. When omitted, SIGINT and SIGTERM of this process abort them
   * (a second signal exits at once with code 130).
   */
  signal?: AbortSignal;
}

const COMMAND_OPTIONS = {
  options: { markdown: { type: "boolean" }, schema: { type: "boolean" } },
  import: { file: { type: "string", short: "f", multiple: true }, force: { type: "boolean" } },
  graph: { format: { type: "string" } },
} as const;

type Flags = Record<string, string | boolean | undefined>;

interface Run {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  out: Styles;
  err: Styles;
  color: boolean;
  flags: Flags;
  signal: AbortSignal | undefined;
}

/** The version of this package. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code.
 * Never throws: errors are printed to `stderr` as one paragraph (with a stack trace only under
 * `--debug`) and give exit code 1.
 */
export async function runCli(argv: string[], io: CliIO = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const color = colorAllowed(stdout, env);
  const errStyles = styles(colorAllowed(stderr, env));
  const pre = parseArgs({
    args: argv,
    options: { ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS.options, ...MANAGER_OPTIONS },
    strict: false,
    allowPositionals: true,
  });
  const debug = pre.values.debug === true;
  const run: Run = {
    cwd: resolve(io.cwd ?? process.cwd()),
    env,
    stdout,
    stderr,
    out: styles(color),
    err: errStyles,
    color,
    flags: pre.values as Flags,
    signal: io.signal,
  };
  try {
    return await dispatch(argv, pre.positionals, run);
  } catch (err) {
    reportError(err, run, debug);
    return 1;
  }
}

function reportError(err: unknown, run: Run, debug: boolean): void {
  const s = run.err;
  const label = s.red(s.bold("error:"));
  if (UserError.is(err)) {
    // Named when a renderer or manager threw it: the user knows whose message it is.
    const from = err.source ? `${err.source}: ` : "";
    run.stderr.write(`${label} ${from}${shortenPaths(err.message, run.cwd)}\n`);
    if (err.hint) run.stderr.write(`${s.dim("hint:")} ${err.hint}\n`);
  } else if (isModuleError(err)) {
    run.stderr.write(`${label} ${shortenPaths(err.message, run.cwd)}\n`);
  } else {
    const message = err instanceof Error ? err.message : String(err);
    run.stderr.write(`${label} ${shortenPaths(message, run.cwd)}\n`);
    if (!debug) run.stderr.write(`${s.dim("Run again with --debug to see the stack trace.")}\n`);
  }
  if (debug) {
    let e: unknown = err;
    while (e instanceof Error) {
      run.stderr.write(`${s.dim(e.stack ?? String(e))}\n`);
      e = e.cause;
      if (e) run.stderr.write(s.dim("caused by:\n"));
    }
  }
}

const BUILTIN = new Set(COMMANDS.map((c) => c.name));

async function dispatch(argv: string[], positionals: string[], run: Run): Promise<number> {
  const pre = run.flags;
  if (pre.version === true) {
    run.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = positionals[0];
  if (command === undefined) {
    // `--help` (or no command) never loads the config: it must answer at once, anywhere.
    run.stdout.write(globalHelp(version(), run.out, projectPointer(run)));
    return 0;
  }
  if (command === "help" && positionals.length === 1) {
    run.stdout.write(globalHelp(version(), run.out, await projectForHelp(run)));
    return 0;
  }
  if (command === "help") {
    const topic = positionals[1] as string;
    const c = COMMANDS.find((x) => x.name === topic);
    if (!c) throw unknownCommand(topic, []);
    run.stdout.write(commandHelp(c, run.out));
    return 0;
  }
  const spec = COMMANDS.find((c) => c.name === command);
  if (spec && pre.help === true) {
    run.stdout.write(commandHelp(spec, run.out));
    if (spec.manager) run.stdout.write(await managerHelp(spec.name, run));
    return 0;
  }
  if (!spec) return managerCommand(command, argv, run, undefined);
  if (spec.manager) return managerCommand(command, argv, run, spec);

  const extra = COMMAND_OPTIONS[command as keyof typeof COMMAND_OPTIONS] ?? {};
  const parsed = parseStrict(argv, { ...GLOBAL_OPTIONS, ...extra }, spec);
  run.flags = parsed.values;
  const args = parsed.positionals.slice(1);
  switch (command) {
    case "render":
      return renderCommand(args, run);
    case "check":
      noArgs(spec, args);
      return checkCommand(run);
    case "options":
      noArgs(spec, args);
      return optionsCommand(run);
    case "import":
      return (await import("./commands/import.js")).importCommand(args, run);
    case "graph":
      noArgs(spec, args);
      return (await import("./commands/graph.js")).graphCommand(() => projectFor(run), run);
    default:
      throw unknownCommand(command, []);
  }
}

function parseStrict(
  argv: string[],
  options: NonNullable<ParseArgsConfig["options"]>,
  spec: CommandHelp,
): { values: Flags; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { values: r.values as Flags, positionals: r.positionals };
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err))
      .split("\n")[0]
      ?.split(/\. To specify/)[0]
      ?.replace(/\.$/, "");
    throw new UserError("BAD_FLAGS", `${message} (in \`nix2dream ${spec.name}\`).`, {
      hint: `See \`nix2dream ${spec.name} --help\` for its flags.`,
    });
  }
}

function noArgs(spec: CommandHelp, args: string[]): void {
  if (args.length > 0) {
    throw new UserError(
      "BAD_FLAGS",
      `\`nix2dream ${spec.name}\` takes no arguments, but was given: ${args.join(" ")}.`,
      { hint: `Usage: ${spec.usage}` },
    );
  }
}

function unknownCommand(command: string, managerActions: string[]): UserError {
  const known = [...BUILTIN, ...managerActions];
  const guess = closest(command, known);
  return new UserError(
    "UNKNOWN_COMMAND",
    `Unknown command \`${command}\`. Commands: ${[...new Set(known)].join(", ")}.`,
    { hint: guess ? `Did you mean \`nix2dream ${guess}\`?` : "Run `nix2dream --help` for usage." },
  );
}

async function projectFor(run: Run): Promise<Project> {
  const { loadProject } = await projectModule();
  return loadProject({
    cwd: run.cwd,
    configFile: run.flags.config as string | undefined,
    out: run.flags.out as string | undefined,
  });
}

/** Where the config is, for `--help`, which does not load it; undefined outside a project. */
function projectPointer(run: Run): ProjectHelp | undefined {
  const file = run.flags.config
    ? resolve(run.cwd, String(run.flags.config))
    : findConfigFile(run.cwd);
  if (!file) return undefined;
  return {
    file: displayPath(file, run.cwd),
    renderers: [],
    managers: [],
    note: "`nix2dream help` lists its renderers, managers and their actions.",
  };
}

/** The config as `nix2dream help` describes it; never fails (help must work with a broken config). */
async function projectForHelp(run: Run): Promise<ProjectHelp | undefined> {
  try {
    const p = await projectFor(run);
    return {
      file: displayPath(p.config.file, run.cwd),
      renderers: p.renderers.map((r) => r.name),
      managers: p.managers,
    };
  } catch (err) {
    if (err instanceof UserError && err.code === "CONFIG_NOT_FOUND") return undefined;
    const file = findConfigFile(run.cwd);
    return {
      file: file ? displayPath(file, run.cwd) : String(run.flags.config ?? "config"),
      renderers: [],
      managers: [],
      problem: "could not be loaded; `nix2dream check` says why.",
    };
  }
}

/** What the project's manager says about an action, for `<command> --help`; empty when unknown. */
async function managerHelp(action: string, run: Run): Promise<string> {
  try {
    const project = await projectFor(run);
    const { selectManager } = await projectModule();
    const manager = selectManager(project, run.flags.manager as string | undefined);
    const description = manager.descriptions?.[action];
    if (!manager.actions[action]) {
      return `\nIn this project, the manager \`${manager.name}\` has no \`${action}\` action.\n`;
    }
    return description ? `\n${run.out.bold(`MANAGER ${manager.name}`)}\n  ${description}\n` : "";
  } catch {
    return ""; // help must work without (or with a broken) config
  }
}

// ---------------------------------------------------------------------------------------------
// rendering

interface Rendered {
  renderer: Renderer;
  result: RenderResult;
}

/** Core's output checks (`checkedRenderResult`), passed in: core loads with the project. */
type Check = (renderer: string, deployment: Project["deployment"], r: RenderResult) => RenderResult;

function renderWith(renderer: Renderer, project: Project, check: Check): Rendered {
  let result: RenderResult;
  try {
    result = renderer.render(project.deployment);
  } catch (err) {
    if (UserError.is(err)) throw withSource(err, `renderer ${renderer.name}`);
    const message = (err instanceof Error ? err.message : String(err)).trim();
    const sentence = /[.!?]$/.test(message) ? message : `${message}.`;
    throw new UserError(
      "RENDER_FAILED",
      `The renderer \`${renderer.name}\` failed: ${sentence} Nothing was written.`,
      { cause: err },
    );
  }
  if (!result || !Array.isArray(result.artifacts)) {
    throw new UserError(
      "RENDER_FAILED",
      `The renderer \`${renderer.name}\` returned ${result === undefined ? "nothing" : "something else"} instead of { artifacts, diagnostics }. Nothing was written.`,
    );
  }
  checkArtifactPaths(result.artifacts, renderer.name);
  // Core's output checks, for renderers not made with defineRenderer (applied once either way).
  result = check(renderer.name, project.deployment, result);
  return {
    renderer,
    result: { artifacts: result.artifacts, diagnostics: result.diagnostics ?? [] },
  };
}

/**
 * Prints evaluation warnings and render diagnostics; throws when any is an error (severity
 * `error`, or anything under `--strict`). Called before anything is written.
 */
function reportDiagnostics(project: Project, rendered: Rendered[], run: Run): void {
  const strict = run.flags.strict === true;
  const s = run.err;
  let errors = 0;
  // One write for all: a large deployment has tens of thousands of lines, each a system call.
  const lines: string[] = [];
  const label = strict ? s.red(s.bold("error:")) : s.yellow(s.bold("warning:"));
  if (strict) errors += project.warnings.length;
  const shortened = project.warnings.map((w) => shortenPaths(w, run.cwd));
  const warnings: WarningParagraph[] =
    run.flags["all-warnings"] === true
      ? shortened.map((text) => ({ kind: "single", text }))
      : foldWarnings(shortened, Object.keys(project.deployment.services));
  for (const w of warnings) {
    lines.push(
      w.kind === "single"
        ? `${label} ${w.text}\n`
        : `${formatFoldedWarning(w.parts, w.services, label, s)}\n`,
    );
  }
  const shorten = (f: string) => displayPath(f, run.cwd);
  const reported: Reported[] = [];
  for (const { renderer, result } of rendered) {
    for (const diagnostic of result.diagnostics) {
      const isError = strict || diagnostic.severity === "error";
      if (isError) errors++;
      reported.push({ renderer: renderer.name, diagnostic, isError });
    }
  }
  // The same warning for every service folds into one paragraph unless all are asked for.
  const paragraphs: DiagnosticParagraph[] =
    run.flags["all-warnings"] === true
      ? reported.map((r) => ({ kind: "single", reported: r }))
      : foldDiagnostics(reported);
  for (const p of paragraphs) {
    const text =
      p.kind === "folded"
        ? formatFolded(p.folded, s, shorten)
        : formatDiagnostic(
            p.reported.diagnostic,
            p.reported.renderer,
            p.reported.isError,
            s,
            shorten,
          );
    lines.push(`${text}\n`);
  }
  if (lines.length > 0) run.stderr.write(lines.join(""));
  if (errors > 0) {
    throw new UserError(
      "STRICT",
      `${errors} ${errors === 1 ? "problem" : "problems"} ${strict ? "reported as errors under --strict" : "reported as errors by the renderers"}; nothing was written.`,
    );
  }
}

async function renderCommand(names: string[], run: Run): Promise<number> {
  const project = await projectFor(run);
  const { checkedRenderResult, rendererDir, selectRenderers } = await projectModule();
  const selected = selectRenderers(project, names);
  const rendered = selected.map((r) => renderWith(r, project, checkedRenderResult));
  reportDiagnostics(project, rendered, run);
  const written: Array<{ renderer: string; write: WriteResult; diagnostics: Diagnostic[] }> = [];
  for (const { renderer, result } of rendered) {
    const write = await writeArtifacts(rendererDir(project, renderer.name), result.artifacts, {
      owner: renderer.name,
    });
    written.push({ renderer: renderer.name, write, diagnostics: result.diagnostics });
  }
  if (run.flags.json === true) {
    const data = {
      deployment: project.deployment.name,
      out: project.out,
      renderers: written.map((w) => ({
        name: w.renderer,
        dir: w.write.dir,
        written: w.write.written,
        removed: w.write.removed,
        kept: w.write.kept,
        diagnostics: w.diagnostics,
      })),
      warnings: project.warnings,
    };
    run.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return 0;
  }
  if (written.length === 0) {
    run.stdout.write(
      `No renderers are registered in ${displayPath(project.config.file, run.cwd)}; nothing to render. Add one to \`use\`.\n`,
    );
    return 0;
  }
  for (const w of written) printWrite(w.renderer, w.write, run.stdout, run.out, run.cwd);
  return 0;
}

function printWrite(
  renderer: string,
  w: WriteResult,
  stream: NodeJS.WritableStream,
  s: Styles,
  cwd: string,
): void {
  const n = w.written.length;
  const lines = [
    `${s.green("rendered")} ${s.bold(renderer)} → ${displayPath(w.dir, cwd)}/ (${n} ${n === 1 ? "file" : "files"})\n`,
  ];
  for (const f of w.written) lines.push(`  ${f}\n`);
  for (const f of w.removed) lines.push(`  ${s.dim(`- ${f} (stale, removed)`)}\n`);
  for (const f of w.kept) {
    lines.push(`  ${s.yellow(`! ${f} (stale, kept: changed since nix2dream wrote it)`)}\n`);
  }
  stream.write(lines.join("")); // one write: a render may list thousands of files
}

async function checkCommand(run: Run): Promise<number> {
  const project = await projectFor(run);
  for (const m of project.managers) rendererOf(m, project, run.cwd);
  const { checkedRenderResult } = await projectModule();
  const rendered = project.renderers.map((r) => renderWith(r, project, checkedRenderResult));
  const summary = {
    ok: true,
    deployment: project.deployment.name,
    config: project.config.file,
    services: Object.keys(project.deployment.services),
    renderers: rendered.map(({ renderer, result }) => ({
      name: renderer.name,
      artifacts: result.artifacts.map((a) => ({
        path: a.path,
        ...(typeof a.source === "string"
          ? { source: a.source } // a host file, copied when the render is written
          : {
              bytes:
                typeof a.content === "string"
                  ? Buffer.byteLength(a.content)
                  : (a.content as Uint8Array).byteLength,
            }),
        mode: `0${(a.mode ?? 0o644).toString(8)}`,
      })),
      diagnostics: result.diagnostics,
    })),
    managers: project.managers.map((m) => m.name),
    warnings: project.warnings,
  };
  try {
    reportDiagnostics(project, rendered, run);
    // The host files `render` would copy: a missing one fails here too, not only at `render`.
    for (const { renderer, result } of rendered) {
      await checkHostFiles(result.artifacts, renderer.name);
    }
  } catch (err) {
    if (run.flags.json === true) {
      run.stdout.write(`${JSON.stringify({ ...summary, ok: false }, null, 2)}\n`);
    }
    throw err;
  }
  if (run.flags.json === true) {
    run.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  }
  const s = run.out;
  const nWarnings =
    project.warnings.length + rendered.reduce((n, r) => n + r.result.diagnostics.length, 0);
  const parts = rendered.map(
    ({ renderer, result }) =>
      `${renderer.name}: ${result.artifacts.length} ${result.artifacts.length === 1 ? "file" : "files"}`,
  );
  run.stdout.write(
    `${s.green("ok")} ${s.bold(project.deployment.name)}: ${summary.services.length} ${
      summary.services.length === 1 ? "service" : "services"
    }, ${rendered.length} ${rendered.length === 1 ? "renderer" : "renderers"}${
      parts.length > 0 ? ` (${parts.join(", ")})` : ""
    }, ${nWarnings} ${nWarnings === 1 ? "warning" : "warnings"}; nothing written.\n`,
  );
  return 0;
}

// ---------------------------------------------------------------------------------------------
// options

async function optionsCommand(run: Run): Promise<number> {
  let options: unknown;
  try {
    const { loadOptions } = await projectModule();
    options = await loadOptions({
      cwd: run.cwd,
      configFile: run.flags.config as string | undefined,
    });
  } catch (err) {
    if (!(err instanceof UserError && err.code === "CONFIG_NOT_FOUND") || run.flags.config) {
      throw err;
    }
    run.stderr.write(
      `${run.err.dim(`note: no ${CONFIG_NAMES[0]} found; listing the core options only.`)}\n`,
    );
    const { evaluate } = await projectModule();
    options = evaluate({ name: "example" } as DeploymentDefinition, undefined, run.cwd).options;
  }
  const { optionsDocs, optionsJsonSchema } = await import("@nix2dream/modules");
  if (run.flags.schema === true) {
    run.stdout.write(`${JSON.stringify(optionsJsonSchema(options), null, 2)}\n`);
    return 0;
  }
  const entries = optionEntries(optionsDocs(options), run.cwd);
  if (run.flags.json === true) {
    run.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
  } else if (run.flags.markdown === true) {
    run.stdout.write(optionsMarkdown(entries));
  } else {
    run.stdout.write(`${optionsText(entries, run.out)}\n`);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// manager actions

async function managerCommand(
  command: string,
  argv: string[],
  run: Run,
  spec: CommandHelp | undefined,
): Promise<number> {
  // Managers define their own flags (`down --volumes`), so unknown flags pass through.
  const parsed = parseArgs({
    args: argv,
    options: { ...GLOBAL_OPTIONS, ...MANAGER_OPTIONS },
    strict: false,
    allowPositionals: true,
  });
  run.flags = parsed.values as Flags;
  let args = parsed.positionals.slice(1);
  for (const key of ["config", "out", "manager", "tail"] as const) {
    if (run.flags[key] === true) {
      throw new UserError("BAD_FLAGS", `The flag --${key} needs a value.`, {
        hint: `See \`nix2dream ${command} --help\`.`,
      });
    }
  }

  let project: Project;
  let manager: Manager;
  const { rendererDir, selectManager, stateDir } = await projectModule();
  if (!spec) {
    // Not a built-in command: maybe an extra action of the manager.
    try {
      project = await projectFor(run);
      manager = selectManager(project, run.flags.manager as string | undefined);
    } catch {
      throw unknownCommand(command, []);
    }
    if (!manager.actions[command]) throw unknownCommand(command, Object.keys(manager.actions));
    if (run.flags.help === true) {
      run.stdout.write(
        `nix2dream ${command} — ${manager.descriptions?.[command] ?? `the \`${command}\` action of the manager \`${manager.name}\``}\n`,
      );
      return 0;
    }
  } else {
    project = await projectFor(run);
    manager = selectManager(project, run.flags.manager as string | undefined);
  }

  if (manager.flags) {
    // Again, now that the manager is known: its own flags take values (`--context prod`).
    const again = parseArgs({
      args: argv,
      options: { ...manager.flags, ...GLOBAL_OPTIONS, ...MANAGER_OPTIONS },
      strict: false,
      allowPositionals: true,
    });
    run.flags = again.values as Flags;
    args = again.positionals.slice(1);
    for (const [name, flag] of Object.entries(manager.flags)) {
      if (flag.type === "string" && run.flags[name] === true) {
        throw new UserError("BAD_FLAGS", `The flag --${name} needs a value.`, {
          hint: `See \`nix2dream ${command} --help\`.`,
        });
      }
    }
  }

  const action = manager.actions[command];
  if (!action) {
    throw new UserError(
      "UNKNOWN_ACTION",
      `The manager \`${manager.name}\` has no \`${command}\` action; it supports: ${Object.keys(manager.actions).sort().join(", ")}.`,
    );
  }
  if ((command === "restart" || command === "stop") && args.length === 0) {
    throw new UserError("BAD_FLAGS", `\`nix2dream ${command}\` needs the name of a service.`, {
      hint: `Usage: nix2dream ${command} <service>; services: ${Object.keys(project.deployment.services).join(", ")}.`,
    });
  }

  const artifactsDir = rendererDir(project, manager.renderer);
  if (!ACTS_ON_WHAT_RUNS.has(command)) {
    const renderer = rendererOf(manager, project, run.cwd);
    const rendered = renderWith(renderer, project, (await projectModule()).checkedRenderResult);
    reportDiagnostics(project, [rendered], run);
    const w = await writeArtifacts(artifactsDir, rendered.result.artifacts, {
      owner: renderer.name,
    });
    if (run.flags.json !== true) {
      const n = w.written.length;
      run.stderr.write(
        `${run.err.green("rendered")} ${run.err.bold(renderer.name)} → ${displayPath(w.dir, run.cwd)}/ (${n} ${n === 1 ? "file" : "files"})\n`,
      );
    }
  }

  if (command === "up" && run.flags.watch === true) tellLauncherWhatToWatch(project);
  const state = stateDir(project, manager.name);
  await mkdir(state, { recursive: true });
  const controller = new AbortController();
  const cleanup = forwardInterrupts(controller, run.signal);
  try {
    const ctx: ManagerContext = {
      deployment: project.deployment,
      artifactsDir,
      stateDir: state,
      args,
      flags: run.flags,
      stdout: run.stdout,
      stderr: run.stderr,
      color: run.color,
      signal: controller.signal,
    };
    const result = await action(ctx).catch((err: unknown) => {
      throw withSource(err, `manager ${manager.name}`);
    });
    if (run.flags.json === true) {
      run.stdout.write(`${JSON.stringify(result?.data ?? null, null, 2)}\n`);
    }
    return typeof result?.exitCode === "number" ? result.exitCode : 0;
  } finally {
    cleanup();
  }
}

/**
 * `up --watch` under the launcher (`launcher.ts`): the config and its local modules, which the
 * launcher watches to run the CLI again when they change. Nothing without a launcher.
 */
function tellLauncherWhatToWatch(project: Project): void {
  const fd = Number(process.env.NIX2DREAM_HANDOFF_FD);
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    writeSync(fd, `${JSON.stringify({ watch: watchedFiles(project.config.file) })}\n`);
  } catch {
    // The launcher is gone: nothing will watch.
  }
}

/** A {@link UserError} without a source, named after the plugin it came out of. */
function withSource(err: unknown, source: string): unknown {
  if (!UserError.is(err) || err.source !== undefined) return err;
  return new UserError(err.code, err.message, {
    source,
    cause: err,
    ...(err.hint === undefined ? {} : { hint: err.hint }),
  });
}

/** The renderer whose output `manager` runs; a {@link UserError} when it is not registered. */
function rendererOf(manager: Manager, project: Project, cwd: string): Renderer {
  const renderer = project.renderers.find((r) => r.name === manager.renderer);
  if (renderer) return renderer;
  throw new UserError(
    "UNKNOWN_RENDERER",
    `The manager \`${manager.name}\` runs what the renderer \`${manager.renderer}\` produces, but that renderer is not registered in ${displayPath(project.config.file, cwd)}.`,
    { hint: `Add the \`${manager.renderer}\` renderer to \`use\`.` },
  );
}

/** Aborts `controller` on SIGINT/SIGTERM (or when `external` aborts); a second signal exits at once. */
function forwardInterrupts(controller: AbortController, external: AbortSignal | undefined) {
  if (external) {
    const onAbort = () => controller.abort(external.reason);
    if (external.aborted) onAbort();
    external.addEventListener("abort", onAbort, { once: true });
    return () => external.removeEventListener("abort", onAbort);
  }
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new Error(`interrupted (${signal})`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Signal listeners do not keep Node alive: an action that only awaits `ctx.signal` would
  // otherwise end the process before the user can interrupt it.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  return () => {
    clearInterval(keepAlive);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
