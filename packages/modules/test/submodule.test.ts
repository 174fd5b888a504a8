import { describe, expect, it } from "vitest";
import {
  evalModules,
  forceDeep,
  type Module,
  mkAfter,
  mkBefore,
  mkDefault,
  mkForce,
  mkIf,
  mkOption,
  mkOptionType,
  nameOnlyModule,
  type OptionsTree,
  types,
} from "../src/index.js";
import { cfg, err } from "./helpers.js";

describe("submodules", () => {
  it("attrsOf submodule passes the attribute name", () => {
    const t = types.submodule(({ name }) => ({
      options: { n: mkOption({ type: types.str, default: name as string }) },
    }));
    expect(
      cfg({ options: { s: mkOption({ type: types.attrsOf(t) }) } }, { s: { a: {}, b: {} } }).s,
    ).toEqual({ a: { n: "a" }, b: { n: "b" } });
  });
  it("definitions of one entry from several modules merge", () => {
    const t = types.submodule({
      options: { a: mkOption({ type: types.int }), b: mkOption({ type: types.int }) },
    });
    expect(
      cfg(
        { options: { s: mkOption({ type: types.attrsOf(t) }) } },
        { s: { x: { a: 1 } } },
        { s: { x: { b: 2 } } },
      ).s.x,
    ).toEqual({ a: 1, b: 2 });
  });
  it("priorities work inside submodules", () => {
    const t = types.submodule({ options: { a: mkOption({ type: types.int }) } });
    expect(
      cfg({ options: { s: mkOption({ type: t }) } }, { s: { a: mkDefault(1) } }, { s: { a: 2 } }).s
        .a,
    ).toBe(2);
  });
  it("mkIf inside a submodule definition", () => {
    const t = types.submodule({ options: { a: mkOption({ type: types.int, default: 0 }) } });
    expect(cfg({ options: { s: mkOption({ type: t }) } }, { s: { a: mkIf(false, 1) } }).s.a).toBe(
      0,
    );
  });
  it("an undeclared option inside a submodule names the full path", () => {
    const t = types.submodule({ options: { a: mkOption({ type: types.int }) } });
    const e = err(
      () =>
        cfg(
          { options: { s: mkOption({ type: types.attrsOf(t) }) } },
          { file: "f.ts", s: { x: { b: 1 } } },
        ).s.x,
    );
    expect(e.optionPath).toBe("s.x.b");
    expect(e.message).toContain("f.ts");
  });
  it("submodule modules can be functions reading their own config lazily", () => {
    const t = types.submodule(({ config }) => ({
      options: { a: mkOption({ type: types.int }), b: mkOption({ type: types.int }) },
      config: {
        get b() {
          return config.a * 2;
        },
      },
    }));
    expect(cfg({ options: { s: mkOption({ type: t }) } }, { s: { a: 21 } }).s.b).toBe(42);
  });
  it("listOf submodule evaluates each element", () => {
    const t = types.submodule({ options: { a: mkOption({ type: types.int, default: 1 }) } });
    expect(
      forceDeep(
        cfg({ options: { l: mkOption({ type: types.listOf(t) }) } }, { l: [{}, { a: 2 }] }).l,
      ),
    ).toEqual([{ a: 1 }, { a: 2 }]);
  });
  it("submoduleWith passes specialArgs", () => {
    const t = types.submoduleWith({
      modules: [
        // biome-ignore lint/suspicious/noExplicitAny: module arguments of any shape
        ({ greeting }: any) => ({
          options: { g: mkOption({ type: types.str, default: greeting }) },
        }),
      ],
      specialArgs: { greeting: "hi" },
    });
    expect(cfg({ options: { s: mkOption({ type: t, default: {} }) } }).s.g).toBe("hi");
  });
  it("submoduleWith without shorthand accepts module-shaped definitions", () => {
    const t = types.submoduleWith({ modules: [{ options: { a: mkOption({ type: types.int }) } }] });
    expect(cfg({ options: { s: mkOption({ type: t }) } }, { s: { config: { a: 3 } } }).s.a).toBe(3);
  });
  it("submodule definitions may be functions", () => {
    const t = types.submodule({ options: { a: mkOption({ type: types.str }) } });
    expect(
      cfg(
        { options: { s: mkOption({ type: types.attrsOf(t) }) } },
        // biome-ignore lint/suspicious/noExplicitAny: module arguments of any shape
        { s: { x: ({ name }: any) => ({ a: name }) } },
      ).s.x.a,
    ).toBe("x");
  });
  it("a submodule option value is not a submodule definition error", () => {
    const t = types.submodule({ options: {} });
    expect(err(() => cfg({ options: { s: mkOption({ type: t }) } }, { s: 5 }).s).code).toBe(
      "TYPE_MISMATCH",
    );
  });
  it("nested submodules", () => {
    const inner = types.submodule({ options: { v: mkOption({ type: types.int, default: 1 }) } });
    const outer = types.submodule({ options: { inner: mkOption({ type: inner, default: {} }) } });
    expect(cfg({ options: { o: mkOption({ type: outer, default: {} }) } }).o.inner.v).toBe(1);
  });
  it("the options of a submodule evaluation are reachable from options", () => {
    const r = evalModules({
      modules: [
        {
          options: {
            s: mkOption({
              type: types.submodule({
                options: { a: mkOption({ type: types.int, description: "A." }) },
              }),
            }),
          },
        },
      ],
    });
    const subs = r.options.s.type.getSubOptions(["s"]);
    expect(subs.a.description).toBe("A.");
    expect(subs.a.path).toBe("s.a");
  });
});

