import { describe, expect, it } from "vitest";
import {
  defineModule,
  evalModules,
  forceDeep,
  mkDefault,
  mkForce,
  mkIf,
  mkOption,
  types,
} from "../src/index.js";
import { cfg, err } from "./helpers.js";

const service = types.submodule(({ name }) => ({
  options: {
    port: mkOption({ type: types.port }),
    host: mkOption({ type: types.str, default: name as string }),
    url: mkOption({ type: types.str }),
    enable: mkOption({ type: types.bool, default: true }),
  },
}));
const services = {
  file: "services.ts",
  options: { services: mkOption({ type: types.attrsOf(service), default: {} }) },
};

describe("the lazy fixed point", () => {
  it("a default may read another option", () => {
    const r = cfg(
      ({ config }) => ({
        options: {
          a: mkOption({ type: types.int, default: 1 }),
          b: mkOption({
            type: types.int,
            get default() {
              return config.a + 1;
            },
          }),
        },
      }),
      { a: 5 },
    );
    expect(r.b).toBe(6);
  });
  it("a definition getter may read another option", () => {
    const r = cfg(
      { options: { a: mkOption({ type: types.int }), b: mkOption({ type: types.int }) } },
      { a: 2 },
      ({ config }) => ({
        config: {
          get b() {
            return config.a * 10;
          },
        },
      }),
    );
    expect(r.b).toBe(20);
  });
  it("a service reads another service's port", () => {
    const r = cfg(services, ({ config }) => ({
      config: {
        services: {
          db: { port: 5432, url: "local" },
          api: {
            port: 8080,
            get url() {
              return `postgres://${config.services.db.host}:${config.services.db.port}`;
            },
          },
        },
      },
    }));
    expect(r.services.api.url).toBe("postgres://db:5432");
  });
  it("definitions are order independent across modules", () => {
    // biome-ignore lint/suspicious/noExplicitAny: the test reads config paths its modules declare
    const reader = ({ config }: { config: any }) => ({
      config: {
        services: {
          api: {
            port: 1,
            get url() {
              return String(config.services.db.port);
            },
          },
        },
      },
    });
    const db = { services: { db: { port: 2, url: "x" } } };
    expect(cfg(services, reader, db).services.api.url).toBe("2");
    expect(cfg(services, db, reader).services.api.url).toBe("2");
  });
  it("reading config eagerly when a module is called works when the read does not depend on that module", () => {
    const r = cfg(
      { options: { a: mkOption({ type: types.int }), b: mkOption({ type: types.int }) } },
      { a: 4 },
      ({ config }) => ({ config: { b: config.a + 1 } }),
    );
    expect(r.b).toBe(5);
  });
  it("a submodule module may read its own options when called", () => {
    const t = types.submodule(({ config, name }) => ({
      options: {
        port: mkOption({ type: types.port, default: 80 }),
        url: mkOption({ type: types.str }),
      },
      config: { url: `http://${name}:${config.port}` },
    }));
    const r = cfg(
      { options: { s: mkOption({ type: types.attrsOf(t) }) } },
      { s: { web: { port: 8080 } } },
    );
    expect(r.s.web.url).toBe("http://web:8080");
  });
  it("reading config when called while defining what was read is an INFINITE_RECURSION error", () => {
    const e = err(() =>
      cfg({ options: { a: mkOption({ type: types.int, default: 1 }) } }, ({ config }) => ({
        config: { a: config.a + 1 },
      })),
    );
    expect(e.code).toBe("INFINITE_RECURSION");
    expect(e.message).toContain("`a`");
  });
  it("mkIf conditions may depend on config of other services", () => {
    const r = cfg(services, ({ config }) => ({
      config: {
        services: {
          db: { port: 1, url: "", enable: false },
          api: { port: 2, url: mkIf(() => config.services.db.enable, "with-db") },
        },
      },
    }));
    expect(() => r.services.api.url).toThrow(/used but not defined/);
  });
  it("attribute names of attrsOf may depend on config", () => {
    const r = cfg(
      {
        options: {
          names: mkOption({ type: types.listOf(types.str), default: ["a", "b"] }),
          m: mkOption({ type: types.attrsOf(types.int) }),
        },
      },
      ({ config }) => ({
        config: {
          get m() {
            return Object.fromEntries(config.names.map((n: string, i: number) => [n, i]));
          },
        },
      }),
    );
    expect(r.m).toEqual({ a: 0, b: 1 });
  });
  it("a true cycle names every option on it", () => {
    const e = err(
      () =>
        cfg(({ config }) => ({
          file: "cycle.ts",
          options: {
            a: mkOption({ type: types.int }),
            b: mkOption({ type: types.int }),
            c: mkOption({ type: types.int }),
          },
          config: {
            get a() {
              return config.b;
            },
            get b() {
              return config.c;
            },
            get c() {
              return config.a;
            },
          },
        })).a,
    );
    expect(e.code).toBe("INFINITE_RECURSION");
    expect(e.message).toContain("`a` → `b` → `c` → `a`");
    expect(e.files).toContain("cycle.ts");
  });
  it("a cycle across services names the service options", () => {
    const e = err(() =>
      forceDeep(
        cfg(services, ({ config }) => ({
          config: {
            services: {
              a: {
                url: "",
                get port() {
                  return config.services.b.port;
                },
              },
              b: {
                url: "",
                get port() {
                  return config.services.a.port;
                },
              },
            },
          },
        })),
      ),
    );
    expect(e.code).toBe("INFINITE_RECURSION");
    expect(e.message).toContain("services.a.port");
    expect(e.message).toContain("services.b.port");
  });
  it("a self-referential default is a cycle, not a stack overflow", () => {
    const e = err(
      () =>
        cfg(({ config }) => ({
          options: {
            a: mkOption({
              type: types.int,
              get default() {
                return config.a;
              },
            }),
          },
        })).a,
    );
    expect(e.code).toBe("INFINITE_RECURSION");
  });
  it("unbounded recursion through a plain function is reported, not a bare RangeError", () => {
    const f = (n: number): number => f(n + 1) + 1;
    const e = err(
      () =>
        cfg(
          { options: { a: mkOption({ type: types.int }) } },
          {
            get a() {
              return f(0);
            },
          },
        ).a,
    );
    expect(e.code).toBe("INFINITE_RECURSION");
  });
  it("a value is computed once", () => {
    let calls = 0;
    const r = cfg(
      { options: { a: mkOption({ type: types.int }) } },
      {
        get a() {
          calls++;
          return 1;
        },
      },
    );
    r.a;
    r.a;
    expect(calls).toBe(1);
  });
  it("an error thrown by a user getter names the option and file", () => {
    const e = err(
      () =>
        cfg(
          { options: { a: mkOption({ type: types.int }) } },
          {
            file: "boom.ts",
            get a(): number {
              throw new TypeError("Cannot read properties of undefined (reading 'port')");
            },
          },
        ).a,
    );
    expect(e.code).toBe("EVALUATION_ERROR");
    expect(e.message).toContain("`a`");
    expect(e.message).toContain("boom.ts");
    expect(e.message).toContain("reading 'port'");
  });
  it("apply transforms the value", () => {
    expect(
      cfg({
        options: { a: mkOption({ type: types.int, default: 2, apply: (x: number) => x * 2 }) },
      }).a,
    ).toBe(4);
  });
  it("options expose definitions with files", () => {
    const r = evalModules({
      modules: [
        { options: { a: mkOption({ type: types.listOf(types.int) }) } },
        { file: "one.ts", a: [1] },
        { file: "two.ts", a: mkDefault([2]) },
      ],
    });
    // Only the winning definitions' files, as NixOS (two.ts's mkDefault lost).
    expect(r.options.a.files).toEqual(["one.ts"]);
    expect(r.options.a.definitionsWithLocations).toEqual([
      { file: "one.ts", value: [1], priority: 100, order: 1000 },
    ]);
    expect(r.options.a.isDefined).toBe(true);
    expect(r.options.a.value).toEqual([1]);
  });
  it("options give plain definitions as resolving does, unless the default outranks them", () => {
    const a = (dflt: unknown) =>
      evalModules({
        modules: [
          {
            file: "decl.ts",
            options: { a: mkOption({ type: types.attrsOf(types.int), default: dflt as never }) },
          },
          { file: "one.ts", a: { x: 1 } },
          { file: "two.ts", a: { y: 2 } },
        ],
      }).options.a;
    // In the order resolving gives them: the last module's first.
    expect(a({ z: 0 }).definitionsWithLocations).toEqual([
      { file: "two.ts", value: { y: 2 }, priority: 100, order: 1000 },
      { file: "one.ts", value: { x: 1 }, priority: 100, order: 1000 },
    ]);
    expect(a(mkForce({ z: 3 })).definitionsWithLocations).toEqual([
      { file: "decl.ts", value: { z: 3 }, priority: 50, order: 1000 },
    ]);
  });
});

