import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  evalModules,
  forceDeep,
  mkMerge,
  mkOption,
  mkOverride,
  type OptionType,
  types,
} from "../src/index.js";

// biome-ignore lint/suspicious/noExplicitAny: the laws hold for option types of every value type
const evalX = (type: OptionType<any>, defs: unknown[], empty: unknown = undefined) =>
  forceDeep(
    evalModules({
      modules: [
        { options: { x: mkOption(empty === undefined ? { type } : { type, default: empty }) } },
        ...defs.map((x, i) => ({ file: `m${i}.ts`, config: { x } })),
      ],
    }).config.x,
  );

const shuffled = <T>(xs: T[], seed: number): T[] => {
  const a = [...xs];
  let s = seed;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
};

describe("merge laws (property tests)", () => {
  it("attrsOf with distinct keys does not depend on definition order", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.integer()),
        fc.nat(),
        (dict, seed) => {
          const defs = Object.entries(dict).map(([k, v]) => ({ [k]: v }));
          expect(evalX(types.attrsOf(types.int), shuffled(defs, seed), {})).toEqual(
            evalX(types.attrsOf(types.int), defs, {}),
          );
        },
      ),
    );
  });
  it("bool/str/int/enum definitions that agree give the same value in any order", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 6 }), fc.nat(), (v, n, seed) => {
        const defs = Array.from({ length: n }, () => v);
        expect(evalX(types.int, shuffled(defs, seed))).toBe(v);
      }),
    );
  });
  it("anything-merged attribute sets do not depend on order", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 6 }),
        fc.nat(),
        (keys, seed) => {
          const defs = keys.map((k, i) => ({ [k]: { n: i } }));
          expect(evalX(types.anything, shuffled(defs, seed), {})).toEqual(
            evalX(types.anything, defs, {}),
          );
        },
      ),
    );
  });
  it("mkMerge flattening is equivalent to separate modules", () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer(), { maxLength: 3 }), { maxLength: 5 }), (lists) => {
        const merged = evalX(types.listOf(types.int), [mkMerge(lists)], []);
        const separate = evalX(types.listOf(types.int), [...lists].reverse(), []);
        expect(merged).toEqual(separate);
      }),
    );
  });
  it("the lowest priority number wins", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1499 }), { minLength: 1, maxLength: 8 }),
        (prios) => {
          const min = Math.min(...prios);
          const defs = prios.map((p, i) => mkOverride(p, [i]));
          const winners = prios.map((p, i) => (p === min ? i : -1)).filter((i) => i >= 0);
          expect(evalX(types.listOf(types.int), defs, []).sort()).toEqual(winners.sort());
        },
      ),
    );
  });
  it("listOf length is the sum of the definitions' lengths", () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string(), { maxLength: 4 }), { maxLength: 6 }), (lists) => {
        expect(evalX(types.listOf(types.str), lists, []).length).toBe(
          lists.reduce((n, l) => n + l.length, 0),
        );
      }),
    );
  });
  it("type checks agree with the zod schema for ports", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -10, max: 70000 }), fc.double(), fc.string()), (v) => {
        expect(types.port.check(v)).toBe(types.port.zod.safeParse(v).success);
      }),
    );
  });
});