describe("submoduleWith onInstance", () => {
  type Seen = { loc: string; files: Record<string, string[]> };
  /** The instances `onInstance` saw, with each option's defining files (read after forcing). */
  function watched(modules: object[]) {
    const seen: { loc: readonly string[]; options: Record<string, unknown> }[] = [];
    const t = types.submoduleWith({
      modules: modules as never,
      shorthandOnlyDefinesConfig: true,
      onInstance: (i) => seen.push(i),
    });
    const read = (): Seen[] =>
      seen.map((i) => ({
        loc: i.loc.join("."),
        files: Object.fromEntries(
          Object.entries(i.options).map(([k, o]) => [
            k,
            (o as { definitionFiles: string[] }).definitionFiles,
          ]),
        ),
      }));
    return { t, read };
  }
  const decl = {
    options: {
      a: mkOption({ type: types.int, default: 0 }),
      b: mkOption({ type: types.int, default: 0 }),
    },
  };

  it("gets each instance of plain modules with its path and its options' defining files", () => {
    const { t, read } = watched([decl]);
    const c = cfg(
      { options: { s: mkOption({ type: types.attrsOf(t) }) } },
      { file: "one.ts", s: { x: { a: 1 }, y: {} } },
      { file: "two.ts", s: { x: { b: 2 } } },
    );
    expect(forceDeep(c.s)).toEqual({ x: { a: 1, b: 2 }, y: { a: 0, b: 0 } });
    expect(read()).toEqual([
      { loc: "s.x", files: { a: ["one.ts"], b: ["two.ts"] } },
      { loc: "s.y", files: { a: [], b: [] } },
    ]);
  });

  it("gets instances of function modules and of function definitions too", () => {
    const named = ({ name }: { name: string }) => ({
      options: { n: mkOption({ type: types.str, default: name }) },
    });
    const { t, read } = watched([named]);
    const c = cfg(
      { options: { s: mkOption({ type: types.attrsOf(t) }) } },
      { file: "f.ts", s: { x: () => ({ config: { n: "X" } }) } },
    );
    expect(c.s.x.n).toBe("X");
    expect(read()).toEqual([{ loc: "s.x", files: { n: ["f.ts"] } }]);
  });

  it("walks an instance's options, nested sets included, without building its options tree", () => {
    const seen: {
      forEachOption: (v: (o: { path: string; definitionFiles: string[] }) => void) => void;
      options: Record<string, unknown>;
    }[] = [];
    const t = types.submoduleWith({
      modules: [
        {
          options: {
            a: mkOption({ type: types.int, default: 0 }),
            n: { b: mkOption({ type: types.int, default: 0 }) },
          },
        },
      ],
      shorthandOnlyDefinesConfig: true,
      onInstance: (i) => seen.push(i),
    });
    const c = cfg({ options: { s: mkOption({ type: t }) } }, { file: "f.ts", s: { n: { b: 1 } } });
    expect(c.s.n.b).toBe(1);
    const walked: string[] = [];
    seen[0]?.forEachOption((o) => walked.push(`${o.path} ${o.definitionFiles.join(",")}`));
    expect(walked).toEqual(["s.a ", "s.n.b f.ts"]);
    // The same records as the options tree gives, field for field.
    const tree = seen[0]?.options as {
      a: { path: string };
      n: { b: { path: string; definitionFiles: string[] } };
    };
    expect([tree.a.path, tree.n.b.path, tree.n.b.definitionFiles]).toEqual([
      "s.a",
      "s.n.b",
      ["f.ts"],
    ]);
  });

  it("is not called when only declarations are read (docs)", () => {
    const { t, read } = watched([decl]);
    const r = evalModules({ modules: [{ options: { s: mkOption({ type: t, default: {} }) } }] });
    expect(Object.keys(r.options.s.type.getSubOptions(["s"]))).toEqual(["a", "b"]);
    expect(read()).toEqual([]);
    expect(r.config.s.a).toBe(0);
    expect(read()).toEqual([{ loc: "s", files: { a: [], b: [] } }]);
  });

  it("calls both callbacks when two declarations of the option merge, one callback once", () => {
    const calls: string[] = [];
    const first = (i: { loc: readonly string[] }) => calls.push(`first ${i.loc.join(".")}`);
    const second = (i: { loc: readonly string[] }) => calls.push(`second ${i.loc.join(".")}`);
    const sub = (onInstance: typeof first, options: OptionsTree) =>
      types.submoduleWith({ modules: [{ options }], shorthandOnlyDefinesConfig: true, onInstance });
    const c = cfg(
      {
        options: {
          s: mkOption({ type: sub(first, { a: mkOption({ type: types.int, default: 1 }) }) }),
        },
      },
      {
        options: {
          s: mkOption({ type: sub(second, { b: mkOption({ type: types.int, default: 2 }) }) }),
        },
      },
      { options: { t: mkOption({ type: sub(first, {}), default: {} }) } },
      { options: { t: mkOption({ type: sub(first, {}) }) } },
      { s: {} },
    );
    expect(forceDeep(c)).toEqual({ s: { a: 1, b: 2 }, t: {} });
    expect(calls.sort()).toEqual(["first s", "first t", "second s"]);
  });
});

