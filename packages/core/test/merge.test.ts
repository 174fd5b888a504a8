import { describe, expect, it } from "vitest";
import { deepMerge } from "../src/index.js";

describe("deepMerge (every renderer's override merge but render-k8s's)", () => {
  it("merges objects key by key, replaces lists and scalars, deletes on null", () => {
    const base = { a: { b: 1, c: [1, 2] }, d: 1, e: "x" };
    const merged = deepMerge(base, { a: { c: [3] }, d: null, f: { g: true } });
    expect(merged).toEqual({ a: { b: 1, c: [3] }, e: "x", f: { g: true } });
    expect(Object.keys(merged)).toEqual(["a", "e", "f"]);
  });

  it("leaves both inputs unchanged", () => {
    const base = { a: { b: 1 } };
    const patch = { a: { b: 2, c: null } };
    deepMerge(base, patch);
    expect(base).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { b: 2, c: null } });
  });

  it("keeps base for an undefined patch and takes a non-object patch whole", () => {
    expect(deepMerge({ a: 1 }, undefined)).toEqual({ a: 1 });
    expect(deepMerge({ a: 1 }, [1])).toEqual([1]);
    expect(deepMerge("x", { a: 1 })).toEqual({ a: 1 });
  });
});
