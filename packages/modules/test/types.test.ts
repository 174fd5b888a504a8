import { describe, expect, it } from "vitest";
import { z } from "zod";
import { fromZod, mkDefault, mkIf, mkOption, type OptionType, types } from "../src/index.js";
import { cfg, err } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: option types of every value type
const one = (type: OptionType<any>, ...defs: unknown[]) =>
  cfg(
    { file: "decl.ts", options: { x: mkOption({ type }) } },
    ...defs.map((x, i) => ({ file: `m${i + 1}.ts`, x })),
  ).x;

describe("leaf types", () => {
  it("str accepts a string", () => expect(one(types.str, "a")).toBe("a"));
  it("str rejects a number", () => expect(err(() => one(types.str, 1)).code).toBe("TYPE_MISMATCH"));
  it("str conflicts unless equal", () =>
    expect(err(() => one(types.str, "a", "b")).code).toBe("CONFLICTING_DEFINITIONS"));
  it("str merges equal definitions", () => expect(one(types.str, "a", "a")).toBe("a"));
  it("int accepts integers", () => expect(one(types.int, -3)).toBe(-3));
  it("int rejects floats", () => expect(err(() => one(types.int, 1.5)).code).toBe("TYPE_MISMATCH"));
  it("float accepts fractions", () => expect(one(types.float, 1.5)).toBe(1.5));
  it("float rejects strings", () =>
    expect(err(() => one(types.float, "1")).code).toBe("TYPE_MISMATCH"));
  it("bool accepts booleans", () => expect(one(types.bool, false)).toBe(false));
  it("bool conflicts on true and false", () =>
    expect(err(() => one(types.bool, true, false)).code).toBe("CONFLICTING_DEFINITIONS"));
  it("bool rejects 0", () => expect(err(() => one(types.bool, 0)).code).toBe("TYPE_MISMATCH"));
  it("port accepts 0 and 65535", () => {
    expect(one(types.port, 0)).toBe(0);
    expect(one(types.port, 65535)).toBe(65535);
  });
  it("port rejects 65536", () =>
    expect(err(() => one(types.port, 65536)).code).toBe("TYPE_MISMATCH"));
  it("port rejects -1", () => expect(err(() => one(types.port, -1)).code).toBe("TYPE_MISMATCH"));
  it("ints.between checks the range", () => {
    expect(one(types.ints.between(1, 3), 2)).toBe(2);
    expect(err(() => one(types.ints.between(1, 3), 4)).message).toContain("between 1 and 3");
  });
  it("ints.unsigned accepts 0", () => expect(one(types.ints.unsigned, 0)).toBe(0));
  it("ints.unsigned rejects -1", () =>
    expect(err(() => one(types.ints.unsigned, -1)).code).toBe("TYPE_MISMATCH"));
  it("ints.positive rejects 0", () =>
    expect(err(() => one(types.ints.positive, 0)).code).toBe("TYPE_MISMATCH"));
  it("path is a string", () => expect(one(types.path, "./data")).toBe("./data"));
  it("lines joins with newlines", () => expect(one(types.lines, "a", "b")).toBe("b\na"));
  it("enum accepts a listed value", () => expect(one(types.enum(["a", "b"]), "b")).toBe("b"));
  it("enum rejects another value and suggests the closest", () => {
    const e = err(() => one(types.enum(["always", "never"]), "alway"));
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.message).toContain('did you mean "always"');
  });
  it("enum conflicts unless equal", () =>
    expect(err(() => one(types.enum(["a", "b"]), "a", "b")).code).toBe("CONFLICTING_DEFINITIONS"));
  it("anything merges attribute sets recursively", () => {
    expect(one(types.anything, { a: { b: 1 } }, { a: { c: 2 } })).toEqual({ a: { b: 1, c: 2 } });
  });
  it("anything conflicts on different scalars", () =>
    expect(err(() => one(types.anything, 1, 2)).code).toBe("CONFLICTING_DEFINITIONS"));
  it("anything conflicts on different kinds", () =>
    expect(err(() => one(types.anything, 1, "1")).code).toBe("CONFLICTING_DEFINITIONS"));
  it("anything honours mkIf inside attribute sets", () => {
    expect(one(types.anything, { a: mkIf(false, 1), b: 2 })).toEqual({ b: 2 });
  });
  it("raw accepts one definition as is", () => {
    const v = { a: mkIf(false, 1) };
    expect(one(types.raw, v)).toBe(v);
  });
  it("raw rejects two definitions", () =>
    expect(err(() => one(types.raw, 1, 1)).code).toBe("CONFLICTING_DEFINITIONS"));
  it("attrs merges shallowly, later definitions winning", () => {
    expect(one(types.attrs, { a: 1, b: { x: 1 } }, { b: { y: 2 } })).toEqual({ a: 1, b: { x: 1 } });
  });
  it("attrs rejects a list", () =>
    expect(err(() => one(types.attrs, [])).code).toBe("TYPE_MISMATCH"));
  it("unspecified concatenates lists", () =>
    expect(one(types.unspecified, [1], [2])).toEqual([2, 1]));
  it("unspecified ors booleans", () => expect(one(types.unspecified, false, true)).toBe(true));
});

