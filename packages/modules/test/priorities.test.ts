import { describe, expect, it } from "vitest";
import {
  evalModules,
  mkAfter,
  mkBefore,
  mkDefault,
  mkForce,
  mkIf,
  mkMerge,
  mkOption,
  mkOptionDefault,
  mkOrder,
  mkOverride,
  type OptionType,
  types,
} from "../src/index.js";
import { cfg, err } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: declarations of option types of every value type
const decl = (type: OptionType<any> = types.int, extra: object = {}) => ({
  file: "decl.ts",
  options: { x: mkOption({ type, ...extra }) },
});

describe("priorities", () => {
  it("uses the default when nothing defines the option", () => {
    expect(cfg(decl(types.int, { default: 1 })).x).toBe(1);
  });
  it("a plain definition beats the default", () => {
    expect(cfg(decl(types.int, { default: 1 }), { x: 2 }).x).toBe(2);
  });
  it("a plain definition beats mkDefault", () => {
    expect(cfg(decl(), { x: mkDefault(1) }, { x: 2 }).x).toBe(2);
  });
  it("mkDefault beats the option default", () => {
    expect(cfg(decl(types.int, { default: 1 }), { x: mkDefault(3) }).x).toBe(3);
  });
  it("mkForce beats a plain definition", () => {
    expect(cfg(decl(), { x: mkForce(1) }, { x: 2 }).x).toBe(1);
  });
  it("mkOverride with a lower number wins", () => {
    expect(cfg(decl(), { x: mkOverride(10, 1) }, { x: mkOverride(20, 2) }).x).toBe(1);
  });
  it("mkOptionDefault has the priority of a default", () => {
    const r = err(() => cfg(decl(types.int, { default: 1 }), { x: mkOptionDefault(2) }).x);
    expect(r.code).toBe("CONFLICTING_DEFINITIONS");
  });
  it("definitions at the same winning priority must agree for int", () => {
    expect(err(() => cfg(decl(), { x: mkForce(1) }, { x: mkForce(2) }).x).code).toBe(
      "CONFLICTING_DEFINITIONS",
    );
  });
  it("equal definitions at the same priority are fine", () => {
    expect(cfg(decl(), { x: 5 }, { x: 5 }).x).toBe(5);
  });
  it("losing definitions are not type-checked", () => {
    expect(cfg(decl(), { x: mkDefault("not an int") }, { x: 2 }).x).toBe(2);
  });
  it("only the winning priority's list definitions are concatenated", () => {
    expect(
      cfg(decl(types.listOf(types.int)), { x: mkDefault([1]) }, { x: [2] }, { x: [3] }).x,
    ).toEqual([3, 2]);
  });
  it("a whole mkDefault attribute set loses to a plain one", () => {
    const r = cfg(decl(types.attrsOf(types.int)), { x: mkDefault({ a: 1 }) }, { x: { b: 2 } });
    expect(r.x).toEqual({ b: 2 });
  });
  it("a whole mkDefault submodule definition loses to a plain one", () => {
    const sub = types.submodule({
      options: {
        a: mkOption({ type: types.int, default: 0 }),
        b: mkOption({ type: types.int, default: 0 }),
      },
    });
    const r = cfg(decl(sub), { x: mkDefault({ a: 1 }) }, { x: { b: 2 } });
    expect(r.x).toEqual({ a: 0, b: 2 });
  });
  it("mkOverride inside mkIf keeps its priority", () => {
    expect(cfg(decl(), { x: mkIf(true, mkForce(1)) }, { x: 2 }).x).toBe(1);
  });
  it("mkIf inside mkOverride keeps its priority", () => {
    expect(cfg(decl(), { x: mkForce(mkIf(true, 1)) }, { x: 2 }).x).toBe(1);
  });
  it("a false mkForce does not take part", () => {
    expect(cfg(decl(), { x: mkForce(mkIf(false, 1)) }, { x: 2 }).x).toBe(2);
  });
  it("highestPrio reports the winning priority", () => {
    const r = evalModules({ modules: [decl(types.int, { default: 1 }), { x: mkDefault(2) }] });
    expect(r.options.x.highestPrio).toBe(1000);
  });
});

