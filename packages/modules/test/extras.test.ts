import { describe, expect, it } from "vitest";
import {
  assertionsModule,
  checkAssertions,
  evalModules,
  forceDeep,
  ModuleError,
  mkAliasOptionModule,
  mkDefault,
  mkOption,
  mkOptionType,
  mkRemovedOptionModule,
  mkRenamedOptionModule,
  types,
} from "../src/index.js";
import { cfg, err } from "./helpers.js";

describe("freeformType", () => {
  const ff = {
    freeformType: types.attrsOf(types.anything),
    options: { port: mkOption({ type: types.port, default: 80 }) },
  };
  it("undeclared definitions go to the freeform type", () => {
    const r = cfg(ff, { extra: { a: 1 } });
    expect(r.extra).toEqual({ a: 1 });
    expect(r.port).toBe(80);
  });
  it("declared options keep their types next to freeform ones", () => {
    expect(err(() => cfg(ff, { port: "x" }).port).code).toBe("TYPE_MISMATCH");
  });
  it("freeform values merge by the freeform type", () => {
    expect(cfg(ff, { extra: { a: 1 } }, { extra: { b: 2 } }).extra).toEqual({ a: 1, b: 2 });
  });
  it("freeform values are type-checked", () => {
    const r = cfg({ freeformType: types.attrsOf(types.str) }, { a: 1 });
    expect(err(() => r.a).code).toBe("TYPE_MISMATCH");
  });
  it("freeform keys under a declared namespace", () => {
    const r = cfg(
      {
        freeformType: types.attrsOf(types.anything),
        options: { ns: { a: mkOption({ default: 1 }) } },
      },
      { ns: { b: 2 } },
    );
    expect(r.ns.b).toBe(2);
    expect(r.ns.a).toBe(1);
  });
  it("freeformType in a submodule", () => {
    const t = types.submodule({
      freeformType: types.attrsOf(types.str),
      options: { name: mkOption({ type: types.str, default: "n" }) },
    });
    expect(cfg({ options: { s: mkOption({ type: t }) } }, { s: { other: "o" } }).s).toEqual({
      name: "n",
      other: "o",
    });
  });
  it("a freeform type with its own merge: config has its keys, declared options win", () => {
    const moving = mkOptionType<Record<string, unknown>>({
      name: "moving",
      // Moves every defined key under `moved`, and adds keys next to declared ones.
      merge: (_loc, defs) => ({
        moved: Object.assign({}, ...defs.map((d) => d.value)),
        ns: { extra: defs.length, declared: "not this" },
      }),
    });
    const r = cfg(
      {
        freeformType: moving,
        options: { ns: { declared: mkOption({ type: types.int, default: 1 }) } },
      },
      { a: 1 },
      { b: 2 },
    );
    expect(Object.keys(r).sort()).toEqual(["moved", "ns"]);
    expect(r.moved).toEqual({ a: 1, b: 2 });
    expect(r.ns).toEqual({ declared: 1, extra: 2 });
  });
});

describe("renamed, aliased and removed options", () => {
  const target = { options: { new: { port: mkOption({ type: types.port, default: 1 }) } } };
  it("a definition of the old name reaches the new one", () => {
    expect(
      cfg(target, mkRenamedOptionModule(["oldPort"], ["new", "port"]), { oldPort: 8080 }).new.port,
    ).toBe(8080);
  });
  it("reading the old name gives the new value", () => {
    expect(
      cfg(target, mkRenamedOptionModule(["oldPort"], ["new", "port"]), { new: { port: 3 } })
        .oldPort,
    ).toBe(3);
  });
  it("a rename keeps the definition's priority", () => {
    expect(
      cfg(
        target,
        mkRenamedOptionModule(["oldPort"], ["new", "port"]),
        { oldPort: mkDefault(5) },
        { new: { port: 6 } },
      ).new.port,
    ).toBe(6);
  });
  it("a rename warns when assertions/warnings are declared", () => {
    const r = cfg(target, assertionsModule, mkRenamedOptionModule(["oldPort"], ["new", "port"]), {
      file: "user.ts",
      oldPort: 2,
    });
    expect(r.warnings).toEqual([
      "The option `oldPort` defined in user.ts has been renamed to `new.port`.",
    ]);
  });
  it("a rename does not warn when the old name is unused", () => {
    expect(
      cfg(target, assertionsModule, mkRenamedOptionModule(["oldPort"], ["new", "port"])).warnings,
    ).toEqual([]);
  });
  it("type errors of renamed definitions name the original file", () => {
    const e = err(
      () =>
        cfg(target, mkRenamedOptionModule(["oldPort"], ["new", "port"]), {
          file: "u.ts",
          oldPort: "x",
        }).new.port,
    );
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.files).toEqual(["u.ts"]);
  });
  it("an alias forwards silently", () => {
    const r = cfg(target, assertionsModule, mkAliasOptionModule(["p"], ["new", "port"]), { p: 9 });
    expect(r.new.port).toBe(9);
    expect(r.warnings).toEqual([]);
  });
  it("defining a removed option fails its assertion with the instructions; reading it is REMOVED_OPTION", () => {
    const c = cfg(mkRemovedOptionModule(["legacy"], "Use `services.x` instead."), {
      file: "c.ts",
      legacy: 1,
    });
    const failed = err(() => checkAssertions(c));
    expect(failed.code).toBe("FAILED_ASSERTIONS");
    expect(failed.message).toContain("Use `services.x` instead.");
    expect(failed.message).toContain("c.ts");
    const e = err(() => c.legacy);
    expect(e.code).toBe("REMOVED_OPTION");
    expect(e.message).toContain("Use `services.x` instead.");
    expect(e.message).toContain("c.ts");
  });
  it("a removed option that is not defined is harmless", () => {
    expect(cfg(mkRemovedOptionModule(["legacy"], "gone"), target).new.port).toBe(1);
  });
});

