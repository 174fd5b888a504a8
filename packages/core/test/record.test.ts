import { describe, expect, it } from "vitest";
import { emptyRecord, packedMap, setEntry } from "../src/record.js";

describe("@nix2dream/core/record", () => {
  it("makes records that cannot be told from {}", () => {
    const r = emptyRecord<number>();
    r.b = 2;
    r.a = 1;
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(Object.keys(r)).toEqual(["b", "a"]);
    expect(r).toStrictEqual({ b: 2, a: 1 });
    expect(JSON.stringify(r)).toBe('{"b":2,"a":1}');
  });

  it("sets __proto__ as an own key, as Object.fromEntries does", () => {
    const r = emptyRecord<string>();
    setEntry(r, "__proto__", "x");
    setEntry(r, "k", "v");
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(Object.entries(r)).toEqual(
      Object.entries(
        Object.fromEntries([
          ["__proto__", "x"],
          ["k", "v"],
        ]),
      ),
    );
  });

  it("maps as Array.prototype.map does, passing the element only", () => {
    const seen: unknown[][] = [];
    const out = packedMap(["a", "b", "c"], (...args: unknown[]) => {
      seen.push(args);
      return `${args[0]}!`;
    });
    expect(out).toEqual(["a!", "b!", "c!"]);
    expect(seen).toEqual([["a"], ["b"], ["c"]]);
    expect(packedMap([], (x: never) => x)).toEqual([]);
  });
});