describe("nameOnlyModule", () => {
  const plain = { options: { port: mkOption({ type: types.port, default: 80 }) } };
  const calls: string[] = [];
  const named = (args: { name?: string }) => {
    calls.push(String(args.name));
    return { options: { path: mkOption({ type: types.str, default: `/var/lib/${args.name}` }) } };
  };
  /** `s.x` and `s.y` of a submodule of `mods`, defined by two modules, forced. */
  function evaluated(mods: object[], y: object = { path: mkDefault("/srv/y") }) {
    const t = types.attrsOf(
      types.submoduleWith({ modules: mods as never, shorthandOnlyDefinesConfig: true }),
    );
    const r = evalModules({
      modules: [
        { file: "decl.ts", options: { s: mkOption({ type: t }) } },
        { file: "a.ts", s: { x: { port: 8080 }, y: {} } },
        { file: "b.ts", s: { y } },
      ],
    });
    return forceDeep(r.config.s);
  }

  it("gives each instance what the unmarked function module gives, calling it once per instance", () => {
    calls.length = 0;
    const marked = evaluated([plain, nameOnlyModule(named)]);
    expect(calls).toEqual(["x", "y"]);
    const unmarked = evaluated([plain, named]);
    expect(marked).toEqual({
      x: { port: 8080, path: "/var/lib/x" },
      y: { port: 80, path: "/srv/y" },
    });
    expect(marked).toEqual(unmarked);
    // Key order too: the declarations keep the modules' order.
    expect(Object.keys(marked.x)).toEqual(Object.keys(unmarked.x));
  });

  it("a name-only module that defines config is evaluated in full, with its definitions", () => {
    const withConfig = nameOnlyModule((args: { name?: string }) => ({
      options: { tag: mkOption({ type: types.str }) },
      config: { tag: `t-${args.name}` },
    }));
    expect(evaluated([plain, withConfig], {})).toEqual({
      x: { port: 8080, tag: "t-x" },
      y: { port: 80, tag: "t-y" },
    });
  });

  it("reports a declaration conflict as the unmarked module does", () => {
    const clash = { options: { path: mkOption({ type: types.int }) } };
    const run = (mark: boolean) =>
      err(() => evaluated([plain, mark ? nameOnlyModule(named) : named, clash])).message;
    expect(run(true)).toBe(run(false));
    expect(run(true)).toContain("`s.x.path` in decl.ts is already declared in decl.ts");
  });
});

