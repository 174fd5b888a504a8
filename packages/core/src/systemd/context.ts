/**
 * What the aspect functions of the service → unit mapping read and write: the service, the
 * deployment, the caller's options, the sections built so far, and the diagnostics (made with
 * core's `diagnostic()`, so each names the file that defined its option).
 */
import type { Diagnostic } from "../contracts.js";
import type { EvaluatedDeployment, EvaluatedService, ServiceVolume } from "../deployment.js";
import { diagnostic } from "../helpers.js";
import { emptyRecord } from "../record.js";
import { hasRefs, parseRefs, type Ref } from "../refs.js";
import { shellQuote } from "../shell.js";
import {
  checkUnitLineLength,
  RAW_CLOSE,
  RAW_OPEN,
  rawUnitText,
  SystemdQuoteError,
  type SystemdRefResolver,
  splitRaw,
  type UnitSpecifierText,
  unitQuote,
} from "./quote.js";

/** Options of {@link systemdServiceOf}. Only `resolve` and `execStart` are required. */
export interface SystemdServiceOptions {
  /** Resolves references in env, args, scripts and paths for this target. */
  resolve: SystemdRefResolver;
  /**
   * The argv of the main program as the caller decided it (the program resolved to an
   * absolute path or a bare name; references may still be in it).
   */
  execStart: string[];
  /** Unit name of a service, for After=/Requires=/Wants=. Default `<deployment>-<svc>.service`. */
  unitName?: (service: string) => string;
  /** The shell for generated scripts, written as the first word of Exec lines. Default `/bin/sh`. */
  shell?: string;
  /** Run under a transient user (DynamicUser=yes) instead of `user`/`group`. Default false. */
  dynamicUser?: boolean;
  /** Directory of volume `name`: unit text or a literal path. Default: `%S/<deployment>/<svc>/<name>` for persistent volumes, `%t/<deployment>/<svc>/<name>` otherwise. */
  volumePath?: (name: string, volume: ServiceVolume) => string | UnitSpecifierText;
  /**
   * Where the file declared at `target` is written by ExecStartPre, or null when the caller
   * ships the files itself (then no ExecStartPre is generated for it). Default:
   * `%t/<deployment>/<svc>/files/<target>`.
   */
  filePath?: (target: string) => string | UnitSpecifierText | null;
  /** Where a `files.*.source` is copied from. Default: the path as given. */
  sourcePath?: (source: string) => string;
  /** Working directory: literal path, unit text, or null for none. Default: the service's `workingDir`. */
  workingDirectory?: string | UnitSpecifierText | null;
  /** Goes to `WantedBy=` in [Install]. Default none. */
  wantedBy?: string[];
  /** Goes to `PartOf=` in [Unit] (e.g. the deployment's target, so stopping it stops the service). */
  partOf?: string[];
  /** Unit-file lines of `EnvironmentFile=` (e.g. `-/etc/shop/api.env`), read by systemd at start. */
  environmentFiles?: string[];
  /**
   * Write `RestartSteps=`/`RestartMaxDelaySec=` for exponential backoff (systemd ≥ 254).
   * Default false: backoff factors are reported as a diagnostic instead.
   */
  restartSteps?: boolean;
  /**
   * Treat the service as one-shot (Type=oneshot, RemainAfterExit=yes). Default: true when
   * another service depends on it being `completed`.
   */
  oneshot?: boolean;
}

/**
 * One service as systemd sections. Every value is unit-file text to write after `Key=`
 * (specifiers escaped as `%%`; Exec lines quoted with {@link execLine}), in the order given;
 * `environment` values are unit text too but not yet quoted — print them with
 * {@link environmentLine} (or a printer that quotes the same way).
 */
export interface SystemdService {
  unit: Record<string, string[]>;
  service: Record<string, string[]>;
  install: Record<string, string[]>;
  environment: Record<string, string>;
  /** Credentials the unit loads (`LoadCredential=` names), for callers that ship secrets. */
  credentials: string[];
  /**
   * Exec lines of the generated sh wrappers (`<shell> -ec <script> <name> <args…>`, as they are
   * in `service`) → the argv systemd reads from each (what `parseExecLine` returns), for the
   * lines that hold no raw unit text (no specifier to expand). A caller that rewrites these lines
   * (render-nixos moves the script into a file) reads the words here rather than parsing the
   * quoting back.
   */
  execArgv: Map<string, readonly string[]>;
  diagnostics: Diagnostic[];
}

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A program name an Exec line holds as written (no quotes, escapes or specifiers to read). */
const PLAIN_PROGRAM = /^[A-Za-z0-9_@+:,./=-]+$/;

/** A unit section: values per key, keys in the order they were first written. */
export type UnitSection = Record<string, string[]>;

/** One service's view while its unit is built; the aspect functions add to `out`. */
export interface UnitContext {
  service: EvaluatedService;
  deployment: EvaluatedDeployment;
  opts: SystemdServiceOptions;
  /** The service's key in `services`. */
  svc: string;
  /** The deployment's name. */
  dep: string;
  unitName: (service: string) => string;
  /** The shell of generated scripts (first word of their Exec lines). */
  shell: string;
  /** Whether the service is Type=oneshot. */
  oneshot: boolean;
  /** The sections and diagnostics built so far. */
  out: SystemdService;
  /** `StateDirectory=` / `RuntimeDirectory=` entries collected by files and volumes. */
  stateDirs: string[];
  runtimeDirs: string[];
  /** sh lines that read the secrets into the environment, run before user code. */
  prelude: string[];
  /** Reports on `services.<svc>.<option>` (the service itself when `option` is empty). */
  warn: (option: string, message: string, severity?: Diagnostic["severity"]) => void;
}

