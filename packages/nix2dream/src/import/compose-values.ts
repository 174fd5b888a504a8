/** Compose value syntaxes: durations, memory sizes, port specs, volume specs, command strings. */
import { isMapping, type Mapping } from "./compose-load.js";

/** Seconds of a Go duration (`1m30s`, `500ms`, `10s`) or a number of seconds; null when neither. */
export function goDurationSeconds(v: unknown): number | null {
  if (typeof v === "number") return v;
  const text = String(v).trim();
  if (!/^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/.test(text)) return null;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) {
    const n = Number(m[1]);
    const unit = m[2];
    total +=
      unit === "h"
        ? n * 3600
        : unit === "m"
          ? n * 60
          : unit === "s"
            ? n
            : unit === "ms"
              ? n / 1000
              : n / 1e6;
  }
  return total;
}

/** A duration as the config writes it: `"30s"`, `"1500ms"`. */
export function durationText(seconds: number): string {
  return Number.isInteger(seconds) ? `${seconds}s` : `${Math.round(seconds * 1000)}ms`;
}

/** Compose memory (`512m`, `1g`, `1024k`, `100b`, bytes) as a core quantity (`512Mi`); null when not one. */
export function memoryQuantity(v: unknown): string | number | null {
  if (typeof v === "number") return v;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg])?b?$/i.exec(String(v).trim());
  if (!m) return null;
  const unit = (m[2] ?? "b").toLowerCase();
  if (unit === "b") return Math.round(Number(m[1]));
  return `${m[1]}${unit === "k" ? "Ki" : unit === "m" ? "Mi" : "Gi"}`;
}

/** One published or exposed port. */
export interface PortSpec {
  target: number;
  published: number | null;
  hostIp: string | null;
  protocol: "tcp" | "udp";
}

/** A `ports:` entry (short or long syntax), ranges expanded; null when not understood. */
export function parsePort(v: unknown): PortSpec[] | null {
  if (isMapping(v)) {
    const target = Number(v.target);
    if (!Number.isInteger(target)) return null;
    const published = v.published === undefined ? null : Number(v.published);
    const protocol = v.protocol === "udp" ? "udp" : "tcp";
    return [{ target, published, hostIp: (v.host_ip as string) ?? null, protocol }];
  }
  const m =
    /^(?:(?:\[?([0-9a-fA-F.:]+?)\]?:)?(\d+(?:-\d+)?)?:)?(\d+(?:-\d+)?)(?:\/(tcp|udp))?$/.exec(
      String(v),
    );
  if (!m) return null;
  const targets = range(m[3] as string);
  const published = m[2] === undefined ? null : range(m[2]);
  if (!targets || (published && published.length !== targets.length)) return null;
  return targets.map((target, i) => ({
    target,
    published: published ? (published[i] as number) : null,
    hostIp: m[1] ?? null,
    protocol: m[4] === "udp" ? "udp" : "tcp",
  }));
}

function range(text: string): number[] | null {
  const [a, b = a] = text.split("-").map(Number) as [number, number?];
  if (b === undefined || b < a || b - a > 100) return null;
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/** One `volumes:` entry in long form. */
export interface MountSpec {
  type: "volume" | "bind" | "tmpfs" | string;
  source: string | null;
  target: string;
  readOnly: boolean;
  /** tmpfs size in bytes, when given. */
  size: number | null;
  /** Keys of the long syntax that are not carried (`volume.nocopy`, `bind.propagation`...). */
  extra: Mapping;
}

/** A `volumes:` entry in either syntax; named volumes are sources without a path prefix. */
export function parseMount(v: unknown): MountSpec | null {
  if (isMapping(v)) {
    const { type, source, target, read_only, tmpfs, ...extra } = v;
    if (typeof target !== "string") return null;
    const size = isMapping(tmpfs) && typeof tmpfs.size === "number" ? tmpfs.size : null;
    const rest = { ...extra };
    if (isMapping(tmpfs) && Object.keys(tmpfs).some((k) => k !== "size")) rest.tmpfs = tmpfs;
    return {
      type: String(type ?? "volume"),
      source: source === undefined || source === null ? null : String(source),
      target,
      readOnly: read_only === true,
      size,
      extra: rest,
    };
  }
  const parts = String(v).split(":");
  if (parts.length === 1) {
    return {
      type: "volume",
      source: null,
      target: parts[0] as string,
      readOnly: false,
      size: null,
      extra: {},
    };
  }
  const [source, target, mode = ""] = parts as [string, string, string?];
  const isPath = /^[./~]/.test(source);
  const modes = mode.split(",").filter(Boolean);
  const extra: Mapping = {};
  const unknownModes = modes.filter((m) => m !== "ro" && m !== "rw");
  if (unknownModes.length > 0) extra.mode = unknownModes.join(",");
  return {
    type: isPath ? "bind" : "volume",
    source,
    target,
    readOnly: modes.includes("ro"),
    size: null,
    extra,
  };
}

/** argv of a Compose `command`/`entrypoint`: a list as it is, a string split as a POSIX shell would (no expansion). */
export function commandArgv(v: unknown): string[] | null {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v !== "string") return null;
  return shellWords(v);
}

/** Splits `text` into words with POSIX quoting rules (quotes and backslashes; no expansion). */
export function shellWords(text: string): string[] | null {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return null;
      word = (word ?? "") + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let s = "";
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === "\\" && /["\\$`]/.test(text[j + 1] ?? "")) j++;
        s += text[j];
      }
      if (j >= text.length) return null;
      word = (word ?? "") + s;
      i = j;
    } else if (c === "\\" && i + 1 < text.length) {
      word = (word ?? "") + text[++i];
    } else word = (word ?? "") + c;
  }
  if (word !== null) words.push(word);
  return words;
}
