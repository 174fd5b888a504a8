import { describe, expect, it } from "vitest";
import { defineModule, evalModules, type Module, mkForce, mkOption, types } from "../src/index.js";
import { cfg, err } from "./helpers.js";

const list = {
  file: "decl.ts",
  options: { xs: mkOption({ type: types.listOf(types.str), default: [] }) },
};

describe("module structure", () => {
  it("a module without options or config is all config (shorthand)", () => {
    expect(cfg(list, { xs: ["a"] }).xs).toEqual(["a"]);
  });
  it("a module with config puts definitions there", () => {
    expect(cfg(list, { config: { xs: ["a"] } }).xs).toEqual(["a"]);
  });
  it("a function module receives config, options, lib, moduleType, extendModules and specialArgs", () => {
    let seen: string[] = [];
    evalModules({
      modules: [
        (args) => {
          seen = Object.keys(args).sort();
          return {};
        },
      ],
      specialArgs: { pkgs: 1 },
    });
    expect(seen).toEqual(["config", "extendModules", "lib", "moduleType", "options", "pkgs"]);
  });
  it("specialArgs reach imported function modules", () => {
    // biome-ignore lint/suspicious/noExplicitAny: module arguments of any shape
    const e = err(() => cfg(list, { imports: [({ tag }: any) => ({ xs: [tag] })] } as Module));
    expect(e.code).toBe("MISSING_ARGUMENT");
    const r2 = evalModules({
      // biome-ignore lint/suspicious/noExplicitAny: module arguments of any shape
      modules: [list, { imports: [({ tag }: any) => ({ xs: [tag] })] }],
      specialArgs: { tag: "t" },
    });
    expect(r2.config.xs).toEqual(["t"]);
  });
  it("imports are followed", () => {
    expect(cfg(list, { imports: [{ imports: [{ xs: ["deep"] }] }] }).xs).toEqual(["deep"]);
  });
  it("the same anonymous module imported three times counts three times (keyed by position)", () => {
    const m = { xs: ["x"] };
    expect(cfg(list, { imports: [m, m] }, { imports: [m] }).xs).toEqual(["x", "x", "x"]);
  });
  it("a module with its own file (a module file) imported twice counts once", () => {
    const m = defineModule("m.ts", { xs: ["once"] });
    expect(cfg(list, { imports: [m, m] }, { imports: [m] }).xs).toEqual(["once"]);
  });
  it("an anonymous import cycle terminates", () => {
    // biome-ignore lint/suspicious/noExplicitAny: a cyclic module built by assignment
    const a: any = { xs: ["a"] };
    a.imports = [{ imports: [a] }];
    expect(cfg(list, a).xs).toEqual(["a"]);
  });
  it("modules with the same key count once", () => {
    expect(cfg(list, { key: "k", xs: ["a"] }, { key: "k", xs: ["b"] }).xs).toEqual(["a"]);
  });
  it("inline modules without a key are all kept", () => {
    expect(cfg(list, { xs: ["a"] }, { xs: ["a"] }).xs).toEqual(["a", "a"]);
  });
  it("import cycles terminate", () => {
    // biome-ignore lint/suspicious/noExplicitAny: cyclic modules built by assignment
    const a: any = { key: "a", xs: ["a"] };
    // biome-ignore lint/suspicious/noExplicitAny: cyclic modules built by assignment
    const b: any = { key: "b", xs: ["b"], imports: [a] };
    a.imports = [b];
    expect(cfg(list, a).xs.sort()).toEqual(["a", "b"]);
  });
  it("disabledModules by key removes the module", () => {
    expect(cfg(list, { key: "m", xs: ["a"] }, { disabledModules: ["m"] }).xs).toEqual([]);
  });
  it("disabledModules by value removes the module", () => {
    const m = { xs: ["a"] };
    expect(cfg(list, m, { disabledModules: [m] }).xs).toEqual([]);
  });
  it("disabledModules by file removes the module", () => {
    expect(cfg(list, { file: "old.ts", xs: ["a"] }, { disabledModules: ["old.ts"] }).xs).toEqual(
      [],
    );
  });
  it("disabling a module removes its imports", () => {
    const child = { xs: ["child"] };
    const parent = { key: "p", imports: [child] };
    expect(cfg(list, parent, { disabledModules: ["p"] }).xs).toEqual([]);
  });
  it("a disabled module's import stays when reachable elsewhere", () => {
    const child = { xs: ["child"] };
    const parent = { key: "p", imports: [child] };
    expect(cfg(list, parent, { imports: [child] }, { disabledModules: ["p"] }).xs).toEqual([
      "child",
    ]);
  });
  it("a module can disable the module that declares options", () => {
    const e = err(() =>
      cfg({ key: "decl", ...list }, { xs: ["a"] }, { disabledModules: ["decl"] }),
    );
    expect(e.code).toBe("UNDECLARED_OPTION");
  });
  it("defineModule sets the file from import.meta.url", () => {
    const m = defineModule(import.meta.url, { xs: 1 });
    const e = err(() => cfg(list, m).xs);
    expect(e.message).toContain("modules.test.ts");
    expect(e.files[0]).toMatch(/modules\.test\.ts$/);
  });
  it("defineModule on a function sets the file of the returned module", () => {
    const m = defineModule("modules/api.ts", () => ({ xs: 1 }));
    expect(err(() => cfg(list, m).xs).files).toEqual(["modules/api.ts"]);
  });
  it("imported modules without a file inherit the importer's file", () => {
    expect(err(() => cfg(list, { file: "parent.ts", imports: [{ xs: 1 }] }).xs).files).toEqual([
      "parent.ts",
    ]);
  });
  it("inline modules without a file are named by position", () => {
    expect(err(() => cfg(list, { xs: 1 }).xs).message).toContain("<inline module #2>");
  });
  it("evalModules prefix shows in paths", () => {
    const r = evalModules({ modules: [list, { xs: 1 }], prefix: ["outer"] });
    expect(err(() => r.config.xs).optionPath).toBe("outer.xs");
  });
  it("a lazy config object of another evaluation is a shorthand module (its values read lazily)", () => {
    // Lazy config objects share their getters; a shorthand module's keys are copied onto a new
    // object with their getters, which must still find their values there.
    const pair = {
      options: {
        a: mkOption({ type: types.int, default: 1 }),
        b: mkOption({ type: types.int, default: 2 }),
      },
    };
    const first = evalModules({ modules: [pair, { a: 10 }] }).config;
    expect(cfg(pair, first)).toEqual({ a: 10, b: 2 });
    const sub = cfg(
      { options: { s: mkOption({ type: types.submodule(pair), default: {} }) } },
      { s: { b: 5 } },
    ).s;
    expect(cfg(pair, sub, { a: mkForce(7) })).toEqual({ a: 7, b: 5 });
    const attrs = cfg(
      { options: { m: mkOption({ type: types.attrsOf(types.int), default: {} }) } },
      { m: { a: 3, b: 4 } },
    ).m;
    expect(cfg(pair, attrs)).toEqual({ a: 3, b: 4 });
  });
});

