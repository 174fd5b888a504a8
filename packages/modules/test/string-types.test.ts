import { describe, expect, it } from "vitest";
import { mkOption, type OptionType, types } from "../src/index.js";
import { cfg, err } from "./helpers.js";

const one = (type: OptionType<unknown>, ...defs: unknown[]) =>
  cfg(
    { file: "decl.ts", options: { x: mkOption({ type }) } },
    ...defs.map((x, i) => ({ file: `m${i + 1}.ts`, x })),
  ).x;

describe("refined string types (NixOS nonEmptyStr, singleLineStr, strMatching, separatedString)", () => {
  it("nonEmptyStr refuses the empty string and whitespace only, naming the file", () => {
    expect(one(types.nonEmptyStr, " a ")).toBe(" a ");
    for (const bad of ["", " \t\n"]) {
      const e = err(() => one(types.nonEmptyStr, bad));
      expect(e.code).toBe("TYPE_MISMATCH");
      expect(e.message).toContain("non-empty string");
      expect(e.message).toContain("m1.ts");
    }
  });

  it("singleLineStr takes one trailing newline off and refuses inner line breaks", () => {
    expect(one(types.singleLineStr, "a b\n")).toBe("a b");
    expect(one(types.singleLineStr, "a b")).toBe("a b");
    expect(err(() => one(types.singleLineStr, "a\nb")).code).toBe("TYPE_MISMATCH");
    expect(err(() => one(types.singleLineStr, "a\r")).code).toBe("TYPE_MISMATCH");
    expect(err(() => one(types.singleLineStr, "a\n\n")).code).toBe("TYPE_MISMATCH");
  });

  it("strMatching matches the whole string, not a part of it", () => {
    const t = types.strMatching("[a-z]+");
    expect(one(t, "abc")).toBe("abc");
    const e = err(() => one(t, "abc1"));
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.message).toContain("string matching the pattern [a-z]+");
    expect(err(() => one(types.strMatching(/b/), "abc")).code).toBe("TYPE_MISMATCH");
    expect(one(types.strMatching(/a.c/), "abc")).toBe("abc");
  });

  it("strMatching understands the POSIX classes NixOS patterns use", () => {
    const t = types.strMatching("[[:alnum:]_-]+[[:space:]]?");
    expect(one(t, "db_1-x ")).toBe("db_1-x ");
    expect(err(() => one(t, "db.1")).code).toBe("TYPE_MISMATCH");
    const punct = types.strMatching("[[:punct:]]+");
    expect(one(punct, "!/:@[`{~")).toBe("!/:@[`{~");
    expect(err(() => one(punct, "a")).code).toBe("TYPE_MISMATCH");
  });

  it("strMatching with an invalid pattern says so when the type is made", () => {
    expect(() => types.strMatching("([a-z]")).toThrow(
      /types\.strMatching: .* is not a valid regular expression/,
    );
  });

  it("two declarations with the same strMatching pattern merge; different patterns do not", () => {
    const decl = (p: string, file: string) => ({
      file,
      options: { x: mkOption({ type: types.strMatching(p) }) },
    });
    expect(cfg(decl("[a-z]+", "a.ts"), decl("[a-z]+", "b.ts"), { x: "ok" }).x).toBe("ok");
    expect(() => cfg(decl("[a-z]+", "a.ts"), decl("[0-9]+", "b.ts"), { x: "1" }).x).toThrow();
  });

  it("separatedString, commas and envVar join every definition with their separator", () => {
    expect(one(types.commas, "a", "b", "c")).toBe("c,b,a");
    expect(one(types.envVar, "/bin", "/usr/bin")).toBe("/usr/bin:/bin");
    expect(one(types.separatedString(" "), "x")).toBe("x");
    expect(types.separatedString(";").description).toBe('strings concatenated with ";"');
    expect(err(() => one(types.commas, 1)).code).toBe("TYPE_MISMATCH");
  });

  it("passwdEntry refuses colons and newlines in the entry type's values", () => {
    const t = types.passwdEntry(types.str);
    expect(one(t, "Web server")).toBe("Web server");
    expect(t.description).toBe("string, not containing newlines or colons");
    expect(err(() => one(t, "a:b")).code).toBe("TYPE_MISMATCH");
    expect(err(() => one(t, "a\nb")).code).toBe("TYPE_MISMATCH");
  });
});

describe("number types (NixOS number, numbers.*)", () => {
  it("number takes integers and fractions, not strings or NaN", () => {
    expect(one(types.number, 3)).toBe(3);
    expect(one(types.number, 0.5)).toBe(0.5);
    expect(err(() => one(types.number, "1")).code).toBe("TYPE_MISMATCH");
    expect(err(() => one(types.number, Number.NaN)).code).toBe("TYPE_MISMATCH");
  });

  it("numbers.between includes both ends", () => {
    const t = types.numbers.between(0, 1);
    expect(one(t, 0)).toBe(0);
    expect(one(t, 1)).toBe(1);
    expect(one(t, 0.25)).toBe(0.25);
    expect(err(() => one(t, 1.01)).message).toContain("between 0 and 1 (both inclusive)");
    expect(() => types.numbers.between(2, 1)).toThrow(
      /lowest \(2\) must not be greater than highest \(1\)/,
    );
  });

  it("numbers.nonnegative and numbers.positive differ at zero", () => {
    expect(one(types.numbers.nonnegative, 0)).toBe(0);
    expect(err(() => one(types.numbers.positive, 0)).code).toBe("TYPE_MISMATCH");
    expect(one(types.numbers.positive, 0.1)).toBe(0.1);
    expect(err(() => one(types.numbers.nonnegative, -0.1)).code).toBe("TYPE_MISMATCH");
  });
});
