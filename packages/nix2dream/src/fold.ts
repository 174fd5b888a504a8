/**
 * Folding of renderer diagnostics for the terminal: a large deployment gets the same warning
 * once per service (1000 services and 7 renderers print ~14 000 lines), so diagnostics that
 * differ only in the service name become one paragraph. Presentation only: the diagnostics
 * lists of the API and of `--json` stay complete.
 */
import type { Diagnostic } from "@nix2dream/core";

/** A diagnostic as the CLI reports it: which renderer said it, and whether it stops the render. */
export interface Reported {
  renderer: string;
  diagnostic: Diagnostic;
  isError: boolean;
}

/**
 * Diagnostics that differ only in the service they are about: `option` and the pieces of
 * `message` are what every member shares, split where the member's service name stood.
 */
export interface FoldedDiagnostics {
  /** The option path after `services.<name>` (`.healthcheck`; empty for the service itself). */
  optionRest: string;
  /** The message split where each member's service name stood (one piece: no name in it). */
  messageParts: string[];
  /** The renderers that reported it for exactly these services, in order of first report. */
  renderers: string[];
  /** The services, in order of first report. */
  services: string[];
  /** Every file named by a member, in order of first mention. */
  files: string[];
  isError: boolean;
}

/** One paragraph of output: a diagnostic as reported, or a fold of two or more. */
export type DiagnosticParagraph =
  | { kind: "single"; reported: Reported }
  | { kind: "folded"; folded: FoldedDiagnostics };

// Service names are letters, digits, `_`, `.` and `-` (core's name check); a name inside a
// message counts only where it is not part of a longer name (a `.` after it may end a sentence).
const isNameChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_-]/.test(c);

/**
 * `message` split at each whole-word occurrence of `name`; with `pathsOnly`, only where it is the
 * name in an option path (`services.<name>.…`): in a warning's prose a short name (`a`) may be
 * a word.
 */
function splitAtName(message: string, name: string, pathsOnly = false): string[] {
  const parts: string[] = [];
  let from = 0;
  let at = message.indexOf(name);
  while (at !== -1) {
    const before = message[at - 1];
    const after = message[at + name.length];
    const whole = pathsOnly
      ? message.endsWith("services.", at) && !isNameChar(after)
      : !isNameChar(before) &&
        before !== "." &&
        !isNameChar(after) &&
        !(after === "." && isNameChar(message[at + name.length + 1]));
    if (whole) {
      parts.push(message.slice(from, at));
      from = at + name.length;
    }
    at = message.indexOf(name, at + name.length);
  }
  parts.push(message.slice(from));
  return parts;
}

interface Shape {
  /** What places the diagnostic: severity and option path (short, so cheap to hash). */
  where: string;
  /** What it says: the message with the name taken out. */
  what: string;
  optionRest: string;
  messageParts: string[];
}

/** What a diagnostic says with its service name taken out; undefined when it names no service. */
function shapeOf(r: Reported): Shape | undefined {
  const { service, option, message } = r.diagnostic;
  const level = r.diagnostic.severity;
  if (service === undefined || service === "") return undefined;
  const prefix = `services.${service}`;
  if (option !== prefix && !option.startsWith(`${prefix}.`)) return undefined;
  const optionRest = option.slice(prefix.length);
  const messageParts = splitAtName(message, service);
  // NUL and SOH do not occur in option paths or messages meant for a terminal.
  const where = `${level}\u0000${r.isError}\u0000${optionRest}`;
  const what = messageParts.length === 1 ? message : messageParts.join("\u0001");
  return { where, what, optionRest, messageParts };
}

interface Group {
  shape: Shape;
  renderer: string;
  members: Reported[];
}

/**
 * The paragraphs to print for `reported`, in order of first appearance: diagnostics of one
 * renderer that differ only in their service's name fold into one paragraph, and folds of
 * several renderers over the same services merge (`[systemd, nixos]`). A diagnostic with no
 * look-alike is returned as it is.
 */
