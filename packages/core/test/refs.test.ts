import { serialize } from "node:v8";
import { describe, expect, it } from "vitest";
import {
  describeRef,
  evaluateDeployment,
  hasRefs,
  parseRefs,
  type Ref,
  ref,
  resolvePort,
  resolveRefs,
  serviceRef,
} from "../src/index.js";

/** What a Procfile-like target would do: everything on this machine. */
function localResolve(deployment: ReturnType<typeof evaluateDeployment>["deployment"]) {
  return (r: Ref): string => {
    const target = deployment.services[r.service];
    if (!target) throw new Error(`unresolved ${describeRef(r)}`);
    switch (r.kind) {
      case "host":
        return "127.0.0.1";
      case "port":
        return String(resolvePort(target, r.port).port);
      case "address":
        return `127.0.0.1:${resolvePort(target, r.port).port}`;
      case "volume":
        return target.volumes[r.volume]?.path ?? "";
      default:
        throw new Error(`this test resolves no ${describeRef(r)}`);
    }
  };
}

describe("references", () => {
  it("survive evaluation and resolve per target", () => {
    const { deployment } = evaluateDeployment({
      name: "shop",
      services: {
        db: { ports: { pg: 5432 }, volumes: { data: { path: "/var/lib/pg" } } },
        api: {
          env: {
            DATABASE_URL: `postgres://${ref.db?.host}:${ref.db?.ports.pg}/app`,
            DB_ADDR: `${ref.db?.address.pg}`,
          },
          args: ["--data", `${ref.db?.volumes.data}/dump`],
          files: { "/etc/api.conf": `db = ${serviceRef("db").addressOf("pg")}\n` },
        },
      },
    });
    const api = deployment.services.api;
    if (!api) throw new Error("no api");
    expect(hasRefs(api.env.DATABASE_URL ?? "")).toBe(true);
    const local = localResolve(deployment);
    expect(resolveRefs(api.env.DATABASE_URL ?? "", local)).toBe("postgres://127.0.0.1:5432/app");
    expect(resolveRefs(api.env.DB_ADDR ?? "", local)).toBe("127.0.0.1:5432");
    expect(resolveRefs(api.args[1] ?? "", local)).toBe("/var/lib/pg/dump");
    expect(resolveRefs(api.files["/etc/api.conf"]?.text ?? "", local)).toBe(
      "db = 127.0.0.1:5432\n",
    );
    const compose = (r: Ref) =>
      r.kind === "host"
        ? r.service
        : r.kind === "port"
          ? String(deployment.services[r.service]?.ports[r.port]?.port)
          : "?";
    expect(resolveRefs(api.env.DATABASE_URL ?? "", compose)).toBe("postgres://db:5432/app");
  });

  it("parse into literal parts and references in order", () => {
    expect(parseRefs(`a${ref.db?.host}b${ref.db?.ports.pg}`)).toEqual([
      "a",
      { service: "db", kind: "host" },
      "b",
      { service: "db", kind: "port", port: "pg" },
    ]);
  });

  it("have readable names for messages", () => {
    const [r] = parseRefs(ref.api?.volumes.data ?? "") as Ref[];
    expect(describeRef(r as Ref)).toBe("ref.api.volumes.data");
  });

  it("leave strings without references untouched", () => {
    expect(hasRefs("plain $HOME `x`")).toBe(false);
    expect(resolveRefs("plain", () => "never")).toBe("plain");
  });

  it("resolve as their parsed parts, whatever marks surround them", () => {
    const db = serviceRef("db");
    const name = (r: Ref) => `<${describeRef(r)}>`;
    for (const value of [
      `a${db.host}b${db.port("pg")}${db.addressOf("pg")}c`,
      `\uE000${db.host}\uE001 \uE000x\uE001 \uE000nope:\uE001 \uE000`,
      `${db.host.slice(0, -1)}${db.file("/a:b")}`,
      db.volume("data"),
    ]) {
      const parts = parseRefs(value).map((p) => (typeof p === "string" ? p : name(p)));
      expect(resolveRefs(value, name)).toBe(parts.join(""));
    }
  });

  it("resolve to one-byte strings when the text allows", () => {
    // v8.serialize tags a one-byte string `"`; text around a token was a slice of a two-byte
    // string, and so was every document it was written into.
    const oneByte = (s: string) =>
      serialize(s).includes(Buffer.from(`"${String.fromCharCode(s.length)}${s}`, "latin1"));
    const db = serviceRef("db");
    const resolved = resolveRefs(`http://${db.address.pg}/é`, (r) => `${r.service}:5432`);
    expect(resolved).toBe("http://db:5432/é");
    expect(oneByte(resolved)).toBe(true);
    let path = "";
    resolveRefs(db.file("/etc/db.conf"), (r) => {
      path = r.kind === "file" ? r.path : "";
      return path;
    });
    expect(oneByte(path)).toBe(true);
  });

  it("parse into one-byte literal parts and names when the text allows", () => {
    const oneByte = (s: string) =>
      serialize(s).includes(Buffer.from(`"${String.fromCharCode(s.length)}${s}`, "latin1"));
    const db = serviceRef("db");
    const parts = parseRefs(`postgres://${db.address.pg}/a-database-name-longer-than-sixteen`);
    expect(parts).toHaveLength(3);
    const [before, r, after] = parts as [string, Ref, string];
    expect([before, after]).toEqual(["postgres://", "/a-database-name-longer-than-sixteen"]);
    expect(oneByte(before)).toBe(true);
    expect(oneByte(after)).toBe(true);
    expect(r.service).toBe("db");
    expect(oneByte(r.service)).toBe(true);
  });

  it("offer method forms that are plain strings under noUncheckedIndexedAccess", () => {
    const db = serviceRef("db");
    const port: string = db.port("pg");
    expect(port).toBe(ref.db?.ports.pg);
    expect(db.volume("data")).toBe(ref.db?.volumes.data);
  });
});
