import { describe, expect, it } from "vitest";
import { evalModules, ModuleError, mkOption, types } from "../src/index.js";
import { cfg, err } from "./helpers.js";

const service = types.submodule({
  options: {
    port: mkOption({ type: types.port }),
    command: mkOption({ type: types.listOf(types.str) }),
  },
});
const decl = {
  file: "core.ts",
  options: { services: mkOption({ type: types.attrsOf(service), default: {} }) },
};

describe("error messages", () => {
  it("conflicting definitions list every file with its value and the priority they share", () => {
    const e = err(
      () =>
        cfg(
          decl,
          { file: "nix2dream.config.ts", services: { api: { port: 8080 } } },
          { file: "modules/api.ts", services: { api: { port: 9090 } } },
        ).services.api.port,
    );
    expect(e).toBeInstanceOf(ModuleError);
    expect(e.code).toBe("CONFLICTING_DEFINITIONS");
    expect(e.message).toBe(
      "The option `services.api.port` has conflicting definitions: 8080 in nix2dream.config.ts, 9090 in modules/api.ts. They all have priority 100 (a plain definition is 100); give one another priority to choose it, e.g. mkForce (50) or mkDefault (1000).",
    );
    expect(e.optionPath).toBe("services.api.port");
    expect(e.files).toEqual(["nix2dream.config.ts", "modules/api.ts"]);
  });
  it("an undeclared option says it does not exist, where, and suggests the nearest", () => {
    const e = err(
      () =>
        cfg(decl, { file: "nix2dream.config.ts", services: { api: { prot: 80 } } }).services.api,
    );
    expect(e.code).toBe("UNDECLARED_OPTION");
    expect(e.message).toContain("`services.api.prot` does not exist");
    expect(e.message).toContain("nix2dream.config.ts");
    expect(e.message).toContain("Did you mean `services.api.port`?");
  });
  it("an undeclared top-level option is reported by evalModules", () => {
    const e = err(() => evalModules({ modules: [decl, { file: "x.ts", servics: {} }] }));
    expect(e.code).toBe("UNDECLARED_OPTION");
    expect(e.message).toContain("Did you mean `services`?");
  });
  it("an undeclared option far from any name has no suggestion", () => {
    const e = err(() => cfg(decl, { file: "x.ts", zzzzzzzz: 1 }));
    expect(e.message).not.toContain("Did you mean");
  });
  it("a type error names every rejected definition", () => {
    const e = err(
      () =>
        cfg(
          { options: { n: mkOption({ type: types.listOf(types.int) }) } },
          { file: "a.ts", n: 1 },
          { file: "b.ts", n: [2] },
          { file: "c.ts", n: "x" },
        ).n,
    );
    // In definition order (later modules first, as NixOS).
    expect(e.message).toContain('got "x" (a string) in c.ts, 1 (an integer) in a.ts.');
    expect(e.files).toEqual(["c.ts", "a.ts"]);
  });
  it("a type error names the path, expected type, value and file", () => {
    const e = err(
      () => cfg(decl, { file: "api.ts", services: { api: { port: "80" } } }).services.api.port,
    );
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.message).toContain("`services.api.port`");
    expect(e.message).toContain("16 bit unsigned integer");
    expect(e.message).toContain('"80"');
    expect(e.message).toContain("api.ts");
  });
  it("a used but undefined option says where it is declared", () => {
    const e = err(() => cfg(decl, { services: { api: { port: 1 } } }).services.api.command);
    expect(e.code).toBe("UNDEFINED_OPTION");
    expect(e.message).toContain("`services.api.command` is used but not defined");
  });
  it("huge values are truncated in messages", () => {
    const big = "x".repeat(10_000);
    const e = err(() => cfg({ options: { a: mkOption({ type: types.int }) } }, { a: big }).a);
    expect(e.message.length).toBeLessThan(400);
    expect(e.message).toContain("…");
  });
  it("nested values are printed compactly", () => {
    const e = err(
      () => cfg({ options: { a: mkOption({ type: types.str }) } }, { a: { b: [1, 2], c: "d" } }).a,
    );
    expect(e.message).toContain('{ b: [1, 2], c: "d" }');
  });
  it("option names that need quoting are quoted in paths", () => {
    const e = err(
      () => cfg(decl, { services: { "my.app": { port: "x" } } }).services["my.app"].port,
    );
    expect(e.optionPath).toBe('services."my.app".port');
  });
  it("submodule definitions inherit the file of the defining module", () => {
    const e = err(
      () => cfg(decl, { file: "defs.ts", services: { a: { port: -1 } } }).services.a.port,
    );
    expect(e.files).toEqual(["defs.ts"]);
  });
  it("errors are ModuleError instances with a stable name", () => {
    const e = err(() => cfg(decl, { nope: 1 }));
    expect(e.name).toBe("ModuleError");
    expect(e).toBeInstanceOf(Error);
  });
  it("a non-object definition of a namespace is a TYPE_MISMATCH", () => {
    const e = err(() => cfg({ options: { a: { b: mkOption({}) } } }, { file: "f.ts", a: 5 }));
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.message).toContain("f.ts");
  });
});