describe("instances that have only defaults", () => {
  const set = (type: ReturnType<typeof types.submodule>) => ({
    options: { s: mkOption({ type: types.attrsOf(type), default: {} }) },
  });

  it("each get the defaults in an object and lists of their own", () => {
    const t = types.submodule({
      options: {
        signal: mkOption({ type: types.str, default: "SIGTERM" }),
        grace: mkOption({ type: types.int, default: 10, apply: (v: number) => v * 1000 }),
        paths: mkOption({ type: types.listOf(types.str), default: [] }),
        image: mkOption({ type: types.nullOr(types.str), default: null }),
      },
    });
    const s = cfg(set(t), { config: { s: { a: {}, b: {}, c: { signal: "SIGINT" }, d: {} } } }).s;
    const plain = { signal: "SIGTERM", grace: 10000, paths: [], image: null };
    expect(forceDeep(s)).toEqual({
      a: plain,
      b: plain,
      c: { ...plain, signal: "SIGINT" },
      d: plain,
    });
    expect(Object.keys(s.b)).toEqual(["signal", "grace", "paths", "image"]);
    expect(s.b).not.toBe(s.d);
    expect(s.b.paths).not.toBe(s.d.paths);
    expect(s.a.paths).not.toBe(s.b.paths);
  });

  it("keep a value that depends on the instance's path its own (a type that is not simple)", () => {
    const where = mkOptionType<string>({ name: "where", merge: (loc) => loc.join(".") });
    const t = types.submodule({ options: { at: mkOption({ type: where, default: "" }) } });
    const s = cfg(set(t), { config: { s: { a: {}, b: {} } } }).s;
    expect(forceDeep(s)).toEqual({ a: { at: "s.a.at" }, b: { at: "s.b.at" } });
  });

  it("report a default that fails at each instance's own path", () => {
    const t = types.submodule({
      options: { n: mkOption({ type: types.int, default: "x" as never }) },
    });
    const s = cfg(set(t), { config: { s: { a: {}, b: {} } } }).s;
    expect(err(() => s.a.n).optionPath).toBe("s.a.n");
    expect(err(() => s.b.n).optionPath).toBe("s.b.n");
  });
});

describe("instances defined by plain data", () => {
  const t = types.submodule({
    options: {
      a: mkOption({ type: types.int }),
      b: mkOption({ type: types.int, default: 1 }),
      tags: mkOption({ type: types.listOf(types.str), default: [] }),
    },
  });
  const decl = { options: { s: mkOption({ type: types.attrsOf(t), default: {} }) } };

  it("give the values lazy instances give", () => {
    const s = cfg(decl, { config: { s: { p: { a: 2, tags: ["x"] }, q: { a: 3, b: 4 } } } }).s;
    expect(forceDeep(s)).toEqual({ p: { a: 2, b: 1, tags: ["x"] }, q: { a: 3, b: 4, tags: [] } });
    expect(Object.keys(s.p)).toEqual(["a", "b", "tags"]);
  });

  it("still read a definition behind a getter lazily (it may read the instance itself)", () => {
    const reader = ({ config }: { config: { s: { p: { b: number } } } }) => ({
      config: {
        s: {
          p: {
            get a() {
              return config.s.p.b + 10;
            },
          },
        },
      },
    });
    expect(cfg(decl, reader).s.p.a).toBe(11);
  });

  it("report a value the type rejects when it is read, at its path, and give the others", () => {
    const s = cfg(decl, { config: { s: { p: { a: "x" } } } }).s;
    expect(s.p.b).toBe(1);
    const e = err(() => s.p.a);
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.optionPath).toBe("s.p.a");
  });
});