describe("mkIf and mkMerge", () => {
  it("mkIf true defines", () => {
    expect(cfg(decl(), { x: mkIf(true, 1) }).x).toBe(1);
  });
  it("mkIf false leaves the default", () => {
    expect(cfg(decl(types.int, { default: 7 }), { x: mkIf(false, 1) }).x).toBe(7);
  });
  it("mkIf is pushed down into attribute sets", () => {
    const m = {
      file: "d.ts",
      options: {
        a: mkOption({ type: types.int, default: 0 }),
        b: mkOption({ type: types.int, default: 0 }),
      },
    };
    expect(cfg(m, { config: mkIf(true, { a: 1, b: 2 }) })).toEqual({ a: 1, b: 2 });
  });
  it("mkIf conditions may be thunks reading config", () => {
    const m = {
      options: {
        on: mkOption({ type: types.bool, default: true }),
        x: mkOption({ type: types.int, default: 0 }),
      },
    };
    const r = cfg(m, ({ config }) => ({ config: { x: mkIf(() => config.on, 5) } }));
    expect(r.x).toBe(5);
  });
  it("mkIf reading config eagerly at call time works", () => {
    const m = {
      options: {
        on: mkOption({ type: types.bool, default: true }),
        x: mkOption({ type: types.int, default: 0 }),
      },
    };
    const r = cfg(m, ({ config }) => ({ config: { x: mkIf(config.on, 5) } }));
    expect(r.x).toBe(5);
  });
  it("a condition is not evaluated when the option is not read", () => {
    const m = {
      options: {
        x: mkOption({ type: types.int, default: 0 }),
        y: mkOption({ type: types.int, default: 0 }),
      },
    };
    const r = cfg(m, {
      x: mkIf(() => {
        throw new Error("boom");
      }, 1),
      y: 2,
    });
    expect(r.y).toBe(2);
  });
  it("a non-boolean condition is an INVALID_CONDITION error naming the option and file", () => {
    const e = err(() => cfg(decl(), { file: "c.ts", x: mkIf(1 as never, 1) }).x);
    expect(e.code).toBe("INVALID_CONDITION");
    expect(e.message).toContain("`x`");
    expect(e.message).toContain("c.ts");
  });
  it("mkMerge contributes each element", () => {
    expect(cfg(decl(types.listOf(types.int)), { x: mkMerge([[1], [2]]) }).x).toEqual([1, 2]);
  });
  it("mkMerge of attribute sets at the top level", () => {
    const m = { options: { a: mkOption({ type: types.int }), b: mkOption({ type: types.int }) } };
    expect(cfg(m, { config: mkMerge([{ a: 1 }, { b: 2 }]) })).toEqual({ a: 1, b: 2 });
  });
  it("nested mkMerge inside mkIf", () => {
    expect(
      cfg(decl(types.listOf(types.int)), { x: mkIf(true, mkMerge([[1], mkIf(false, [2]), [3]])) })
        .x,
    ).toEqual([1, 3]);
  });
  it("mkIf false attribute-set definitions define nothing", () => {
    expect(
      cfg(decl(types.attrsOf(types.int), { default: {} }), { x: mkIf(false, { a: 1 }) }).x,
    ).toEqual({});
  });
});

describe("ordering", () => {
  it("mkBefore puts list items first", () => {
    expect(cfg(decl(types.listOf(types.int)), { x: [1] }, { x: mkBefore([0]) }).x).toEqual([0, 1]);
  });
  it("mkAfter puts list items last", () => {
    expect(cfg(decl(types.listOf(types.int)), { x: mkAfter([9]) }, { x: [1] }).x).toEqual([1, 9]);
  });
  it("mkOrder sorts by number", () => {
    expect(
      cfg(
        decl(types.listOf(types.int)),
        { x: mkOrder(3, [3]) },
        { x: mkOrder(1, [1]) },
        { x: mkOrder(2, [2]) },
      ).x,
    ).toEqual([1, 2, 3]);
  });
  it("lines honour mkBefore and mkAfter", () => {
    expect(cfg(decl(types.lines), { x: mkAfter("c") }, { x: "b" }, { x: mkBefore("a") }).x).toBe(
      "a\nb\nc",
    );
  });
  it("sorting is stable for equal orders (later modules first, as in NixOS)", () => {
    expect(cfg(decl(types.listOf(types.int)), { x: [1] }, { x: [2] }).x).toEqual([2, 1]);
  });
  it("imported modules' definitions come before the importer's", () => {
    const child = { x: [1] };
    expect(cfg(decl(types.listOf(types.int)), { imports: [child], x: [2] }).x).toEqual([1, 2]);
  });
});
