/**
 * The contracts every renderer and manager (ours and third parties') is written against.
 * This file is the frozen shape; implementations live beside it.
 */
import type { Module } from "@nix2dream/modules";
import type { EvaluatedDeployment } from "./deployment.js";

/**
 * One file a renderer produces: either its content ({@link ContentArtifact}) or a host file the
 * writer copies ({@link HostFileArtifact}). Tell them apart with `typeof artifact.source === "string"`.
 */
export type Artifact = ContentArtifact | HostFileArtifact;

/** A file whose content the renderer made; `path` is relative to the renderer's output directory, `/`-separated. */
export interface ContentArtifact {
  path: string;
  content: string | Uint8Array;
  /** POSIX file mode, e.g. `0o755` for scripts; default `0o644`. */
  mode?: number;
  source?: never;
}

/**
 * A file of the machine that writes the render, copied byte for byte into the output directory
 * when the render is written (e.g. a service's `files.<path>.source`), so that the render is
 * self-contained: it can be moved to, or run on, another machine. A renderer reads no files
 * (`render` is pure): it names the file, and the writer (the CLI, or `writeArtifacts` of the
 * `nix2dream` package) reads it before anything is written. A missing or unreadable file is then
 * a user error naming {@link HostFileArtifact.origin}, and nothing is written.
 */
export interface HostFileArtifact {
  /** Where the copy goes, relative to the renderer's output directory, `/`-separated. */
  path: string;
  /** Absolute path of the file on the machine that writes the render. */
  source: string;
  /** POSIX mode of the copy; default `0o644` (the source's own mode is not kept). */
  mode?: number;
  content?: never;
  /** The option that named the file and the files that defined it, for the error when it cannot be read. */
  origin?: {
    /** Full option path, e.g. `services.api.files."/etc/app.conf".source`. */
    option: string;
    /** Files that defined the option, when known. */
    files?: string[];
  };
}

/**
 * Something an option asked for that the target cannot express (or can only approximate).
 * The CLI prints warnings; with `--strict` every diagnostic is an error.
 */
export interface Diagnostic {
  severity: "warning" | "error";
  /** Full option path, e.g. `services.api.healthcheck`. */
  option: string;
  /** Service the diagnostic is about, when there is one. */
  service?: string;
  /** Files that defined the option, when known. */
  files?: string[];
  message: string;
}

/** What `render()` returns. */
export interface RenderResult {
  artifacts: Artifact[];
  diagnostics: Diagnostic[];
}

/**
 * A renderer turns an evaluated deployment into files for one target.
 * `render` must be pure and deterministic: no I/O, no clock, no randomness, stable key order.
 */
export interface Renderer<Name extends string = string> {
  name: Name;
  /** Declares `services.<svc>.renderers.<name>.*`. */
  serviceModule?: Module;
  /** Declares `renderers.<name>.*` (deployment-wide). */
  deploymentModule?: Module;
  render(deployment: EvaluatedDeployment): RenderResult;
}

/** Everything an action gets from the CLI (or a programmatic caller). */
export interface ManagerContext {
  deployment: EvaluatedDeployment;
  /** Absolute directory where this manager's renderer wrote its artifacts. */
  artifactsDir: string;
  /** Absolute per-deployment state directory for this manager (logs, sockets, volumes). */
  stateDir: string;
  /** Positional arguments after the action name (e.g. service names). */
  args: string[];
  /** Parsed flags (`--follow` → `{ follow: true }`). */
  flags: Record<string, string | boolean | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Colour allowed (a TTY and no `NO_COLOR`). */
  color: boolean;
  /** Aborted when the user interrupts the CLI. */
  signal: AbortSignal;
}

/** The outcome of an action; `exitCode` becomes the CLI's exit code. */
export interface ActionResult {
  exitCode: number;
  /** Machine-readable result, printed by the CLI with `--json`. */
  data?: unknown;
}

/** One action of a manager (`up`, `down`, `ps`, `logs`, `restart`, ...). */
export type ManagerAction = (ctx: ManagerContext) => Promise<ActionResult>;

/** A flag a manager's actions take (`--context prod`), so the CLI parses its value. */
export interface ManagerFlag {
  type: "string" | "boolean";
  /** One-letter alias; must not clash with the CLI's own (`-c -o -m -f -n -t -d -h -v`). */
  short?: string;
  /** One line for `--help`. */
  description?: string;
}

/** A manager acts on the artifacts of one renderer. */
export interface Manager<Name extends string = string> {
  name: Name;
  /** The renderer whose output this manager runs (rendered first by the CLI). */
  renderer: string;
  /** Declares `managers.<name>.*` (deployment-wide). */
  module?: Module;
  /** Short help per action, shown by `nix2dream --help`. */
  descriptions?: Record<string, string>;
  /**
   * Flags with values that the actions take. Flags not declared here still reach the action,
   * but only as booleans: `--context prod` would be `context: true` and a stray `prod`.
   */
  flags?: Record<string, ManagerFlag>;
  actions: Record<string, ManagerAction>;
}