/** Whether `o[key]` is a data property (computed already), not a getter. */
const isData = (o: object, key: string) =>
  Object.getOwnPropertyDescriptor(o, key)?.get === undefined;

describe("instances defined by nested plain data, with name-only modules", () => {
  const portT = types.submodule({ options: { port: mkOption({ type: types.port }) } });
  const plain = {
    options: {
      env: mkOption({ type: types.attrsOf(types.str), default: {} }),
      ports: mkOption({ type: types.attrsOf(portT), default: {} }),
    },
  };
  const named = (args: { name?: string }) => ({
    options: { home: mkOption({ type: types.str, default: `/srv/${args.name}` }) },
  });
  /** `s` of a submodule of `mods`, defined in a.ts by `a` and in b.ts by `b`. */
  function evaluated(mods: object[], a: object, b: object = {}) {
    const t = types.attrsOf(
      types.submoduleWith({ modules: mods as never, shorthandOnlyDefinesConfig: true }),
    );
    const r = evalModules({
      modules: [
        { file: "decl.ts", options: { s: mkOption({ type: t }) } },
        { file: "a.ts", s: a },
        { file: "b.ts", s: b },
      ],
    });
    return r.config.s;
  }
  const defs = {
    x: { env: { A: "1", B: mkDefault("2") }, ports: { http: { port: 80 } } },
    y: { home: "/y" },
  };

  it("get a plain config of the values a full evaluation gives", () => {
    const s = evaluated([plain, nameOnlyModule(named)], defs, { x: { env: { B: "3" } } });
    const full = evaluated([plain, named], defs, { x: { env: { B: "3" } } });
    expect(isData(s.x, "env") && isData(s.x, "home") && isData(s.y, "ports")).toBe(true);
    expect(forceDeep(s)).toEqual(forceDeep(full));
    expect(forceDeep(s)).toEqual({
      x: { env: { A: "1", B: "3" }, ports: { http: { port: 80 } }, home: "/srv/x" },
      y: { env: {}, ports: {}, home: "/y" },
    });
  });

  it("keep a config of getters when a getter is nested in a definition, and read it lazily", () => {
    let reads = 0;
    const x = {
      env: {
        get A() {
          reads++;
          return "late";
        },
      },
    };
    const s = evaluated([plain, nameOnlyModule(named)], { x });
    expect(isData(s.x, "env")).toBe(false);
    expect(reads).toBe(0);
    expect(s.x.env.A).toBe("late");
  });

  it("report a nested value the type rejects when it is read, naming its path and file", () => {
    const s = evaluated([plain, nameOnlyModule(named)], { x: { ports: { http: { port: "80" } } } });
    expect(s.x.home).toBe("/srv/x");
    expect(Object.keys(s.x.ports)).toEqual(["http"]);
    const e = err(() => s.x.ports.http.port);
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.optionPath).toBe("s.x.ports.http.port");
    expect(e.message).toContain("a.ts");
  });
});

