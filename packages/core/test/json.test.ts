import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stableJson } from "../src/json.js";

/**
 * What render-procfile's processes.json and render-oci's images.json were before the direct
 * writer: JSON.stringify of a key-sorted copy.
 */
function sortedCopyJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

describe("stableJson", () => {
  it("writes what JSON.stringify of a key-sorted copy writes", () => {
    const values: unknown[] = [
      { b: 1, a: [3, { z: null, y: "x" }], c: {} },
      // Array indices come first in an object, in numeric order; "01" and "-1" are not indices.
      { b: 1, "10": "ten", "2": "two", "01": "zero-one", "-1": "minus", "4294967295": "big" },
      { "": "empty key", "\u00e9": 1, "\ud83d\ude00": 2, A: 3, a: 4, "a.b": 5 },
      { undef: undefined, fn: () => 1, kept: true, list: [undefined, () => 1, Symbol("s")] },
      { nums: [0, -0, 1.5, 1e21, Number.NaN, Number.POSITIVE_INFINITY, -3] },
      { text: 'quotes " \\ \n newline \t tab \u2028 $(rm -rf /) \u0000 nul \ue000' },
      [],
      {},
      [[], [[]], {}, [{}]],
      "just a string",
      42,
      null,
      { deep: { deeper: { deepest: [{ b: [1, 2], a: { d: 1, c: 2 } }] } } },
    ];
    for (const v of values) expect(stableJson(v)).toBe(sortedCopyJson(v));
  });

  it("writes what JSON.stringify of a key-sorted copy writes, for random data", () => {
    // Keys JS objects order specially (indices, near-indices, `__proto__`) mixed with others.
    const key = fc.oneof(
      fc.constantFrom("0", "1", "2", "10", "01", "-1", "1.5", "4294967294", "4294967295"),
      fc.constantFrom("__proto__", "constructor", "toString", "", "a", "B", "é", "😀", "a b"),
      fc.string({ maxLength: 6 }),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.oneof(fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null)),
        fc.constant(undefined),
        fc.array(tie("value"), { maxLength: 4 }),
        fc.dictionary(key, tie("value"), { maxKeys: 6 }),
      ),
    }));
    fc.assert(
      fc.property(value, (v) => stableJson(v) === sortedCopyJson(v)),
      { numRuns: 500, seed: 21 },
    );
  });

  it("sorts the keys of a process plan at every level", () => {
    const text = stableJson({ version: 1, processes: [{ name: "a", env: { Z: "1", A: "2" } }] });
    expect(text).toBe(
      '{\n  "processes": [\n    {\n      "env": {\n        "A": "2",\n        "Z": "1"\n      },\n      "name": "a"\n    }\n  ],\n  "version": 1\n}\n',
    );
  });
});