describe("assertions and warnings", () => {
  it("checkAssertions returns warnings when all hold", () => {
    const c = cfg(assertionsModule, {
      assertions: [{ assertion: true, message: "no" }],
      warnings: ["careful"],
    });
    expect(checkAssertions(c)).toEqual({ warnings: ["careful"] });
  });
  it("checkAssertions throws FAILED_ASSERTIONS listing every failed message", () => {
    const c = cfg(
      assertionsModule,
      { assertions: [{ assertion: false, message: "first" }] },
      { assertions: [{ assertion: false, message: "second" }] },
    );
    const e = err(() => checkAssertions(c));
    expect(e.code).toBe("FAILED_ASSERTIONS");
    expect(e.message).toContain("first");
    expect(e.message).toContain("second");
  });
  it("assertions may read config lazily", () => {
    const c = cfg(
      assertionsModule,
      { options: { port: mkOption({ type: types.port, default: 22 }) } },
      ({ config }) => ({
        assertions: [
          {
            get assertion() {
              return config.port > 1024;
            },
            message: "port must be unprivileged",
          },
        ],
      }),
    );
    expect(() => checkAssertions(c)).toThrow(/unprivileged/);
  });
  it("defaults are empty", () => {
    expect(checkAssertions(cfg(assertionsModule))).toEqual({ warnings: [] });
  });
});

describe("forceDeep", () => {
  it("returns a plain deep copy", () => {
    const r = cfg({
      options: { a: { b: mkOption({ type: types.listOf(types.int), default: [1] }) } },
    });
    const f = forceDeep(r);
    expect(f).toEqual({ a: { b: [1] } });
    expect(Object.getOwnPropertyDescriptor(f.a, "b")?.get).toBeUndefined();
  });
  it("surfaces a deferred error", () => {
    const r = cfg({ options: { a: mkOption({ type: types.int }) } });
    expect(() => forceDeep(r)).toThrow(ModuleError);
  });
  it("surfaces every deferred error at once", () => {
    const r = cfg(
      { options: { a: mkOption({ type: types.int }), b: mkOption({ type: types.str }) } },
      { a: "x", b: 1 },
    );
    const e = err(() => forceDeep(r));
    expect(e.errors?.length).toBe(2);
    expect(e.message).toContain("`a`");
    expect(e.message).toContain("`b`");
  });
  it("keeps functions and class instances", () => {
    const f = () => 1;
    const d = new Date(0);
    expect(forceDeep({ f, d })).toEqual({ f, d });
  });
  it("handles shared and cyclic objects", () => {
    // biome-ignore lint/suspicious/noExplicitAny: a cyclic object built by assignment
    const o: any = { a: 1 };
    o.self = o;
    const c = forceDeep(o);
    expect(c.self).toBe(c);
  });
  it("works on primitives", () => {
    expect(forceDeep(3)).toBe(3);
  });
  it("sorts keys with sortKeys, reading values in their own order", () => {
    const read: string[] = [];
    const lazy = (k: string, v: unknown) => ({
      get() {
        read.push(k);
        return v;
      },
      enumerable: true,
    });
    const inner = Object.defineProperties(
      {},
      { z: lazy("z", 1), ["__proto__"]: lazy("__proto__", 2) },
    );
    const value: { b: object[]; a: object } = Object.defineProperties(
      {} as { b: object[]; a: object },
      { b: lazy("b", [inner]), a: lazy("a", { y: 1, x: 2 }) },
    );
    const sorted = forceDeep(value, { sortKeys: true });
    expect(read).toEqual(["b", "z", "__proto__", "a"]);
    expect(Object.keys(sorted)).toEqual(["a", "b"]);
    expect(Object.keys(sorted.a)).toEqual(["x", "y"]);
    const copied = sorted.b[0] as object;
    expect(Object.keys(copied)).toEqual(["__proto__", "z"]);
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
    expect(Object.keys(forceDeep(value))).toEqual(["b", "a"]);
  });
  it("reports errors in the original key order with sortKeys", () => {
    const r = cfg(
      { options: { b: mkOption({ type: types.int }), a: mkOption({ type: types.str }) } },
      { a: 1, b: "x" },
    );
    const unsorted = err(() => forceDeep(r));
    const sorted = err(() => forceDeep(r, { sortKeys: true }));
    expect(sorted.message).toBe(unsorted.message);
    expect(sorted.errors?.map((e) => e.optionPath)).toEqual(["b", "a"]);
  });
});

