import { describe, expect, it } from "vitest";
import { stableJson } from "../src/stable-json.js";

/** What processes.json was before the direct writer: JSON.stringify of a key-sorted copy. */
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

  it("sorts the keys of a process plan at every level", () => {
    const text = stableJson({ version: 1, processes: [{ name: "a", env: { Z: "1", A: "2" } }] });
    expect(text).toBe(
      '{\n  "processes": [\n    {\n      "env": {\n        "A": "2",\n        "Z": "1"\n      },\n      "name": "a"\n    }\n  ],\n  "version": 1\n}\n',
    );
  });
});