describe("composite types", () => {
  it("nullOr accepts null", () => expect(one(types.nullOr(types.int), null)).toBe(null));
  it("nullOr accepts the element type", () => expect(one(types.nullOr(types.int), 3)).toBe(3));
  it("nullOr rejects null together with a value", () => {
    const e = err(() => one(types.nullOr(types.int), null, 3));
    expect(e.code).toBe("CONFLICTING_DEFINITIONS");
    expect(e.message).toContain("both null and not null");
  });
  it("either takes the first branch every definition fits", () =>
    expect(one(types.either(types.int, types.str), 1)).toBe(1));
  it("either takes the second branch", () =>
    expect(one(types.either(types.int, types.str), "a")).toBe("a"));
  it("either with definitions fitting different branches is an error", () => {
    expect(err(() => one(types.either(types.int, types.str), 1, "a")).code).toBe(
      "CONFLICTING_DEFINITIONS",
    );
  });
  it("either of lists concatenates when all are lists", () => {
    expect(one(types.either(types.str, types.listOf(types.str)), ["a"], ["b"])).toEqual(["b", "a"]);
  });
  it("oneOf accepts any listed type", () =>
    expect(one(types.oneOf([types.bool, types.int, types.str]), "x")).toBe("x"));
  it("oneOf rejects others", () =>
    expect(err(() => one(types.oneOf([types.bool, types.int]), "x")).code).toBe("TYPE_MISMATCH"));
  it("listOf concatenates", () =>
    expect(one(types.listOf(types.int), [1], [2, 3])).toEqual([2, 3, 1]));
  it("listOf checks elements and names the entry", () => {
    const e = err(() => one(types.listOf(types.int), [1, "x"]));
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.message).toContain("entry 2");
  });
  it("listOf drops mkIf false elements", () =>
    expect(one(types.listOf(types.int), [1, mkIf(false, 2), 3])).toEqual([1, 3]));
  it("listOf rejects a non-list", () =>
    expect(err(() => one(types.listOf(types.int), 1)).code).toBe("TYPE_MISMATCH"));
  it("attrsOf merges key by key", () => {
    expect(one(types.attrsOf(types.int), { a: 1 }, { b: 2 })).toEqual({ a: 1, b: 2 });
  });
  it("attrsOf conflicts on one key", () => {
    const e = err(() => one(types.attrsOf(types.int), { a: 1 }, { a: 2 }).a);
    expect(e.optionPath).toBe("x.a");
  });
  it("attrsOf applies priorities per key", () => {
    expect(one(types.attrsOf(types.int), { a: mkDefault(1) }, { a: 2 })).toEqual({ a: 2 });
  });
  it("attrsOf drops keys whose only definition is mkIf false", () => {
    expect(Object.keys(one(types.attrsOf(types.int), { a: mkIf(false, 1), b: 2 }))).toEqual(["b"]);
  });
  it("attrsOf gives the same sorted set for few keys and for many (one pass or per key)", () => {
    const defs = (n: number) => [
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${n - i}`, mkDefault(i)])),
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i + 1}`, mkIf(i % 2 === 0, i)])),
    ];
    for (const n of [4, 40]) {
      const v = one(types.attrsOf(types.int), ...defs(n));
      const keys = Array.from({ length: n }, (_, i) => `k${i + 1}`).sort();
      expect(Object.keys(v)).toEqual(keys);
      expect(v.k1).toBe(0);
      expect(v.k2).toBe(n - 2);
    }
  });
  it("a rejected value of a small attrsOf names its key and file", () => {
    const e = err(() => one(types.attrsOf(types.int), { a: 1 }, { b: "x" }).b);
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.optionPath).toBe("x.b");
    expect(e.message).toContain("m2.ts");
  });
  it("lazyAttrsOf keeps keys whose only definition is mkIf false", () => {
    const v = one(types.lazyAttrsOf(types.int), { a: mkIf(false, 1), b: 2 });
    expect(Object.keys(v)).toEqual(["a", "b"]);
    expect(err(() => v.a).code).toBe("UNDEFINED_OPTION");
  });
  it("lazyAttrsOf does not evaluate values that are not read", () => {
    const v = one(types.lazyAttrsOf(types.int), {
      get a(): number {
        throw new Error("never");
      },
      b: 2,
    });
    expect(v.b).toBe(2);
  });
  it("attrsOf keys are sorted", () =>
    expect(Object.keys(one(types.attrsOf(types.int), { b: 1, a: 2 }))).toEqual(["a", "b"]));
  it("attrsOf checks values and names the key", () => {
    const e = err(() => one(types.attrsOf(types.int), { k: "v" }).k);
    expect(e.optionPath).toBe("x.k");
  });
  it("functionTo merges the results of every definition", () => {
    const f = one(
      types.functionTo(types.listOf(types.int)),
      (n: number) => [n],
      (n: number) => [n + 1],
    );
    expect(f(1)).toEqual([2, 1]);
  });
  it("functionTo rejects a non-function", () =>
    expect(err(() => one(types.functionTo(types.int), 1)).code).toBe("TYPE_MISMATCH"));
  it("fromZod validates with the schema", () => {
    const t = fromZod(z.string().email(), "email address");
    expect(one(t, "a@example.com")).toBe("a@example.com");
    const e = err(() => one(t, "nope"));
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.message).toContain("email address");
  });
  it("fromZod returns the parsed output", () => {
    expect(one(fromZod(z.string().transform((s) => s.length)), "abc")).toBe(3);
  });
  it("fromZod conflicts on unequal definitions", () => {
    expect(err(() => one(fromZod(z.object({ a: z.number() })), { a: 1 }, { a: 2 })).code).toBe(
      "CONFLICTING_DEFINITIONS",
    );
  });
  it("fromZod accepts equal object definitions", () => {
    expect(one(fromZod(z.object({ a: z.number() })), { a: 1 }, { a: 1 })).toEqual({ a: 1 });
  });
  it("every type carries a zod schema", () => {
    for (const t of [
      types.str,
      types.int,
      types.port,
      types.listOf(types.str),
      types.attrsOf(types.int),
      types.nullOr(types.bool),
    ]) {
      expect(t.zod).toBeDefined();
    }
    expect(types.port.zod.safeParse(70000).success).toBe(false);
    expect(types.enum(["a"]).zod.safeParse("a").success).toBe(true);
  });
  it("ints.between rejects an empty range", () => {
    expect(() => types.ints.between(3, 1)).toThrow(/lower bound/);
  });
});