describe("attribute sets of primitives defined plainly", () => {
  const decl = { options: { e: mkOption({ type: types.attrsOf(types.str), default: {} }) } };

  it("are plain objects of their values, priorities applied", () => {
    const e = cfg(decl, { e: { A: "1", B: mkDefault("2") } }, { e: { B: "3" } }).e;
    expect(isData(e, "A") && isData(e, "B")).toBe(true);
    expect(e).toEqual({ A: "1", B: "3" });
  });

  it("stay lazy when a value is rejected: the others read, it fails when read with path and file", () => {
    const e = cfg(decl, { file: "bad.ts", e: { A: "1", B: 2 } }).e;
    expect(Object.keys(e)).toEqual(["A", "B"]);
    expect(e.A).toBe("1");
    const x = err(() => e.B);
    expect(x.code).toBe("TYPE_MISMATCH");
    expect(x.optionPath).toBe("e.B");
    expect(x.message).toContain("bad.ts");
  });

  it("resolve an mkIf of plain data now, as the lazy set does (a false one drops its key)", () => {
    const e = cfg(decl, { e: { A: "a", B: mkIf(true, "b"), C: mkIf(false, "c") } }).e;
    expect(isData(e, "A") && isData(e, "B")).toBe(true);
    expect(e).toEqual({ A: "a", B: "b" });
    expect(Object.keys(e)).toEqual(["A", "B"]);
  });

  it("keep a key named __proto__ as a key", () => {
    const e = cfg(decl, { e: JSON.parse('{"__proto__": "p", "q": "r"}') }).e;
    expect(Object.keys(e)).toEqual(["__proto__", "q"]);
    expect(Object.getPrototypeOf(e)).toBe(Object.prototype);
  });
});

describe("attribute sets of pure types defined by plain data", () => {
  const portT = types.submodule({ options: { port: mkOption({ type: types.port }) } });
  const attrs = (elem: Parameters<typeof types.attrsOf>[0]) => ({
    file: "decl.ts",
    options: { e: mkOption({ type: types.attrsOf(elem), default: {} }) },
  });

  it("compute submodule instances of plain modules at once, with the values lazy ones give", () => {
    const e = cfg(attrs(portT), { e: { a: { port: 1 }, b: { port: mkDefault(2) } } }).e;
    expect(isData(e, "a") && isData(e, "b")).toBe(true);
    expect(forceDeep(e)).toEqual({ a: { port: 1 }, b: { port: 2 } });
  });

  it("keep instances lazy where a module of the submodule is a function", () => {
    let calls = 0;
    const fnT = types.submodule(() => {
      calls++;
      return { options: { port: mkOption({ type: types.port }) } };
    });
    const e = cfg(attrs(fnT), { e: { a: { port: 1 } } }).e;
    expect(isData(e, "a")).toBe(false);
    expect(calls).toBe(0);
    expect(e.a.port).toBe(1);
  });

  it("report an instance that fails when it is read, naming its option and file", () => {
    const e = cfg(attrs(portT), { file: "bad.ts", e: { a: { port: 1 }, b: { porr: 2 } } }).e;
    expect(Object.keys(e)).toEqual(["a", "b"]);
    expect(e.a.port).toBe(1);
    const x = err(() => e.b);
    expect(x.message).toContain("e.b.porr");
    expect(x.message).toContain("bad.ts");
  });

  it("compute a custom type's values at once only when it says it is pure", () => {
    const merge = (_loc: string[], defs: { value: unknown }[]) => defs.map((d) => d.value).join();
    const impure = mkOptionType<string>({ name: "joined", merge });
    const pure = mkOptionType<string>({ name: "joined", merge, pure: true });
    const lazy = cfg(attrs(impure), { e: { a: "x" } }, { e: { a: "y" } }).e;
    const eager = cfg(attrs(pure), { e: { a: "x" } }, { e: { a: "y" } }).e;
    expect(isData(lazy, "a")).toBe(false);
    expect(isData(eager, "a")).toBe(true);
    expect(eager).toEqual(lazy);
    // A container is pure only when what it contains is.
    expect(isData(cfg(attrs(types.nullOr(impure)), { e: { a: "x" } }).e, "a")).toBe(false);
    expect(isData(cfg(attrs(types.nullOr(pure)), { e: { a: "x" } }).e, "a")).toBe(true);
  });
});

