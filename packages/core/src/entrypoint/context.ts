/**
 * What the section functions of the launcher script read and write: the service, the target's
 * options, the lines written so far and the diagnostics (made with core's `diagnostic()`, so
 * each names the file that defined its option when the caller passes `definitionFiles`).
 */
import type { Diagnostic } from "../contracts.js";
import type { EvaluatedService, ServiceVolume } from "../deployment.js";
import { diagnostic } from "../helpers.js";
import {
  type RefResolver,
  type ResolvedRef,
  ShellQuoteError,
  shellQuote,
  shellWord,
} from "../shell.js";

/** Variable the launcher exports with the state directory, when the target has one. */
export const STATE_DIR_VAR = "NIX2DREAM_STATE_DIR";

/** Target settings for {@link entrypointScript}. Paths are resolved values, not shell source, unless they are a `ShellExpansion`. */
export interface EntrypointOptions {
  /** Resolves cross-service references in env, args, command, file text and paths. */
  resolve: RefResolver;
  /** Deployment name, for the header comment. */
  deployment?: string;
  /**
   * The deployment's `definitionFiles`, so that diagnostics name the files that defined their
   * option. Default: none (diagnostics carry no `files`).
   */
  definitionFiles?: Readonly<Record<string, string[]>>;
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

/** One service's launcher while it is written; the section functions append to `out`. */
export interface EntrypointContext {
  service: EvaluatedService;
  options: EntrypointOptions;
  /** The script's lines so far. */
  out: string[];
  diagnostics: Diagnostic[];
  /** Reports on `services.<svc>.<option>`. */
  report: (severity: Diagnostic["severity"], option: string, message: string) => void;
  /** A user value as one sh word; on a NUL byte records an error and yields `''`. */
  w: (value: string, option: string) => string;
  /** A path through the target's hook, else the value itself, as one sh word. */
  path: (hook: ((p: string) => ResolvedRef) | undefined, p: string, option: string) => string;
}

/** A resolved value as one sh word. */
export function word(value: ResolvedRef): string {
  return typeof value === "string" ? shellQuote(value) : value.shell;
}

/** The context of `service`'s launcher, with no lines yet. */
export function entrypointContextFor(
  service: EvaluatedService,
  options: EntrypointOptions,
): EntrypointContext {
  const diagnostics: Diagnostic[] = [];
  const at = (option: string) => `services.${service.name}.${option}`;
  const report: EntrypointContext["report"] = (severity, option, message) =>
    diagnostics.push(
      diagnostic(
        { definitionFiles: options.definitionFiles ?? {} },
        { severity, option: at(option), service: service.name, message },
      ),
    );
  const w = (value: string, option: string): string => {
    try {
      return shellWord(value, options.resolve);
    } catch (e) {
      if (!(e instanceof ShellQuoteError)) throw e;
      report(
        "error",
        option,
        `The value of \`${at(option)}\` contains a NUL byte, which sh cannot carry.`,
      );
      return "''";
    }
  };
  return {
    service,
    options,
    out: [],
    diagnostics,
    report,
    w,
    path: (hook, p, option) => (hook ? word(hook(p)) : w(p, option)),
  };
}
