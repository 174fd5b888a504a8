/**
 * Turning host names and ports of other services inside strings into typed references
 * (`ref.db.host`, `ref.db.ports.pg`), where that is unambiguous.
 */
import { member, TsCode, type TsValue, templateText } from "./emit.js";

/** Ports of one service: container port → port name (`5432` → `pg`). */
export type PortNames = Map<string, string>;

/** What reference detection knows: every service's ports, and how to add an inferred one. */
export interface RefScope {
  /** Service name → its ports. */
  ports: Map<string, PortNames>;
  /** Adds a port the service did not declare but another service connects to; returns its name. */
  inferPort(service: string, port: number, because: string): string;
}

type Part = string | { code: string };

// A token that may be `host` or `host:port`, bounded by URL/list punctuation or the ends.
const HOST_TOKEN = /(^|[/@=,\s])([A-Za-z0-9][A-Za-z0-9_.-]*)(?::(\d{1,5}))?(?=$|[/?#,;\s])/g;

/**
 * `value` with references for other services: `svc:port` anywhere (a port the service does not
 * declare is added to it), `scheme://svc` and `user@svc` hosts, a whole value that is a
 * service's name when `key` names a host (`DB_HOST`), and `<SVC>_PORT` equal to one of that
 * service's ports. Returns the string unchanged when nothing matched, else a template literal.
 */
export function withRefs(value: string, key: string, self: string, scope: RefScope): TsValue {
  const parts: Part[] = [];
  const whole = wholeValueRef(value, key, self, scope);
  if (whole) return new TsCode(`\`\${${whole}}\``);
  let last = 0;
  for (const m of value.matchAll(HOST_TOKEN)) {
    const [, lead = "", host = "", port] = m;
    if (host === self || !scope.ports.has(host)) continue;
    const start = (m.index ?? 0) + lead.length;
    const before = value.slice(0, start);
    const urlHost = before.endsWith("//") || before.endsWith("@");
    if (port === undefined && !urlHost) continue;
    parts.push(value.slice(last, start), { code: `${member("ref", host)}.host` });
    if (port !== undefined) {
      const name = portName(host, port, `${self}'s ${key} connects to ${host}:${port}`, scope);
      parts.push(":", { code: `${member("ref", host)}.ports${dotted(name)}` });
    }
    last = start + host.length + (port === undefined ? 0 : port.length + 1);
  }
  if (parts.length === 0) return value;
  parts.push(value.slice(last));
  return template(parts);
}

function wholeValueRef(value: string, key: string, self: string, scope: RefScope): string | null {
  if (value !== self && scope.ports.has(value) && /HOST|SERVER|ADDR/i.test(key)) {
    return `${member("ref", value)}.host`;
  }
  const m = /^(.+)_PORT$/i.exec(key);
  if (!m || !/^\d+$/.test(value)) return null;
  const owner = [...scope.ports.keys()].find(
    (s) => s !== self && s.toUpperCase().replace(/[^A-Z0-9]/g, "_") === m[1]?.toUpperCase(),
  );
  const name = owner === undefined ? undefined : scope.ports.get(owner)?.get(value);
  return owner !== undefined && name !== undefined
    ? `${member("ref", owner)}.ports${dotted(name)}`
    : null;
}

function portName(host: string, port: string, because: string, scope: RefScope): string {
  return scope.ports.get(host)?.get(port) ?? scope.inferPort(host, Number(port), because);
}

function dotted(name: string): string {
  return member("", name);
}

function template(parts: Part[]): TsCode {
  let code = "`";
  for (const p of parts) code += typeof p === "string" ? templateText(p) : `\${${p.code}}`;
  return new TsCode(`${code}\``);
}