describe("defaults that read config", () => {
  it("an eager default that reads config gets the value of the module's second call", () => {
    const c = cfg(
      { options: { a: mkOption({ type: types.int, default: 1 }) } },
      defineModule("b.ts", ({ config }) => ({
        options: { b: mkOption({ type: types.int, default: config.a }) },
      })),
    );
    expect(c.b).toBe(1);
  });
  it("an eager default that reads config and is read while modules are called again is a clear INVALID_MODULE error", () => {
    const e = err(() =>
      cfg(
        { options: { a: mkOption({ type: types.int, default: 1 }) } },
        defineModule("b.ts", ({ config }) => ({
          options: {
            b: mkOption({ type: types.int, default: config.a }),
            c: mkOption({ type: types.int }),
          },
          config: { c: config.b },
        })),
      ),
    );
    expect(e.code).toBe("INVALID_MODULE");
    expect(e.message).toContain("get default()");
    expect(e.files).toEqual(["b.ts"]);
  });
  it("a getter default that reads config works", () => {
    const r = cfg({ options: { a: mkOption({ type: types.int, default: 1 }) } }, ({ config }) => ({
      options: {
        b: mkOption({
          type: types.int,
          get default() {
            return config.a + 1;
          },
        }),
      },
    }));
    expect(r.b).toBe(2);
  });
});