describe("instances of a function module that reads config lazily (template path)", () => {
  type Args = { name?: string; config: Record<string, unknown> };
  let calls: string[] = [];
  /** The service-like function module of the Nix workload, with `fullPath` forcing evalCore. */
  function service(fullPath = false) {
    const fn = ({ name, config }: Args) => {
      calls.push(String(name));
      return {
        options: {
          host: mkOption({ type: types.str, default: "127.0.0.1" }),
          port: mkOption({ type: types.port, default: 8000 }),
          args: mkOption({ type: types.listOf(types.str), default: [] }),
          url: mkOption({ type: types.str, readOnly: true }),
        },
        config: {
          args: mkAfter(["--last"]),
          get url() {
            return `http://${config.host}:${config.port}`;
          },
        },
      };
    };
    // A `key` makes collection count the module once per key: no template then.
    if (fullPath) Object.defineProperty(fn, "key", { value: "service" });
    return fn;
  }
  function evaluated(fullPath: boolean, ...defs: Module[]) {
    calls = [];
    const t = types.attrsOf(types.submodule(service(fullPath) as never));
    return evalModules({
      modules: [{ file: "decl.ts", options: { s: mkOption({ type: t, default: {} }) } }, ...defs],
    });
  }
  const defs = [
    { file: "a.ts", config: { s: { x: { args: ["a"], port: mkDefault(81) }, y: {} } } },
    { file: "b.ts", config: { s: { x: { args: mkBefore(["first"]), port: 82 } } } },
  ];

  it("gives what the full evaluation gives, calling the module once per instance", () => {
    const fast = forceDeep(evaluated(false, ...defs).config.s);
    expect(calls).toEqual(["x", "y"]);
    const full = forceDeep(evaluated(true, ...defs).config.s);
    expect(fast).toEqual({
      x: {
        host: "127.0.0.1",
        port: 82,
        args: ["first", "a", "--last"],
        url: "http://127.0.0.1:82",
      },
      y: { host: "127.0.0.1", port: 8000, args: ["--last"], url: "http://127.0.0.1:8000" },
    });
    expect(fast).toEqual(full);
    expect(Object.keys(fast.x)).toEqual(Object.keys(full.x));
  });

  it("keeps the definitions' files and order for the options API", () => {
    const seen: Record<string, string[]>[] = [];
    for (const fullPath of [false, true]) {
      calls = [];
      const byPath: Record<string, string[]> = {};
      const t = types.attrsOf(
        types.submoduleWith({
          modules: [service(fullPath) as never],
          shorthandOnlyDefinesConfig: true,
          onInstance: (i) =>
            i.forEachOption((o) => {
              byPath[o.path] = o.definitionFiles;
            }),
        }),
      );
      forceDeep(
        evalModules({
          modules: [
            { file: "decl.ts", options: { s: mkOption({ type: t, default: {} }) } },
            ...defs,
          ],
        }).config,
      );
      seen.push(byPath);
    }
    expect(seen[0]).toEqual(seen[1]);
    // The inline module is named after the file declaring the option.
    expect(seen[0]?.["s.x.args"]).toEqual(["a.ts", "b.ts", "decl.ts"]);
  });

  it("reports errors naming the option path and file, as the full evaluation does", () => {
    const bad = { file: "bad.ts", config: { s: { x: { port: "eighty" } } } };
    const run = (fullPath: boolean) => err(() => forceDeep(evaluated(fullPath, bad).config));
    const fast = run(false);
    expect(fast.message).toBe(run(true).message);
    expect(fast.optionPath).toBe("s.x.port");
    expect(fast.files).toContain("bad.ts");
    const ro = { file: "ro.ts", config: { s: { x: { url: "no" } } } };
    const readOnly = (fullPath: boolean) => err(() => forceDeep(evaluated(fullPath, ro).config));
    expect(readOnly(false).message).toBe(readOnly(true).message);
    expect(readOnly(false).message).toContain("`s.x.url` is read-only");
    const undeclared = { file: "u.ts", config: { s: { x: { nope: 1 } } } };
    const und = (fullPath: boolean) => err(() => forceDeep(evaluated(fullPath, undeclared).config));
    expect(und(false).message).toBe(und(true).message);
    expect(und(false).message).toContain("`s.x.nope` does not exist (defined in u.ts");
  });

  it("falls back to the full evaluation for a module that reads config when called", () => {
    const t = types.attrsOf(
      types.submodule((({ config }: Args) => ({
        options: {
          a: mkOption({ type: types.int, default: 1 }),
          b: mkOption({ type: types.int }),
        },
        config: { b: (config.a as number) + 1 },
      })) as never),
    );
    const c = cfg({ options: { s: mkOption({ type: t }) } }, { s: { x: { a: 5 }, y: {} } });
    expect(forceDeep(c.s)).toEqual({ x: { a: 5, b: 6 }, y: { a: 1, b: 2 } });
  });

  it("falls back for a module with imports, a freeform type or config at its top level", () => {
    const imported = { options: { i: mkOption({ type: types.int, default: 7 }) } };
    const modules = [
      () => ({ imports: [imported], options: { a: mkOption({ type: types.int, default: 1 }) } }),
      () => ({ freeformType: types.attrsOf(types.int), options: {} }),
      () => ({ a: 2 }),
    ];
    const declared = { options: { a: mkOption({ type: types.int, default: 1 }) } };
    const results = modules.map((m, i) => {
      const t = types.attrsOf(types.submodule((i === 2 ? [declared, m] : [m]) as never));
      return forceDeep(cfg({ options: { s: mkOption({ type: t }) } }, { s: { x: {} } }).s);
    });
    expect(results).toEqual([{ x: { i: 7, a: 1 } }, { x: {} }, { x: { a: 2 } }]);
  });

  it("calls such a module once more for the first instance only", () => {
    const names: string[] = [];
    const withImports = ({ name }: Args) => {
      names.push(String(name));
      return { imports: [], options: { a: mkOption({ type: types.int, default: 1 }) } };
    };
    const t = types.attrsOf(types.submodule(withImports as never));
    const c = cfg({ options: { s: mkOption({ type: t }) } }, { s: { x: {}, y: {}, z: {} } });
    expect(forceDeep(c.s)).toEqual({ x: { a: 1 }, y: { a: 1 }, z: { a: 1 } });
    expect(names).toEqual(["x", "x", "y", "z"]);
  });

  it("gives the module `extendModules` of the instance (its definitions included)", () => {
    const t = types.attrsOf(
      types.submodule((({ extendModules }: { extendModules: (m: object) => never }) => ({
        options: {
          a: mkOption({ type: types.int, default: 1 }),
          b: mkOption({ type: types.int, default: 2 }),
          ext: mkOption({ type: types.int }),
        },
        config: {
          get ext() {
            const more = extendModules({ modules: [{ a: mkForce(10) }] }) as {
              config: { a: number; b: number };
            };
            return more.config.a * 100 + more.config.b;
          },
        },
      })) as never),
    );
    const c = cfg({ options: { s: mkOption({ type: t }) } }, { s: { x: { a: 3, b: 4 } } });
    expect(forceDeep(c.s)).toEqual({ x: { a: 3, b: 4, ext: 1004 } });
  });
});