describe("forceDeep of an object with more keys than one copy slice", () => {
  // Values are copied in slices of keys (a call each): the slices must read, keep and report
  // exactly as one loop over all keys did.
  const wide = (n: number, failing: (i: number) => boolean) => {
    const read: string[] = [];
    const props: PropertyDescriptorMap = {};
    for (let i = n - 1; i >= 0; i--) {
      const k = `k${i}`;
      props[k] = {
        get() {
          read.push(k);
          if (failing(i)) throw new Error(`bad ${i}`);
          return { i };
        },
        enumerable: true,
      };
    }
    return { value: Object.defineProperties({}, props) as Record<string, unknown>, read };
  };

  it("copies every value in the object's own key order, sorted or not", () => {
    const { value, read } = wide(700, () => false);
    const plain = forceDeep(value);
    const own = Object.keys(value);
    expect(read).toEqual(own);
    expect(Object.keys(plain)).toEqual(own);
    expect(plain.k650).toEqual({ i: 650 });
    expect(Object.keys(forceDeep(value, { sortKeys: true }))).toEqual([...own].sort());
  });
  it("leaves out and reports failing keys of every slice, in key order", () => {
    const { value } = wide(700, (i) => i % 300 === 0);
    const e = err(() => forceDeep(value));
    expect(e.errors?.map((x) => x.optionPath)).toEqual(["k600", "k300", "k0"]);
  });
});

describe("forceDeep of many objects with the same keys", () => {
  // Past a few objects of one key list, copies are built by one factory per key list: the
  // results must be the same as one by one.
  const many = <T>(n: number, make: (i: number) => T): T[] =>
    Array.from({ length: n }, (_, i) => make(i));

  it("copies every object with its own values, sorted or not", () => {
    const value = many(40, (i) => ({ zeta: i, alpha: { k: `v${i}` }, mid: [i] }));
    const plain = forceDeep(value);
    const sorted = forceDeep(value, { sortKeys: true });
    expect(plain).toEqual(value);
    expect(sorted).toEqual(value);
    for (let i = 0; i < 40; i++) {
      expect(Object.keys(plain[i] as object)).toEqual(["zeta", "alpha", "mid"]);
      expect(Object.keys(sorted[i] as object)).toEqual(["alpha", "mid", "zeta"]);
      expect(plain[i]).not.toBe(value[i]);
    }
  });
  it("keeps cycles and shared objects when the key list has a factory", () => {
    const value = many(20, (i) => {
      const o: { i: number; self?: unknown; list?: unknown[] } = { i };
      o.self = o;
      o.list = [o];
      return o;
    });
    const copies = forceDeep(value, { sortKeys: true });
    for (const c of copies) {
      expect(c.self).toBe(c);
      expect((c.list as unknown[])[0]).toBe(c);
      expect(Object.keys(c)).toEqual(["i", "list", "self"]);
    }
  });
  it("leaves out a failing key, and reports each error, past the factory threshold", () => {
    const value = many(20, (i) =>
      Object.defineProperties(
        {},
        {
          b: { value: i, enumerable: true },
          a: {
            get() {
              if (i % 5 === 0) throw new Error(`bad ${i}`);
              return i;
            },
            enumerable: true,
          },
        },
      ),
    );
    const e = err(() => forceDeep(value, { sortKeys: true }));
    expect(e.errors?.map((x) => x.optionPath)).toEqual(['"0".a', '"5".a', '"10".a', '"15".a']);
  });
  it("keeps a key named __proto__ a plain key in a frequent key list", () => {
    const value = many(20, (i) => JSON.parse(`{"__proto__": ${i}, "x": 1}`) as object);
    for (const c of forceDeep(value, { sortKeys: true })) {
      expect(Object.keys(c)).toEqual(["__proto__", "x"]);
      expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
    }
  });
});

describe("options tree", () => {
  it("exposes type, declarations and description", () => {
    const r = evalModules({
      modules: [
        {
          file: "d.ts",
          options: { a: mkOption({ type: types.int, description: "An int.", default: 1 }) },
        },
      ],
    });
    expect(r.options.a.type.description).toBe("signed integer");
    expect(r.options.a.declarations).toEqual(["d.ts"]);
    expect(r.options.a.description).toBe("An int.");
    expect(r.options.a.default).toBe(1);
    expect(r.options.a.path).toBe("a");
  });
  it("function modules can read options", () => {
    const r = cfg(
      {
        options: { a: mkOption({ type: types.int, default: 1 }), n: mkOption({ type: types.int }) },
      },
      ({ options }) => ({
        config: {
          get n() {
            return options.a.highestPrio;
          },
        },
      }),
    );
    expect(r.n).toBe(1500);
  });
});
