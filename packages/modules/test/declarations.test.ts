import { describe, expect, it } from "vitest";
import { evalModules, mkOption, types } from "../src/index.js";
import { cfg, err } from "./helpers.js";

describe("option declarations", () => {
  it("options nest in namespaces", () => {
    expect(
      cfg({ options: { a: { b: { c: mkOption({ type: types.int, default: 1 }) } } } }).a.b.c,
    ).toBe(1);
  });
  it("two modules may declare options in the same namespace", () => {
    const r = cfg(
      { options: { a: { x: mkOption({ default: 1 }) } } },
      { options: { a: { y: mkOption({ default: 2 }) } } },
    );
    expect(r.a).toEqual({ x: 1, y: 2 });
  });
  it("one option declared twice with the same type merges its declarations", () => {
    const r = evalModules({
      modules: [
        { file: "a.ts", options: { x: mkOption({ type: types.int, default: 1 }) } },
        { file: "b.ts", options: { x: mkOption({ type: types.int, description: "X." }) } },
      ],
    });
    expect(r.config.x).toBe(1);
    expect(r.options.x.declarations.sort()).toEqual(["a.ts", "b.ts"]);
    expect(r.options.x.description).toBe("X.");
  });
  it("two defaults for one option are a DECLARATION_CONFLICT naming both files, when it is used", () => {
    const e = err(
      () =>
        cfg(
          { file: "a.ts", options: { x: mkOption({ type: types.int, default: 1 }) } },
          { file: "b.ts", options: { x: mkOption({ type: types.int, default: 2 }) } },
        ).x,
    );
    expect(e.code).toBe("DECLARATION_CONFLICT");
    expect(e.message).toContain("a.ts");
    expect(e.message).toContain("b.ts");
  });
  it("incompatible types are a DECLARATION_CONFLICT when the option is used", () => {
    const e = err(
      () =>
        cfg(
          { file: "a.ts", options: { x: mkOption({ type: types.int }) } },
          { file: "b.ts", options: { x: mkOption({ type: types.str }) } },
        ).x,
    );
    expect(e.code).toBe("DECLARATION_CONFLICT");
    expect(e.message).toContain("`x`");
  });
  it("submodule declarations merge their options", () => {
    const r = cfg(
      {
        options: {
          s: mkOption({
            type: types.submodule({ options: { a: mkOption({ default: 1 }) } }),
            default: {},
          }),
        },
      },
      {
        options: {
          s: mkOption({ type: types.submodule({ options: { b: mkOption({ default: 2 }) } }) }),
        },
      },
    );
    expect(r.s).toEqual({ a: 1, b: 2 });
  });
  it("attrsOf submodule declarations merge their options", () => {
    const r = cfg(
      {
        options: {
          s: mkOption({
            type: types.attrsOf(types.submodule({ options: { a: mkOption({ default: 1 }) } })),
          }),
        },
      },
      {
        options: {
          s: mkOption({
            type: types.attrsOf(types.submodule({ options: { b: mkOption({ default: 2 }) } })),
          }),
        },
      },
      { s: { one: {} } },
    );
    expect(r.s.one).toEqual({ a: 1, b: 2 });
  });
  it("a namespace of options under a submodule option extends the submodule", () => {
    const r = cfg(
      {
        options: {
          s: mkOption({
            type: types.submodule({ options: { a: mkOption({ default: 1 }) } }),
            default: {},
          }),
        },
      },
      { options: { s: { b: mkOption({ default: 2 }) } } },
    );
    expect(r.s).toEqual({ a: 1, b: 2 });
  });
  it("a namespace under a non-submodule option is a DECLARATION_CONFLICT when the option is used", () => {
    expect(
      err(
        () =>
          cfg(
            { options: { s: mkOption({ type: types.int }) } },
            { options: { s: { b: mkOption({}) } } },
          ).s,
      ).code,
    ).toBe("DECLARATION_CONFLICT");
  });
  it("enum declarations merge their values", () => {
    const r = cfg(
      { options: { e: mkOption({ type: types.enum(["a"]) }) } },
      { options: { e: mkOption({ type: types.enum(["b"]) }) } },
      { e: "b" },
    );
    expect(r.e).toBe("b");
  });
  it("an option without type accepts and merges anything like unspecified", () => {
    expect(cfg({ options: { x: mkOption() } }, { x: [1] }, { x: [2] }).x).toEqual([2, 1]);
  });
});

describe("readOnly", () => {
  it("a read-only option with a default keeps it", () => {
    expect(
      cfg({ options: { x: mkOption({ type: types.int, default: 1, readOnly: true }) } }).x,
    ).toBe(1);
  });
  it("a read-only option may be defined once", () => {
    expect(cfg({ options: { x: mkOption({ type: types.int, readOnly: true }) } }, { x: 2 }).x).toBe(
      2,
    );
  });
  it("a read-only option defined twice is READ_ONLY listing the files", () => {
    const e = err(
      () =>
        cfg(
          { options: { x: mkOption({ type: types.int, readOnly: true }) } },
          { file: "a.ts", x: 1 },
          { file: "b.ts", x: 1 },
        ).x,
    );
    expect(e.code).toBe("READ_ONLY");
    expect(e.message).toContain("a.ts");
    expect(e.message).toContain("b.ts");
  });
  it("the default counts as a definition of a read-only option", () => {
    const e = err(
      () =>
        cfg(
          {
            file: "d.ts",
            options: { x: mkOption({ type: types.int, default: 1, readOnly: true }) },
          },
          { file: "u.ts", x: 2 },
        ).x,
    );
    expect(e.code).toBe("READ_ONLY");
  });
});

describe("declarations made by another copy of this package", () => {
  // A plugin may bring its own copy of @nix2dream/modules (the CLI loads configs with jiti).
  it("a declaration from the built copy keeps its default", async () => {
    const other = await import("../dist/index.js");
    const decl = other.mkOption({ type: other.types.str, default: "# header" });
    // Its declaration type is the other copy's (another unique brand symbol type).
    const header = decl as unknown as ReturnType<typeof mkOption>;
    expect(cfg({ options: { header } }).header).toBe("# header");
  });
  it("a declaration with its fields as its own (an older copy) keeps its default", () => {
    const older = {
      _type: "option",
      [Symbol.for("nix2dream.modules.option")]: true,
      type: types.str,
      default: "# header",
    };
    expect(cfg({ options: { header: older as never } }).header).toBe("# header");
  });
});