describe("invalid modules", () => {
  it("a module that is not an object is INVALID_MODULE", () => {
    expect(err(() => cfg(42 as never)).code).toBe("INVALID_MODULE");
  });
  it("a function module returning a non-object is INVALID_MODULE naming the file", () => {
    const e = err(() => cfg(defineModule("bad.ts", (() => 5) as never)));
    expect(e.code).toBe("INVALID_MODULE");
  });
  it("top-level config keys next to options are INVALID_MODULE", () => {
    const e = err(() => cfg({ file: "m.ts", options: {}, xs: [] }));
    expect(e.code).toBe("INVALID_MODULE");
    expect(e.message).toContain("`xs`");
  });
  it("imports must be a list", () => {
    expect(err(() => cfg({ imports: {} as never })).code).toBe("INVALID_MODULE");
  });
  it("an import that is not a module names the importer", () => {
    const e = err(() => cfg({ file: "imp.ts", imports: ["nope" as never] }));
    expect(e.message).toContain("imp.ts");
  });
  it("a bare type in options is INVALID_MODULE with a hint", () => {
    const e = err(() => cfg({ file: "o.ts", options: { a: types.str as never } }));
    expect(e.code).toBe("INVALID_MODULE");
    expect(e.message).toContain("mkOption");
  });
  it("a module function that throws is reported with its file", () => {
    const e = err(() =>
      cfg(
        defineModule("thrower.ts", () => {
          throw new Error("oops");
        }),
      ),
    );
    expect(e.message).toContain("thrower.ts");
    expect(e.message).toContain("oops");
  });
  it("evalModules without a module list is INVALID_MODULE", () => {
    expect(err(() => evalModules({} as never)).code).toBe("INVALID_MODULE");
  });
});
