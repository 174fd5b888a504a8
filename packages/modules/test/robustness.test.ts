import { describe, expect, it } from "vitest";
import { checkAssertions, mkMerge, mkOption, mkOrder, mkOverride, types } from "../src/index.js";
import { cfg, err } from "./helpers.js";

describe("user mistakes are ModuleErrors, never bare TypeErrors", () => {
  it("listOf of a non-type", () =>
    expect(err(() => types.listOf(undefined as never)).code).toBe("INVALID_MODULE"));
  it("attrsOf of a non-type", () =>
    expect(err(() => types.attrsOf("str" as never)).message).toContain("types.attrsOf"));
  it("nullOr of a non-type", () =>
    expect(err(() => types.nullOr({} as never)).code).toBe("INVALID_MODULE"));
  it("either of a non-type", () =>
    expect(err(() => types.either(types.str, 1 as never)).code).toBe("INVALID_MODULE"));
  it("enum of a non-list", () =>
    expect(err(() => types.enum("ab" as never)).code).toBe("INVALID_MODULE"));
  it("mkOverride with a non-numeric priority", () =>
    expect(err(() => mkOverride("high" as never, 1)).code).toBe("INVALID_MODULE"));
  it("mkOrder with a non-numeric priority", () =>
    expect(err(() => mkOrder(Number.NaN, 1)).code).toBe("INVALID_MODULE"));
  it("mkMerge of a non-list", () =>
    expect(err(() => mkMerge({} as never)).code).toBe("INVALID_MODULE"));
  it("checkAssertions of nothing", () =>
    expect(err(() => checkAssertions(undefined)).code).toBe("INVALID_MODULE"));
  it("reading a missing service in a getter names the option", () => {
    const e = err(
      () =>
        cfg(
          {
            options: {
              a: mkOption({ type: types.int }),
              s: mkOption({ type: types.attrsOf(types.int), default: {} }),
            },
          },
          ({ config }) => ({
            config: {
              get a() {
                return config.s.missing.port;
              },
            },
          }),
        ).a,
    );
    expect(e.code).toBe("EVALUATION_ERROR");
    expect(e.optionPath).toBe("a");
    expect(e.cause).toBeInstanceOf(TypeError);
  });
  it("a config getter whose structure reads config is INFINITE_RECURSION, not a hang", () => {
    const e = err(() =>
      cfg(
        {
          options: {
            a: mkOption({ type: types.int, default: 1 }),
            b: mkOption({ type: types.int, default: 0 }),
          },
        },
        ({ config }) => ({
          get config() {
            return config.a > 0 ? { b: 1 } : {};
          },
        }),
      ),
    );
    expect(e.code).toBe("INFINITE_RECURSION");
  });
  it("a hostile key named __proto__ stays a plain key", () => {
    const defs = JSON.parse('{"__proto__": 1, "constructor": 2}');
    const r = cfg({ options: { m: mkOption({ type: types.attrsOf(types.int) }) } }, { m: defs });
    expect(Object.keys(r.m)).toEqual(["__proto__", "constructor"]);
    expect(r.m.constructor).toBe(2);
  });
  it("option names with dots and spaces are quoted in messages", () => {
    const e = err(
      () =>
        cfg(
          { options: { m: mkOption({ type: types.attrsOf(types.int) }) } },
          { m: { "a b.c": "x" } },
        ).m["a b.c"],
    );
    expect(e.message).toContain('`m."a b.c"`');
  });
});