describe("equality of definitions", () => {
  it("two different dates conflict in anything", () => {
    expect(err(() => one(types.anything, new Date(0), new Date(1))).code).toBe(
      "CONFLICTING_DEFINITIONS",
    );
  });
  it("the same instance twice is fine", () => {
    const d = new Date(0);
    expect(one(types.anything, d, d)).toBe(d);
  });
  it("equal lists of attribute sets are equal", () => {
    expect(one(types.listOf(types.anything), [{ a: [1] }])).toEqual([{ a: [1] }]);
    expect(one(fromZod(z.array(z.object({ a: z.number() }))), [{ a: 1 }], [{ a: 1 }])).toEqual([
      { a: 1 },
    ]);
  });
});

describe("attrsOf of a simple type whose values are known at once", () => {
  const descriptor = (o: object, k: string) => Object.getOwnPropertyDescriptor(o, k);

  it("is a plain object of its values, keys sorted, mkIf resolved", () => {
    const x = one(
      types.attrsOf(types.str),
      { b: "1", a: mkDefault("0") },
      { a: "2", c: mkIf(false, "3"), d: mkIf(true, "4") },
    );
    expect(x).toEqual({ a: "2", b: "1", d: "4" });
    expect(Object.keys(x)).toEqual(["a", "b", "d"]);
    expect(descriptor(x, "a")).toEqual({
      value: "2",
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });

  it("stays lazy when a value fails: the others are read, the failing one fails when read", () => {
    const x = one(types.attrsOf(types.int), { a: 1, b: 2 }, { b: 3 });
    expect(descriptor(x, "a")?.get).toBeTypeOf("function");
    expect(x.a).toBe(1);
    const e = err(() => x.b);
    expect(e.optionPath).toBe("x.b");
    expect([...e.files].sort()).toEqual(["m1.ts", "m2.ts"]);
  });

  it("evaluates an mkIf condition once, also when the set then stays lazy", () => {
    let calls = 0;
    const cond = () => {
      calls++;
      return true;
    };
    const x = one(types.attrsOf(types.int), { a: mkIf(cond, 1), b: "not an int" });
    expect(x.a).toBe(1);
    expect(err(() => x.b).code).toBe("TYPE_MISMATCH");
    expect(calls).toBe(1);
  });

  it("reads a definition behind a getter once, when the set is read (as the lazy set does)", () => {
    let reads = 0;
    const x = one(types.attrsOf(types.int), {
      get a() {
        reads++;
        return 1;
      },
    });
    expect(reads).toBe(1);
    expect(x).toEqual({ a: 1 });
    expect(reads).toBe(1);
  });
});
