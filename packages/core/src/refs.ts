/**
 * Cross-service references. `ref.db.host` and `ref.db.ports.pg` are ordinary strings that carry
 * a token, so template literals stay typed and readable:
 *
 *   env.DATABASE_URL = `postgres://${ref.db.host}:${ref.db.ports.pg}/app`
 *
 * Each renderer resolves the tokens for its target (`127.0.0.1:5432` under a Procfile,
 * `db:5432` in Compose, `db.<ns>.svc.cluster.local:5432` in Kubernetes).
 * Tokens are delimited by two Unicode private-use characters that never occur in user text.
 */

import { oneByteText } from "./one-byte.js";

const OPEN = "\uE000";
const CLOSE = "\uE001";
const TOKEN_RE = /\uE000([^\uE000\uE001]*)\uE001/g;

/** What a token points at. */
export type Ref =
  | { service: string; kind: "host" }
  | { service: string; kind: "port"; port: string }
  | { service: string; kind: "address"; port: string }
  | { service: string; kind: "volume"; volume: string }
  | { service: string; kind: "file"; path: string };

/**
 * The references of one service. The type parameters are the names it can be referred by:
 * `Ports` (port names), `Volumes` (volume names) and `Files` (file paths). They default to any
 * string (the untyped `ref`); the typed form (`defineDeployment(definition, ({ ref }) => …)` in
 * `nix2dream`) narrows them to what the service declares, so a misspelt name fails `tsc`.
 */
export interface ServiceRef<
  Ports extends string = string,
  Volumes extends string = string,
  Files extends string = string,
> {
  /** Host name (or address) other services reach this service at. */
  readonly host: string;
  /** Port numbers as other services reach them, by port name. */
  readonly ports: Readonly<Record<Ports, string>>;
  /** `host:port` by port name. */
  readonly address: Readonly<Record<Ports, string>>;
  /** Path where the volume is mounted for this service, by volume name. */
  readonly volumes: Readonly<Record<Volumes, string>>;
  /**
   * Path where the program finds one of its `files`, by the file's declared path: the path
   * itself in a container, relocated under the state directory on local targets.
   */
  readonly files: Readonly<Record<Files, string>>;
  /**
   * `port(name)` is `ports[name]` as a plain `string` (not `string | undefined` under
   * `noUncheckedIndexedAccess`); likewise `addressOf`, `volume` and `file`.
   */
  port(name: Ports): string;
  addressOf(name: Ports): string;
  volume(name: Volumes): string;
  file(path: Files): string;
}

/**
 * The names a service definition declares under `key` (`ports`, `volumes`, `files`), when it
 * writes them as an object literal; any string otherwise (a service module function, a value
 * wrapped in `mkIf`/`mkMerge`, a record typed `Record<string, …>`, or no such key: a module may
 * still declare them).
 */
export type DeclaredNames<Service, Key extends string> = Service extends {
  readonly [K in Key]?: infer Names;
}
  ? Names extends { readonly _type: string }
    ? string
    : Names extends object
      ? string extends keyof Names
        ? string
        : [keyof Names] extends [never]
          ? string
          : keyof Names & string
      : string
  : string;

/**
 * Typed references to the services of a definition: `ServiceRefs<typeof services>` has one
 * {@link ServiceRef} per service name, narrowed to the ports, volumes and files each declares
 * (see {@link DeclaredNames}). At run time it is {@link ref}.
 */
export type ServiceRefs<Services> = {
  readonly [Name in keyof Services & string]: ServiceRef<
    DeclaredNames<Services[Name], "ports">,
    DeclaredNames<Services[Name], "volumes">,
    DeclaredNames<Services[Name], "files">
  >;
};

function argOf(r: Ref): string | undefined {
  switch (r.kind) {
    case "host":
      return undefined;
    case "port":
    case "address":
      return r.port;
    case "volume":
      return r.volume;
    case "file":
      return r.path;
  }
}

function encode(r: Ref): string {
  const arg = argOf(r);
  return `${OPEN}${r.kind}:${r.service}${arg === undefined ? "" : `:${arg}`}${CLOSE}`;
}

function decode(body: string): Ref | undefined {
  // Service names hold no colon; a file path may, so only the first two colons split.
  const first = body.indexOf(":");
  if (first < 0) return undefined;
  const kind = body.slice(0, first);
  const second = body.indexOf(":", first + 1);
  // Names go into rendered text: stored one byte a character, as the token itself is not.
  const service = oneByteText(body.slice(first + 1, second < 0 ? undefined : second));
  const arg = second < 0 ? undefined : oneByteText(body.slice(second + 1));
  if (!service) return undefined;
  switch (kind) {
    case "host":
      return { service, kind };
    case "port":
    case "address":
      return arg ? { service, kind, port: arg } : undefined;
    case "volume":
      return arg ? { service, kind, volume: arg } : undefined;
    case "file":
      return arg ? { service, kind, path: arg } : undefined;
    default:
      return undefined;
  }
}

function keyed(make: (key: string) => string): Readonly<Record<string, string>> {
  return new Proxy({} as Record<string, string>, {
    get: (_t, key) => (typeof key === "string" ? make(key) : undefined),
  });
}

/** A reference to one service by name. */
export function serviceRef(service: string): ServiceRef {
  return {
    host: encode({ service, kind: "host" }),
    ports: keyed((port) => encode({ service, kind: "port", port })),
    address: keyed((port) => encode({ service, kind: "address", port })),
    volumes: keyed((volume) => encode({ service, kind: "volume", volume })),
    port: (port) => encode({ service, kind: "port", port }),
    addressOf: (port) => encode({ service, kind: "address", port }),
    volume: (volume) => encode({ service, kind: "volume", volume }),
    files: keyed((path) => encode({ service, kind: "file", path })),
    file: (path) => encode({ service, kind: "file", path }),
  };
}

