/**
 * How one service maps onto a systemd service, as data, shared by every target that ends in a
 * systemd unit (plain unit files, NixOS `systemd.services`). Printers only lay the sections out;
 * every value here is already unit-file text (see {@link SystemdService}).
 *
 * Quoting follows systemd.service(5) "Command lines" and systemd.unit(5) "Specifiers":
 * specifiers are expanded on the raw line first (`%%` is a literal `%`), then Exec lines are
 * split into words with C-style escapes in and out of double quotes, then `$VAR` / `${VAR}` are
 * substituted in each word (`$$` is a literal `$`).
 */
import type { Diagnostic } from "./contracts.js";
import type { EvaluatedDeployment, EvaluatedService, ServiceVolume } from "./deployment.js";
import { diagnostic } from "./helpers.js";
import { parseRefs, type Ref } from "./refs.js";
import { shellQuote } from "./shell.js";

/**
 * Unit-file text a reference resolves to when a plain string cannot say it: inserted without
 * escaping, so it may use specifiers (`{ unit: "%S/shop/db/data" }`). It must hold no quote,
 * backslash, `$`, whitespace or control character.
 */
export interface UnitSpecifierText {
  unit: string;
}

/** Resolves a reference for a systemd target: a literal string (escaped for you) or {@link UnitSpecifierText}. */
export type SystemdRefResolver = (ref: Ref) => string | UnitSpecifierText;

/** Thrown for a value no unit file can carry (a NUL byte, an unusable program name). */
export class SystemdQuoteError extends Error {
  readonly code = "NIX2DREAM_SYSTEMD_QUOTE";
  constructor(message: string) {
    super(message);
    this.name = "SystemdQuoteError";
  }
}

// Raw unit text travels inside ordinary strings between two private-use characters, like
// reference tokens, so that shell scripts can be built first and quoted for the unit last.
const RAW_OPEN = "\uE002";
const RAW_CLOSE = "\uE003";
const RAW_RE = /\uE002([^\uE002\uE003]*)\uE003/g;
const RAW_SAFE = /^[A-Za-z0-9_@%+:,./=~-]*$/;

/** Marks unit-file text (specifiers allowed) inside a string that is escaped later. */
export function rawUnitText(text: string): string {
  if (!RAW_SAFE.test(text)) {
    throw new SystemdQuoteError(
      `Raw unit text ${JSON.stringify(text)} may only hold letters, digits and _@%+:,./=~-.`,
    );
  }
  return `${RAW_OPEN}${text}${RAW_CLOSE}`;
}

function splitRaw(value: string): Array<{ raw: boolean; text: string }> {
  const parts: Array<{ raw: boolean; text: string }> = [];
  let last = 0;
  for (const m of value.matchAll(RAW_RE)) {
    if (m.index > last) parts.push({ raw: false, text: value.slice(last, m.index) });
    parts.push({ raw: true, text: m[1] ?? "" });
    last = m.index + m[0].length;
  }
  if (last < value.length) parts.push({ raw: false, text: value.slice(last) });
  return parts;
}

function checkNul(value: string): void {
  if (value.includes("\0")) throw new SystemdQuoteError("A unit file cannot carry a NUL byte.");
}

/**
 * Escapes a value for a unit setting that expands specifiers but takes no quotes (Description,
 * WorkingDirectory, User, Environment values before the printer quotes them): `%` → `%%`.
 * Text marked with {@link rawUnitText} is kept as is.
 */
export function unitEscape(value: string): string {
  checkNul(value);
  return splitRaw(value)
    .map((p) => (p.raw ? p.text : p.text.replaceAll("%", "%%")))
    .join("");
}

/**
 * Why `value` cannot be the value of a unit setting that takes no quotes (Description=, User=,
 * Group=, …) and come back as written, or undefined when it can: systemd ends a line at a line
 * break, strips whitespace around a value, and joins a line ending in `\` with the next one.
 */
export function unitValueProblem(value: string): string | undefined {
  if (/[\r\n]/.test(value)) return "holds a line break, which would end the unit-file line";
  if (/^\s|\s$/.test(value)) return "starts or ends with whitespace, which systemd strips";
  if (value.endsWith("\\")) return "ends with a backslash, which would join the next line to it";
  return undefined;
}

/**
 * A value for a unit setting that takes no quotes, escaped as {@link unitEscape} does.
 * @throws SystemdQuoteError when systemd would not read it back as written (see
 * {@link unitValueProblem}) or it holds a NUL byte.
 */
