/**
 * Terminal output: colour (only on a TTY, never with NO_COLOR), warnings and errors.
 */
import type { Diagnostic } from "@nix2dream/core";
import type { FoldedDiagnostics } from "./fold.js";

/** Whether a stream may receive ANSI colour: a TTY, and `NO_COLOR` unset or empty. `FORCE_COLOR` forces it (NO_COLOR still wins). */
export function colorAllowed(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "" && env.FORCE_COLOR !== "0") {
    return true;
  }
  return (stream as NodeJS.WriteStream).isTTY === true && env.TERM !== "dumb";
}

/** ANSI styles that collapse to identity when colour is off. */
export interface Styles {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

/** Styles for a stream. */
export function styles(enabled: boolean): Styles {
  if (!enabled) {
    const id = (s: string) => s;
    return { bold: id, dim: id, red: id, yellow: id, green: id, cyan: id };
  }
  return {
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    yellow: sgr(33, 39),
    green: sgr(32, 39),
    cyan: sgr(36, 39),
  };
}

/** `warning: services.api.healthcheck: message (in file)` — or `error:` when `asError`. */
export function formatDiagnostic(
  d: Diagnostic,
  renderer: string,
  asError: boolean,
  s: Styles,
  shortenFile: (f: string) => string,
): string {
  const label = asError ? s.red(s.bold("error:")) : s.yellow(s.bold("warning:"));
  const where =
    d.files && d.files.length > 0 ? ` (defined in ${d.files.map(shortenFile).join(", ")})` : "";
  const option = d.option ? `${d.option}: ` : "";
  return `${label} ${option}${d.message}${where} ${s.dim(`[${renderer}]`)}`;
}

/** How many service names a folded diagnostic lists before `and N more`. */
const NAMES_SHOWN = 5;

/**
 * A folded diagnostic as one paragraph: the diagnostic with `<name>` where the service name
 * stood, then the services it is about (the first few, and how many more).
 */
export function formatFolded(
  f: FoldedDiagnostics,
  s: Styles,
  shortenFile: (f: string) => string,
): string {
  const label = f.isError ? s.red(s.bold("error:")) : s.yellow(s.bold("warning:"));
  const where = f.files.length > 0 ? ` (defined in ${filesList(f.files, shortenFile)})` : "";
  const first = `${label} services.<name>${f.optionRest}: ${f.messageParts.join("<name>")}${where} ${s.dim(`[${f.renderers.join(", ")}]`)}`;
  return `${first}\n  ${servicesLine(f.services, s)}`;
}

/** `for 900 services: svc0, … and 895 more (--all-warnings lists each)`, dimmed. */
function servicesLine(services: string[], s: Styles): string {
  const n = services.length;
  // "and 1 more" would take as much room as the name itself.
  const shown = n <= NAMES_SHOWN + 1 ? services : services.slice(0, NAMES_SHOWN);
  const more =
    n - shown.length > 0 ? ` and ${n - shown.length} more (--all-warnings lists each)` : "";
  return s.dim(`for ${n} services: ${shown.join(", ")}${more}`);
}

/**
 * Folded evaluation warnings as one paragraph: the warning with `<name>` where the service
 * name stood, then the services it is about. `label` is `warning:` (or `error:` under --strict).
 */
export function formatFoldedWarning(
  parts: string[],
  services: string[],
  label: string,
  s: Styles,
): string {
  return `${label} ${parts.join("<name>")}\n  ${servicesLine(services, s)}`;
}

/** The files of a fold, at most a few (they often differ per service). */
function filesList(files: string[], shortenFile: (f: string) => string): string {
  const shown = files.slice(0, NAMES_SHOWN).map(shortenFile);
  const rest = files.length - shown.length;
  if (rest === 0) return shown.join(", ");
  return `${shown.join(", ")} and ${rest} more ${rest === 1 ? "file" : "files"}`;
}