/** The context of `service`, with empty sections. */
export function unitContextFor(
  service: EvaluatedService,
  deployment: EvaluatedDeployment,
  opts: SystemdServiceOptions,
  oneshot: boolean,
): UnitContext {
  const svc = service.name;
  const dep = deployment.name;
  const diagnostics: Diagnostic[] = [];
  const at = (option: string) => `services.${svc}${option ? `.${option}` : ""}`;
  return {
    service,
    deployment,
    opts,
    svc,
    dep,
    unitName: opts.unitName ?? ((s: string) => `${dep}-${s}.service`),
    shell: opts.shell ?? "/bin/sh",
    oneshot,
    out: {
      unit: emptyRecord(),
      service: emptyRecord(),
      install: emptyRecord(),
      environment: emptyRecord(),
      credentials: [],
      execArgv: new Map(),
      diagnostics,
    },
    stateDirs: [],
    runtimeDirs: [],
    prelude: [],
    warn: (option, message, severity = "warning") =>
      diagnostics.push(
        diagnostic(deployment, { option: at(option), service: svc, message, severity }),
      ),
  };
}

/** Appends `values` to `key` of a section. */
export function add(sec: UnitSection, key: string, ...values: string[]): void {
  const list = sec[key] ?? [];
  sec[key] = list;
  list.push(...values);
}

/** A resolved reference as text for later escaping: literal, or marked raw unit text. */
function refText(ctx: UnitContext, r: Ref): string {
  const v = ctx.opts.resolve(r);
  if (typeof v === "string") return v;
  try {
    return rawUnitText(v.unit);
  } catch (e) {
    if (!(e instanceof SystemdQuoteError)) throw e;
    ctx.warn("", `A reference resolved to unusable unit text: ${e.message}`, "error");
    return "";
  }
}

/** `value` with its references resolved (raw unit text marked, to be escaped later). */
export function resolved(ctx: UnitContext, value: string): string {
  // Most values hold no reference: no parts to map and join.
  if (!hasRefs(value)) return value;
  let out = "";
  for (const p of parseRefs(value)) out += typeof p === "string" ? p : refText(ctx, p);
  return out;
}

/** A value as a sh word, with raw unit text double-quoted in the shell. */
export function shWord(value: string): string {
  if (!value.includes(RAW_OPEN)) return value === "" ? "''" : shellQuote(value);
  const out: string[] = [];
  for (const p of splitRaw(value)) {
    if (p.raw) out.push(`"${RAW_OPEN}${p.text}${RAW_CLOSE}"`);
    else if (p.text !== "") out.push(shellQuote(p.text));
  }
  return out.length === 0 ? "''" : out.join("");
}

/** An argv as sh words, references resolved. */
export function shArgv(ctx: UnitContext, argv: readonly string[]): string {
  return argv.map((a) => shWord(resolved(ctx, a))).join(" ");
}

/** A literal path or unit text as text for later escaping. */
export function textOf(v: string | UnitSpecifierText): string {
  return typeof v === "string" ? v : rawUnitText(v.unit);
}

/** What `f` returns, or `fallback` with an error about `option` when a value cannot be quoted. */
export function safely<T>(ctx: UnitContext, option: string, f: () => T, fallback: T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof SystemdQuoteError)) throw e;
    ctx.warn(option, `${e.message} The setting is left out.`, "error");
    return fallback;
  }
}

/**
 * An Exec line running `script` in sh with `args` as "$@", or null (with an error) when it
 * cannot be written; user code (`secrets: true`) runs after the secrets prelude, generated
 * plumbing without it.
 */
export function shLine(
  ctx: UnitContext,
  option: string,
  script: string,
  { args, secrets = true }: { args?: readonly string[]; secrets?: boolean } = {},
): string | null {
  return safely(
    ctx,
    option,
    () => {
      // Loops rather than spreads and mapped arrays: this runs for every script of every
      // service, and V8 compiles those into much more code (and dropped it when shapes changed).
      let body = "";
      if (secrets) for (let i = 0; i < ctx.prelude.length; i++) body += `${ctx.prelude[i]}\n`;
      body += script;
      const argv = [ctx.shell, "-ec", body, `n2d-${ctx.svc}`];
      // No empty list by default: V8 had to drop this code when it met the other kind of array.
      if (args) for (let i = 0; i < args.length; i++) argv.push(args[i] as string);
      let line = ctx.shell;
      // The words are what systemd reads back, unless raw unit text (specifiers) is in them.
      let plain = PLAIN_PROGRAM.test(ctx.shell);
      for (let i = 1; i < argv.length; i++) {
        const w = argv[i] as string;
        line += ` ${unitQuote(w)}`;
        if (plain && w.includes(RAW_OPEN)) plain = false;
      }
      // Named as the longest key it may be written under, so the check holds for all.
      checkUnitLineLength("ExecStartPost", line);
      if (plain) ctx.out.execArgv.set(line, argv);
      return line;
    },
    null,
  );
}