export function unitPlainValue(value: string): string {
  const problem = unitValueProblem(value);
  if (problem) throw new SystemdQuoteError(`${JSON.stringify(value)} ${problem}.`);
  return unitEscape(value);
}

/** The longest line systemd reads from a unit file (LONG_LINE_MAX: 1 MiB, key and `=` included). */
export const MAX_UNIT_LINE_BYTES = 1024 * 1024;

/**
 * @throws SystemdQuoteError when `key=value` is longer than systemd reads from a unit file.
 */
export function checkUnitLineLength(key: string, value: string): void {
  const bytes = Buffer.byteLength(key) + 1 + Buffer.byteLength(value);
  if (bytes > MAX_UNIT_LINE_BYTES) {
    throw new SystemdQuoteError(
      `Its ${key}= line would be ${bytes} bytes; systemd reads at most ${MAX_UNIT_LINE_BYTES} (1 MiB) per unit-file line ("No buffer space available"). Put big contents into a file (\`files.<path>.source\`) or the package.`,
    );
  }
}

/** A word that needs no quotes in an Exec line, in any position but the first. */
const EXEC_SAFE = /^[A-Za-z0-9_@+:,./=-]+$/;

function cEscape(text: string, dollar: boolean): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (ch === "%") out += "%%";
    else if (ch === "$" && dollar) out += "$$";
    else out += ch;
  }
  return out;
}

/**
 * Quotes one argument of an Exec line (ExecStart=, ExecStartPre=, …) so that the program
 * receives exactly `value`: bare when it is made of safe characters, else in double quotes
 * with `\`, `"` and control characters C-escaped (newline as `\n`), `%` as `%%` and `$` as
 * `$$`. Text marked with {@link rawUnitText} is inserted unescaped.
 * @throws SystemdQuoteError for a NUL byte.
 */
export function unitQuote(value: string): string {
  checkNul(value);
  const parts = splitRaw(value);
  if (parts.length === 0) return '""';
  if (parts.every((p) => p.raw || EXEC_SAFE.test(p.text))) {
    return parts.map((p) => p.text).join("");
  }
  return `"${parts.map((p) => (p.raw ? p.text : cEscape(p.text, true))).join("")}"`;
}

/**
 * Quotes an argv as the value of an Exec line. The program (`argv[0]`) must be an absolute
 * path or a bare name systemd finds in its fixed search path; it must not start with one of
 * the prefix characters `@-:+!` nor hold quotes, backslashes or control characters (systemd
 * refuses them), and `$` stays as is in it (systemd substitutes variables in arguments only).
 * `prefix` (e.g. `"-"`, `"+"`) is written before the program.
 * @throws SystemdQuoteError for an empty argv, an unusable program name, or a NUL byte.
 */