/**
 * References to every service: `ref.db.host`, `ref.db.ports.pg`, `ref.db.address.pg`,
 * `ref.api.volumes.data`, `ref.api.files["/etc/api.json"]`. Checked at evaluation: a reference to a missing service or port is an
 * error naming both ends. Its service names are any string, so with `noUncheckedIndexedAccess`
 * TypeScript types `ref.db` as possibly undefined: use the typed form of `defineDeployment`
 * (`nix2dream`), whose `ref` knows the services and their ports, or `serviceRef("db").port("pg")`.
 */
export const ref: Readonly<Record<string, ServiceRef>> = new Proxy(
  {} as Record<string, ServiceRef>,
  { get: (_t, key) => (typeof key === "string" ? serviceRef(key) : undefined) },
);

/** Splits a string into literal parts and references, in order. */
export function parseRefs(value: string): Array<string | Ref> {
  // Most strings hold no token: skip the regex (this runs on every string a renderer writes).
  if (!value.includes(OPEN)) return value === "" ? [] : [value];
  const parts: Array<string | Ref> = [];
  let last = 0;
  // `exec` on the one expression, not `matchAll`, which copies the expression on every call.
  const re = TOKEN_RE;
  re.lastIndex = 0;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    const r = decode(m[1] ?? "");
    if (!r) continue;
    if (m.index > last) parts.push(oneByteText(value.slice(last, m.index)));
    parts.push(r);
    last = m.index + m[0].length;
  }
  // The literal parts stored one byte a character (see oneByteText), as `value` is not.
  if (last < value.length) parts.push(oneByteText(value.slice(last)));
  return parts;
}

/** True when the string holds at least one reference. */
export function hasRefs(value: string): boolean {
  return value.includes(OPEN);
}

/**
 * Replaces every reference with what `resolve` returns for it. Finds the tokens {@link TOKEN_RE}
 * matches by `indexOf`: a regex iterator per string costs more, and runs slowly until V8 has
 * compiled it (a first render calls this for every value of thousands of services).
 */
export function resolveRefs(value: string, resolve: (r: Ref) => string): string {
  if (!hasRefs(value)) return value;
  let out = "";
  let last = 0;
  let literal = false;
  let close = -1;
  for (let open = value.indexOf(OPEN); open >= 0; ) {
    if (close < open) close = value.indexOf(CLOSE, open + 1);
    if (close < 0) break;
    // A token's body holds no opening mark: a later one starts the next candidate.
    const reopen = value.indexOf(OPEN, open + 1);
    if (reopen >= 0 && reopen < close) {
      open = reopen;
      continue;
    }
    const r = decode(value.slice(open + 1, close));
    if (r) {
      if (open > last) {
        out += value.slice(last, open);
        literal = true;
      }
      out += resolve(r);
      last = close + 1;
    }
    open = value.indexOf(OPEN, close + 1);
  }
  if (last === 0) return value;
  if (last === value.length && !literal) return out;
  // Text around a token is a slice of `value`, which the token's marks make a two-byte string in
  // V8: so would be the result, and every document it is written into (see oneByteText).
  return oneByteText(out + value.slice(last));
}

/** Human-readable form of a reference for messages: `ref.db.ports.pg`. */
export function describeRef(r: Ref): string {
  switch (r.kind) {
    case "host":
      return `ref.${r.service}.host`;
    case "port":
      return `ref.${r.service}.ports.${r.port}`;
    case "address":
      return `ref.${r.service}.address.${r.port}`;
    case "volume":
      return `ref.${r.service}.volumes.${r.volume}`;
    case "file":
      return `ref.${r.service}.files[${JSON.stringify(r.path)}]`;
  }
}

// A token left in generated text, raw or as the `\uE000…\uE001` escape that YAML and JSON
// writers produce for private-use characters.
const LEFTOVER_RE = /(?:\uE000|\\u[eE]000)([^\uE000\uE001\\\n]*?)(?:\uE001|\\u[eE]001)/g;

/**
 * References left unresolved in generated text, raw or escaped (`\uE000host:db\uE001`), each
 * with the 1-based line it is on. A renderer's output must contain none: core turns each into
 * an error diagnostic (see `unresolvedRefDiagnostics`).
 */
export function unresolvedRefsIn(text: string): Array<{ ref: Ref; line: number }> {
  // Plain substring searches, not a regex: this runs over every artifact, some of them megabytes.
  if (!text.includes(OPEN) && !text.includes("\\ue000") && !text.includes("\\uE000")) return [];
  const found: Array<{ ref: Ref; line: number }> = [];
  for (const m of text.matchAll(LEFTOVER_RE)) {
    const r = decode(m[1] ?? "");
    if (!r) continue;
    const line = text.slice(0, m.index).split("\n").length;
    found.push({ ref: r, line });
  }
  return found;
}

/** The token of a reference, as `ref.*` produces it (for finding where it was defined). */
export function refToken(r: Ref): string {
  return encode(r);
}

/**
 * Every reference in a value (strings, arrays and objects walked deeply), in order of
 * appearance, duplicates kept. For renderers that must act on what a service refers to, e.g.
 * mount another service's volume where the reference needs it.
 */
export function refsIn(value: unknown): Ref[] {
  const found: Ref[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      if (!hasRefs(v)) return;
      for (const p of parseRefs(v)) if (typeof p !== "string") found.push(p);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x);
    } else if (v !== null && typeof v === "object") {
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(value);
  return found;
}