export function foldDiagnostics(reported: Reported[]): DiagnosticParagraph[] {
  const slots: Array<Reported | Group> = [];
  // Keyed by renderer and place first, then by message: one long key hashed per diagnostic.
  const groups = new Map<string, Map<string, Group>>();
  for (const r of reported) {
    const shape = shapeOf(r);
    if (!shape) {
      slots.push(r);
      continue;
    }
    const place = `${r.renderer}\u0000${shape.where}`;
    let byMessage = groups.get(place);
    if (!byMessage) {
      byMessage = new Map();
      groups.set(place, byMessage);
    }
    const group = byMessage.get(shape.what);
    if (group) group.members.push(r);
    else {
      const g: Group = { shape, renderer: r.renderer, members: [r] };
      byMessage.set(shape.what, g);
      slots.push(g);
    }
  }
  return paragraphsOf(slots);
}

/** Turns groups into paragraphs, merging folds that share a shape and their services. */
function paragraphsOf(slots: Array<Reported | Group>): DiagnosticParagraph[] {
  const out: DiagnosticParagraph[] = [];
  const merged = new Map<string, FoldedDiagnostics>();
  for (const slot of slots) {
    if (!("members" in slot)) {
      out.push({ kind: "single", reported: slot });
      continue;
    }
    const services = [...new Set(slot.members.map((m) => m.diagnostic.service as string))];
    if (services.length < 2) {
      for (const m of slot.members) out.push({ kind: "single", reported: m });
      continue;
    }
    const key = `${slot.shape.where}\u0000${slot.shape.what}\u0000${services.join("\u0000")}`;
    const files = [...new Set(slot.members.flatMap((m) => m.diagnostic.files ?? []))];
    const same = merged.get(key);
    if (same) {
      same.renderers.push(slot.renderer);
      for (const f of files) if (!same.files.includes(f)) same.files.push(f);
      continue;
    }
    const folded: FoldedDiagnostics = {
      optionRest: slot.shape.optionRest,
      messageParts: slot.shape.messageParts,
      renderers: [slot.renderer],
      services,
      files,
      isError: (slot.members[0] as Reported).isError,
    };
    merged.set(key, folded);
    out.push({ kind: "folded", folded });
  }
  return out;
}

/** An evaluation warning to print: as it is, or one text standing for several services. */
export type WarningParagraph =
  | { kind: "single"; text: string }
  | {
      kind: "folded";
      /** The warning split where each service's name stood. */
      parts: string[];
      /** The services, in order of first warning. */
      services: string[];
    };

/**
 * The service whose option the warning is about: the first `services.<name>` in it naming a
 * service of the deployment (names may hold dots: the longest that is one wins).
 */
function serviceNamed(warning: string, names: ReadonlySet<string>): string | undefined {
  for (
    let at = warning.indexOf("services.");
    at !== -1;
    at = warning.indexOf("services.", at + 1)
  ) {
    const start = at + "services.".length;
    let end = start;
    while (end < warning.length && /[A-Za-z0-9_.-]/.test(warning[end] as string)) end++;
    for (let stop = end; stop > start; stop = warning.lastIndexOf(".", stop - 1)) {
      const name = warning.slice(start, stop);
      if (names.has(name)) return name;
    }
  }
  return undefined;
}

/**
 * Evaluation warnings (plain strings) for the terminal: warnings that differ only in the name
 * of the service they are about fold into one, as renderer diagnostics do. `services` are the
 * deployment's service names. Order of first appearance; a warning with no look-alike stays.
 */
export function foldWarnings(warnings: string[], services: Iterable<string>): WarningParagraph[] {
  const names = new Set(services);
  type Group = { parts: string[]; services: string[]; first: string };
  const slots: Array<string | Group> = [];
  const groups = new Map<string, Group>();
  for (const text of warnings) {
    const name = names.size > 1 ? serviceNamed(text, names) : undefined;
    const parts = name === undefined ? [] : splitAtName(text, name, true);
    if (name === undefined || parts.length < 2) {
      slots.push(text);
      continue;
    }
    const key = parts.join("\u0001");
    const group = groups.get(key);
    if (group) group.services.push(name);
    else {
      const g: Group = { parts, services: [name], first: text };
      groups.set(key, g);
      slots.push(g);
    }
  }
  return slots.map((slot): WarningParagraph => {
    if (typeof slot === "string") return { kind: "single", text: slot };
    if (slot.services.length < 2) return { kind: "single", text: slot.first };
    return { kind: "folded", parts: slot.parts, services: slot.services };
  });
}