export function execLine(argv: readonly string[], prefix = ""): string {
  const program = argv[0];
  if (program === undefined || program === "") {
    throw new SystemdQuoteError("An Exec line needs a program.");
  }
  checkNul(program);
  const plain = splitRaw(program)
    .map((p) => p.text)
    .join("");
  if (/^[@\-:+!]/.test(plain)) {
    throw new SystemdQuoteError(
      `The program ${JSON.stringify(plain)} starts with ${JSON.stringify(plain[0])}, which systemd reads as an Exec prefix; use its absolute path.`,
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/["'\\\x00-\x1f\x7f]/.test(plain)) {
    throw new SystemdQuoteError(
      `The program ${JSON.stringify(plain)} holds a quote, a backslash or a control character, which systemd refuses in an executable name.`,
    );
  }
  if (!plain.startsWith("/") && plain.includes("/")) {
    throw new SystemdQuoteError(
      `The program ${JSON.stringify(plain)} is a relative path; systemd needs an absolute path or a bare name found in its search path.`,
    );
  }
  const parts = splitRaw(program);
  const first = parts.every((p) => p.raw || EXEC_SAFE.test(p.text))
    ? parts.map((p) => p.text).join("")
    : `"${parts.map((p) => (p.raw ? p.text : cEscape(p.text, false))).join("")}"`;
  return `${prefix}${[first, ...argv.slice(1).map(unitQuote)].join(" ")}`;
}

/**
 * Quotes an `Environment=` assignment: `"KEY=value"` with `\`, `"` and control characters
 * C-escaped. `value` is unit text as in {@link SystemdService.environment} (its `%` already
 * escaped); `$` stays literal because Environment= does not substitute variables.
 */
export function environmentLine(key: string, value: string): string {
  checkNul(value);
  let out = "";
  for (const ch of `${key}=${value}`) {
    const c = ch.codePointAt(0) as number;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `"${out}"`;
}

/**
 * Splits an Exec line back into argv as systemd does (specifiers `%%` only, quotes, C escapes,
 * `$$` in arguments after the program); for tests and tools. Other specifiers and `$VAR` substitutions are left as written.
 * @throws SystemdQuoteError on an unterminated quote or a bad escape.
 */
export function parseExecLine(line: string): string[] {
  const s = line.replace(/%%/g, "%");
  const argv: string[] = [];
  let i = 0;
  const hex = (n: number) => {
    const h = s.slice(i, i + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) {
      throw new SystemdQuoteError(`Bad escape at ${i} in ${JSON.stringify(line)}.`);
    }
    i += n;
    return String.fromCodePoint(Number.parseInt(h, 16));
  };
  const escapedChar = (): string => {
    const e = s[i++];
    switch (e) {
      case "a":
        return "\x07";
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case "v":
        return "\v";
      case "\\":
      case '"':
      case "'":
      case " ":
        return e;
      case "s":
        return " ";
      case "x":
        return hex(2);
      case "u":
        return hex(4);
      case "U":
        return hex(8);
      default:
        throw new SystemdQuoteError(`Bad escape \\${e ?? ""} in ${JSON.stringify(line)}.`);
    }
  };
  while (i < s.length) {
    while (i < s.length && /[ \t\n]/.test(s[i] as string)) i++;
    if (i >= s.length) break;
    let word = "";
    let quote: string | null = null;
    for (; i < s.length; ) {
      const ch = s[i] as string;
      if (quote === null && /[ \t\n]/.test(ch)) break;
      i++;
      if (ch === "\\") word += escapedChar();
      else if (quote !== null && ch === quote) quote = null;
      else if (quote === null && (ch === '"' || ch === "'")) quote = ch;
      else word += ch;
    }
    if (quote !== null)
      throw new SystemdQuoteError(`Unterminated quote in ${JSON.stringify(line)}.`);
    argv.push(argv.length === 0 ? word : word.replace(/\$\$/g, "$"));
  }
  return argv;
}

/** A duration in seconds as a systemd time span: `5s`, `500ms`, `infinity`. */
export function systemdTimespan(seconds: number): string {
  if (!Number.isFinite(seconds)) return "infinity";
  if (Number.isInteger(seconds)) return `${seconds}s`;
  return `${Math.round(seconds * 1000)}ms`;
}

const BINARY_SUFFIX: Record<string, string> = { Ki: "K", Mi: "M", Gi: "G", Ti: "T", Pi: "P" };
const DECIMAL_FACTOR: Record<string, number> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
};

/** A Kubernetes-style memory quantity (`512Mi`, `1G`, `1000`) as a MemoryMax= value, or null. */
export function systemdMemory(quantity: string): string | null {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P|)$/.exec(quantity.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const suffix = m[2] ?? "";
  const binary = BINARY_SUFFIX[suffix];
  if (binary && Number.isInteger(n)) return `${n}${binary}`;
  const factor = binary
    ? 1024 ** (Object.keys(BINARY_SUFFIX).indexOf(suffix) + 1)
    : DECIMAL_FACTOR[suffix];
  return String(Math.round(n * (factor ?? 1)));
}

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
  diagnostics: Diagnostic[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * What the systemd mapping asks of the whole deployment for each service, computed once per
 * deployment rather than by a scan per service (which made rendering quadratic).
 */
interface DeploymentIndex {
  /** Services some enabled service waits for to complete. */
  oneshot: Set<string>;
  /** Services whose `restart` (or an option under it) some file defines. */
  userRestart: Set<string>;
}

// Keyed by the deployment's `services` and `definitionFiles` objects: an evaluated deployment is
// read-only, and a caller that builds a new one gets a new index.
const oneshotIndex = new WeakMap<EvaluatedDeployment["services"], Set<string>>();
const restartIndex = new WeakMap<EvaluatedDeployment["definitionFiles"], Set<string>>();

function deploymentIndex(deployment: EvaluatedDeployment): DeploymentIndex {
  let oneshot = oneshotIndex.get(deployment.services);
  if (!oneshot) {
    oneshot = new Set();
    for (const s of Object.values(deployment.services)) {
      if (!s.enable) continue;
      for (const [name, condition] of Object.entries(s.dependsOn)) {
        if (condition === "completed") oneshot.add(name);
      }
    }
    oneshotIndex.set(deployment.services, oneshot);
  }
  let userRestart = restartIndex.get(deployment.definitionFiles);
  if (!userRestart) {
    userRestart = servicesDefiningRestart(Object.keys(deployment.definitionFiles));
    restartIndex.set(deployment.definitionFiles, userRestart);
  }
  return { oneshot, userRestart };
}

/**
 * Every `<svc>` such that an option `services.<svc>.restart` or `services.<svc>.restart.…` is
 * among `keys`. A service name may hold dots, so every `.restart` in a key is a candidate end.
 */
function servicesDefiningRestart(keys: readonly string[]): Set<string> {
  const out = new Set<string>();
  const prefix = "services.";
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    for (
      let i = key.indexOf(".restart", prefix.length);
      i >= 0;
      i = key.indexOf(".restart", i + 1)
    ) {
      const end = i + ".restart".length;
      if (end === key.length || key[end] === ".") out.add(key.slice(prefix.length, i));
    }
  }
  return out;
}

/** True when some enabled service waits for `name` to complete. */
export function isOneshotService(deployment: EvaluatedDeployment, name: string): boolean {
  return deploymentIndex(deployment).oneshot.has(name);
}

/** Seconds a healthcheck loop may take before it gives up: the start period, then retries. */
export function healthcheckBudget(h: NonNullable<EvaluatedService["healthcheck"]>): number {
  return Math.ceil(h.startPeriod + (h.retries + 1) * (h.interval + h.timeout)) + 10;
}

/**
 * Maps `service` onto a systemd service. Pure: returns sections and diagnostics for what systemd
 * cannot express. See the package README of `@nix2dream/render-systemd` for the mapping table.
 *
 * - dependsOn: `started` → Wants=+After=; `healthy` → Requires=+After= (the dependency only
 *   becomes active once its ExecStartPost health probe passes); `completed` → Requires=+After=
 *   on a Type=oneshot RemainAfterExit=yes dependency.
 * - healthcheck: an ExecStartPost= probe loop (exec: the command; http: curl, else wget; tcp:
 *   curl's connect time on a telnet:// URL, else nc -z) honouring interval, timeout, retries
 *   and startPeriod, with TimeoutStartSec= covering the whole loop.
 * - secrets: required `fromFile` → LoadCredential= and read from `$CREDENTIALS_DIRECTORY` by a
 *   `sh` wrapper; `fromEnv` → PassEnvironment=; optional files read by the wrapper. No secret
 *   value is ever in the unit.
 */
export function systemdServiceOf(
  service: EvaluatedService,
  deployment: EvaluatedDeployment,
  opts: SystemdServiceOptions,
): SystemdService {
  const svc = service.name;
  const dep = deployment.name;
  const diagnostics: Diagnostic[] = [];
  const at = (option: string) => `services.${svc}${option ? `.${option}` : ""}`;
  const warn = (option: string, message: string, severity: Diagnostic["severity"] = "warning") =>
    diagnostics.push(
      diagnostic(deployment, { option: at(option), service: svc, message, severity }),
    );
  const unitName = opts.unitName ?? ((s: string) => `${dep}-${s}.service`);
  const shell = opts.shell ?? "/bin/sh";
  const unit: Record<string, string[]> = {};
  const serviceSec: Record<string, string[]> = {};
  const install: Record<string, string[]> = {};
  const environment: Record<string, string> = {};
  const credentials: string[] = [];
  const add = (sec: Record<string, string[]>, key: string, ...values: string[]) => {
    const list = sec[key] ?? [];
    sec[key] = list;
    list.push(...values);
  };

  /** A resolved reference as text for later escaping: literal, or marked raw unit text. */
  const refText = (r: Ref): string => {
    const v = opts.resolve(r);
    if (typeof v === "string") return v;
    try {
      return rawUnitText(v.unit);
    } catch (e) {
      if (!(e instanceof SystemdQuoteError)) throw e;
      warn("", `A reference resolved to unusable unit text: ${e.message}`, "error");
      return "";
    }
  };
  const resolved = (value: string): string =>
    parseRefs(value)
      .map((p) => (typeof p === "string" ? p : refText(p)))
      .join("");
  /** A value as a sh word, with raw unit text double-quoted in the shell. */
  const shWord = (value: string): string => {
    const out: string[] = [];
    for (const p of splitRaw(value)) {
      if (p.raw) out.push(`"${RAW_OPEN}${p.text}${RAW_CLOSE}"`);
      else if (p.text !== "") out.push(shellQuote(p.text));
    }
    return out.length === 0 ? "''" : out.join("");
  };
  const shArgv = (argv: readonly string[]) => argv.map((a) => shWord(resolved(a))).join(" ");
  const textOf = (v: string | UnitSpecifierText) =>
    typeof v === "string" ? v : rawUnitText(v.unit);
  const safely = <T>(option: string, f: () => T, fallback: T): T => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof SystemdQuoteError)) throw e;
      warn(option, `${e.message} The setting is left out.`, "error");
      return fallback;
    }
  };

  // [Unit]
  // Description= takes no quotes: line breaks fold into spaces, and the whitespace and trailing
  // backslashes systemd would strip or read as a line continuation are dropped (it is only
  // shown to people, so no diagnostic).
  const description = (service.description || `${svc} of ${dep}`)
    .replace(/\s*[\r\n]+\s*/g, " ")
    .trim()
    .replace(/\s*\\+$/, "");
  add(
    unit,
    "Description",
    safely("description", () => unitEscape(description), svc),
  );
  for (const name of Object.keys(service.dependsOn).sort()) {
    const condition = service.dependsOn[name];
    const target = deployment.services[name];
    if (!target?.enable) {
      warn(
        `dependsOn.${name}`,
        `Service ${name} is not in the deployment; the dependency is left out.`,
      );
      continue;
    }
    const other = unitName(name);
    if (condition === "started") add(unit, "Wants", other);
    else {
      if (condition === "healthy" && target.healthcheck === null) {
        warn(
          `dependsOn.${name}`,
          `Service ${name} has no healthcheck, so waiting for it to be healthy only waits until it started.`,
        );
      }
      add(unit, "Requires", other);
    }
    add(unit, "After", other);
  }
  if (opts.partOf?.length) add(unit, "PartOf", ...opts.partOf);

  // Type and restart
  const oneshot = opts.oneshot ?? isOneshotService(deployment, svc);
  if (oneshot) {
    add(serviceSec, "Type", "oneshot");
    add(serviceSec, "RemainAfterExit", "yes");
  } else {
    add(serviceSec, "Type", "exec");
  }
  const r = service.restart;
  if (oneshot && r.policy === "always") {
    warn(
      "restart.policy",
      "A one-shot service cannot be restarted `always` under systemd; using `on-failure`.",
    );
  }
  add(serviceSec, "Restart", r.policy === "no" ? "no" : oneshot ? "on-failure" : r.policy);
  if (r.policy !== "no") {
    add(serviceSec, "RestartSec", systemdTimespan(r.backoff.initial));
    // The default backoff is not worth a warning on every service; one the user set is.
    const userBackoff = deploymentIndex(deployment).userRestart.has(svc);
    if (
      r.backoff.factor !== 1 &&
      r.backoff.max > r.backoff.initial &&
      (userBackoff || opts.restartSteps)
    ) {
      if (opts.restartSteps) {
        const steps = Math.max(
          1,
          Math.ceil(Math.log(r.backoff.max / r.backoff.initial) / Math.log(r.backoff.factor)),
        );
        add(serviceSec, "RestartSteps", String(steps));
        add(serviceSec, "RestartMaxDelaySec", systemdTimespan(r.backoff.max));
      } else {
        warn(
          "restart.backoff",
          `systemd before 254 has no exponential backoff: restarts wait a fixed ${systemdTimespan(r.backoff.initial)} (factor ${r.backoff.factor} and max ${r.backoff.max}s are not expressed).`,
        );
      }
    }
    if (r.maxRetries === null) {
      add(unit, "StartLimitIntervalSec", "0");
    } else {
      // systemd limits starts within a window, not failures in a row: the window holds
      // maxRetries + 1 quick failures (each shorter than the 10 s stable run, plus the longest
      // backoff); a longer stable run lets it pass. render-systemd's README says the difference.
      const window = (r.maxRetries + 1) * 10 + r.maxRetries * r.backoff.max;
      add(unit, "StartLimitIntervalSec", systemdTimespan(window));
      add(unit, "StartLimitBurst", String(r.maxRetries + 1));
    }
  }

  // Stop
  add(
    serviceSec,
    "KillSignal",
    /^SIG[A-Z0-9+-]+$/.test(service.stop.signal)
      ? service.stop.signal
      : `SIG${service.stop.signal}`,
  );
  add(serviceSec, "TimeoutStopSec", systemdTimespan(service.stop.gracePeriod));

  // Resources
  if (service.resources.memory !== null) {
    const mem = systemdMemory(service.resources.memory);
    if (mem === null)
      warn(
        "resources.memory",
        `\`${service.resources.memory}\` is not a memory quantity systemd understands; MemoryMax= is left out.`,
      );
    else add(serviceSec, "MemoryMax", mem);
  }
  if (service.resources.cpu !== null) {
    add(serviceSec, "CPUQuota", `${Math.round(service.resources.cpu * 100)}%`);
  }
  if (service.replicas !== 1) {
    warn(
      "replicas",
      `A systemd service runs one instance; ${service.replicas} replicas are not expressed (use a template unit through the override).`,
    );
  }
  if (Object.keys(service.labels).length > 0) {
    warn("labels", "systemd units have no labels; `labels` are not expressed.");
  }

  // Identity and directories
  if (opts.dynamicUser) {
    add(serviceSec, "DynamicUser", "yes");
    if (service.user !== null || service.group !== null) {
      warn("user", "DynamicUser=yes picks a transient user; `user`/`group` are ignored.");
    }
  } else {
    // Left out (with an error) rather than written empty: an empty `User=` means root.
    for (const [key, option, value] of [
      ["User", "user", service.user],
      ["Group", "group", service.group],
    ] as const) {
      if (value === null) continue;
      const text = safely(option, () => unitPlainValue(value), null);
      if (text !== null) add(serviceSec, key, text);
    }
  }
  let workDir: string | null = null;
  if (opts.workingDirectory !== undefined) {
    workDir = opts.workingDirectory === null ? null : textOf(opts.workingDirectory);
  } else if (service.workingDir !== null) {
    workDir = resolved(service.workingDir);
  }
  if (workDir !== null) {
    const plain = splitRaw(workDir)
      .map((p) => p.text)
      .join("");
    if (!plain.startsWith("/") && !plain.startsWith("%") && !plain.startsWith("~")) {
      warn(
        "workingDir",
        `WorkingDirectory= must be an absolute path; \`${plain}\` is left out.`,
        "error",
      );
    } else if (/[\r\n]/.test(plain)) {
      warn("workingDir", "WorkingDirectory= cannot hold a newline; it is left out.", "error");
    } else if (/^\s|\s$|\\$/.test(plain)) {
      // systemd strips the whitespace around a value and joins a line ending in `\` with the
      // next one: the unit would change directory somewhere else, or lose its next setting.
      warn(
        "workingDir",
        `WorkingDirectory= cannot start or end with whitespace or end with a backslash (systemd would strip the one and join the next line on the other): \`${JSON.stringify(plain)}\` is left out.`,
        "error",
      );
    } else {
      add(
        serviceSec,
        "WorkingDirectory",
        safely("workingDir", () => unitEscape(workDir as string), ""),
      );
    }
  }
  const stateDirs: string[] = [];
  const runtimeDirs: string[] = [];
  const volumeDir = (name: string, v: ServiceVolume): string => {
    if (opts.volumePath) return textOf(opts.volumePath(name, v));
    const rel = `${dep}/${svc}/${name}`;
    (v.persistent ? stateDirs : runtimeDirs).push(rel);
    return rawUnitText(`${v.persistent ? "%S" : "%t"}/${rel}`);
  };

  // Environment
  for (const key of Object.keys(service.env)) {
    if (!ENV_NAME.test(key)) {
      warn(
        `env.${key}`,
        `\`${key}\` is not a valid environment variable name; it is not set.`,
        "error",
      );
      continue;
    }
    if (key in service.secrets) continue;
    const v = safely(
      `env.${key}`,
      () => {
        const value = unitEscape(resolved(service.env[key] ?? ""));
        checkUnitLineLength("Environment", environmentLine(key, value));
        return value;
      },
      null,
    );
    if (v !== null) environment[key] = v;
  }

  // Secrets: a wrapper reads them into the environment of every script and the program.
  const prelude: string[] = [];
  for (const key of Object.keys(service.secrets)) {
    const s = service.secrets[key];
    if (!s) continue;
    if (!ENV_NAME.test(key)) {
      warn(
        `secrets.${key}`,
        `\`${key}\` is not a valid environment variable name; the secret is not set.`,
        "error",
      );
      continue;
    }
    if (key in service.env)
      warn(`secrets.${key}`, `\`${key}\` is both in \`env\` and in \`secrets\`; the secret wins.`);
    const fromEnv = s.fromEnv ?? (s.fromFile === null ? key : null);
    if (fromEnv !== null && !ENV_NAME.test(fromEnv)) {
      warn(
        `secrets.${key}.fromEnv`,
        `\`${fromEnv}\` is not a valid environment variable name.`,
        "error",
      );
      continue;
    }
    const branches: string[] = [];
    if (fromEnv !== null) {
      add(serviceSec, "PassEnvironment", fromEnv);
      branches.push(`[ -n "\${${fromEnv}+x}" ]; then ${key}=$${fromEnv}`);
    }
    if (s.fromFile !== null) {
      const file = resolved(s.fromFile);
      const plain = splitRaw(file)
        .map((p) => p.text)
        .join("");
      if (s.required && plain.startsWith("/") && !/[\s:\\"'%$]/.test(plain)) {
        const cred = key;
        add(serviceSec, "LoadCredential", `${cred}:${unitEscape(file)}`);
        credentials.push(cred);
        branches.push(
          `[ -n "\${CREDENTIALS_DIRECTORY:-}" ] && [ -r "$CREDENTIALS_DIRECTORY"/${cred} ]; then ${key}=$(cat -- "$CREDENTIALS_DIRECTORY"/${cred})`,
        );
      } else {
        if (s.required) {
          warn(
            `secrets.${key}.fromFile`,
            "LoadCredential= needs an absolute path without spaces, quotes, `:` or `%`; the file is read by the service's wrapper instead.",
          );
        }
        const w = shWord(file);
        branches.push(`[ -r ${w} ]; then ${key}=$(cat -- ${w})`);
      }
    }
    branches.forEach((b, i) => {
      prelude.push(`${i === 0 ? "if" : "elif"} ${b}`);
    });
    prelude.push(
      s.required
        ? `else echo ${shellQuote(`nix2dream: service ${svc}: secret ${key} is missing`)} >&2; exit 1; fi; export ${key}`
        : `else unset ${key}; fi; if [ -n "\${${key}+x}" ]; then export ${key}; fi`,
    );
  }
  if (opts.environmentFiles?.length) add(serviceSec, "EnvironmentFile", ...opts.environmentFiles);

  /**
   * An Exec line running `script` in sh with `args` as "$@"; user code (`secrets: true`) runs
   * after the secrets prelude, generated plumbing without it.
   */
  const shLine = (
    option: string,
    script: string,
    { args = [], secrets = true }: { args?: readonly string[]; secrets?: boolean } = {},
  ): string | null =>
    safely(
      option,
      () => {
        const body = [...(secrets ? prelude : []), script].join("\n");
        const line = `${shell} ${["-ec", body, `n2d-${svc}`, ...args].map(unitQuote).join(" ")}`;
        // Named as the longest key it may be written under, so the check holds for all.
        checkUnitLineLength("ExecStartPost", line);
        return line;
      },
      null,
    );
  const pre: string[] = [];

  // Files, then volumes (init when empty, check every start), then preStart.
  for (const target of Object.keys(service.files)) {
    const f = service.files[target];
    if (!f) continue;
    const opt = `files.${JSON.stringify(target)}`;
    const dest = opts.filePath
      ? opts.filePath(target)
      : rawUnitText(`%t/${dep}/${svc}/files`) + (target.startsWith("/") ? target : `/${target}`);
    if (dest === null) continue;
    if (!opts.filePath) runtimeDirs.push(`${dep}/${svc}/files`);
    if ((f.text === null) === (f.source === null)) {
      warn(
        opt,
        "Exactly one of `text` and `source` must be set; the file is not written.",
        "error",
      );
      continue;
    }
    const mode = /^[0-7]{3,4}$/.test(f.mode) ? f.mode : "0644";
    if (mode !== f.mode)
      warn(
        `${opt}.mode`,
        `File mode \`${f.mode}\` is not an octal mode like "0644"; using 0644.`,
        "error",
      );
    const d = shWord(textOf(dest));
    const write =
      f.text !== null
        ? `printf '%s' ${shWord(resolved(f.text))} >"$f.n2d-tmp"`
        : `cp -- ${shWord(opts.sourcePath ? opts.sourcePath(f.source as string) : (f.source as string))} "$f.n2d-tmp"`;
    const line = shLine(
      opt,
      [
        `f=${d}`,
        'mkdir -p -- "$(dirname -- "$f")"',
        write,
        `chmod ${mode} "$f.n2d-tmp"`,
        'mv -f -- "$f.n2d-tmp" "$f"',
      ].join("\n"),
      { secrets: false },
    );
    if (line) pre.push(line);
  }
  for (const [name, v] of Object.entries(service.volumes)) {
    const d = shWord(volumeDir(name, v));
    const lines = [`d=${d}`, 'mkdir -p -- "$d"', 'cd -- "$d"'];
    if (v.init) {
      lines.push(
        'if [ -z "$(ls -A)" ]; then',
        `  if ! sh -ec ${shWord(resolved(v.init))}; then`,
        "    rm -rf -- ./* ./.[!.]* ./..?*",
        `    echo ${shellQuote(`nix2dream: service ${svc}: volume ${name}: init failed (emptied so the next start retries)`)} >&2; exit 1`,
        "  fi",
        "fi",
      );
    }
    if (v.check) lines.push(`sh -ec ${shWord(resolved(v.check))}`);
    if (v.size !== null)
      warn(`volumes.${name}.size`, "A directory cannot be sized; `size` is not expressed.");
    if (v.init || v.check || opts.volumePath) {
      const line = shLine(`volumes.${name}`, lines.join("\n"));
      if (line) pre.push(line);
    }
  }
  if (service.preStart) {
    const line = shLine("preStart", `eval ${shWord(resolved(service.preStart))}`);
    if (line) pre.push(line);
  }
  if (stateDirs.length)
    add(serviceSec, "StateDirectory", ...[...new Set(stateDirs)].map(unitEscape));
  if (runtimeDirs.length)
    add(serviceSec, "RuntimeDirectory", ...[...new Set(runtimeDirs)].map(unitEscape));
  if (pre.length) add(serviceSec, "ExecStartPre", ...pre);

  // ExecStart: direct when there is nothing to read at start, else through the sh wrapper.
  if (opts.execStart.length === 0) {
    warn("command", "The service has no `command`; systemd cannot start anything.", "error");
  } else {
    const argv = opts.execStart.map(resolved);
    const line =
      prelude.length === 0
        ? safely(
            "command",
            () => {
              const direct = execLine(argv);
              checkUnitLineLength("ExecStart", direct);
              return direct;
            },
            null,
          )
        : shLine("command", 'exec "$@"', { args: argv });
    if (line) add(serviceSec, "ExecStart", line);
  }

  // Healthcheck: ExecStartPost keeps the start job running until the probe passes.
  const h = service.healthcheck;
  if (h && oneshot) {
    warn("healthcheck", "A one-shot service is done when it exits; its healthcheck is not run.");
  } else if (h) {
    let probe: string | null = null;
    if (h.type === "exec") {
      probe = `timeout ${h.timeout} ${shArgv(h.command)}`;
    } else {
      const port = service.ports[h.port];
      if (!port) {
        warn(
          "healthcheck.port",
          `Service ${svc} has no port ${h.port}; the healthcheck is left out.`,
          "error",
        );
      } else if (h.type === "http") {
        const url = shellQuote(
          `${h.scheme}://127.0.0.1:${port.port}${h.path.startsWith("/") ? "" : "/"}${h.path}`,
        );
        probe = `if command -v curl >/dev/null 2>&1; then curl -fsS -k -o /dev/null --max-time ${h.timeout} ${url}; else timeout ${h.timeout} wget -q -O /dev/null ${url}; fi`;
      } else {
        probe = `if command -v curl >/dev/null 2>&1; then [ "$(curl -s -o /dev/null --max-time ${h.timeout} -w '%{time_connect}' telnet://127.0.0.1:${port.port} </dev/null)" != 0.000000 ]; else nc -z -w ${h.timeout} 127.0.0.1 ${port.port} </dev/null; fi`;
      }
    }
    if (probe !== null) {
      const loop = [
        `start=$(date +%s); failures=0`,
        "while :; do",
        `  if ( ${probe} ) >/dev/null 2>&1; then exit 0; fi`,
        `  if [ $(( $(date +%s) - start )) -ge ${Math.ceil(h.startPeriod)} ]; then failures=$((failures + 1)); fi`,
        `  if [ "$failures" -ge ${h.retries} ]; then echo ${shellQuote(`nix2dream: service ${svc}: unhealthy after ${h.retries} failed probes`)} >&2; exit 1; fi`,
        `  sleep ${h.interval}`,
        "done",
      ].join("\n");
      const line = shLine("healthcheck", loop, { secrets: h.type === "exec" });
      if (line) {
        add(serviceSec, "ExecStartPost", line);
        add(serviceSec, "TimeoutStartSec", systemdTimespan(healthcheckBudget(h)));
      }
    }
  }

  if (opts.wantedBy?.length) add(install, "WantedBy", ...opts.wantedBy);
  return { unit, service: serviceSec, install, environment, credentials, diagnostics };
}