describe("a function submodule module whose config reads another option", () => {
  // `total` counts the services; each service's `x` reads `total`. Computing an instance's
  // values while `services` is being merged would meet `services` half-made (infinite
  // recursion), and a value that failed once fails for good: they must wait for the read.
  const service = ({ config: _own }: { config: unknown }) => ({
    options: {
      x: mkOption({ type: types.int }),
      y: mkOption({ type: types.int, default: 1 }),
    },
  });
  function evaluated(plain: boolean) {
    return evalModules({
      modules: [
        ({ config }: { config: { services: Record<string, unknown> } }) => ({
          file: "decl.ts",
          options: {
            services: mkOption({
              type: types.attrsOf(
                types.submodule([
                  service,
                  () => ({
                    config: {
                      get x() {
                        return Object.keys(config.services).length;
                      },
                    },
                  }),
                ]),
              ),
              default: {},
            }),
          },
        }),
        { file: "a.ts", services: plain ? { a: { y: 2 }, b: {} } : { a: { y: 2 }, b: { y: 3 } } },
      ],
    }).config as { services: Record<string, { x: number; y: number }> };
  }

  it("reads it when the value is read, not while the set is merged", () => {
    for (const plain of [true, false]) {
      const s = evaluated(plain).services;
      expect(s.a?.x).toBe(2);
      expect(s.b?.x).toBe(2);
      expect(s.a?.y).toBe(2);
    }
  });
});
