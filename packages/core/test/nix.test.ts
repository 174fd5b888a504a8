import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HOSTILE, tempDir } from "../../testkit/src/index.js";
import {
  isNixExpr,
  NixPrintError,
  nixAttrPath,
  nixExpr,
  nixIndentedString,
  nixInterpolate,
  nixKey,
  nixString,
  toNix,
} from "../src/nix.js";

/** Evaluates Nix source with the real `nix-instantiate` (Debian `nix-bin`) and returns the JSON value. */
function evalNix(source: string): unknown {
  const dir = tempDir("n2d-nix-");
  const file = path.join(dir, "value.nix");
  writeFileSync(file, source);
  try {
    return JSON.parse(
      execFileSync("nix-instantiate", ["--eval", "--strict", "--json", file], { encoding: "utf8" }),
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(
        "nix-instantiate is missing: install Debian's nix-bin (apt-get install -y nix-bin)",
      );
    }
    throw err;
  }
}

const MORE_HOSTILE = [
  ...HOSTILE,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Nix interpolation that must stay literal
  '${builtins.abort "pwned"}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: escaped and doubled dollars before a brace
  "$${x} \\${y} $\\${z} ''${w}",
  "ends with a dollar $",
  "ends with a backslash \\",
  "crlf\r\nline",
  "unicode: ünïcødé ✓ 🚀 \u2028",
];

describe("nixString", () => {
  it("evaluates back to exactly the input for hostile strings", { tags: ["nix"] }, () => {
    const source = `[ ${MORE_HOSTILE.map(nixString).join(" ")} ]`;
    expect(evalNix(source)).toEqual(MORE_HOSTILE);
  });

  it("evaluates back to the input for arbitrary unicode strings", { tags: ["nix"] }, () => {
    const samples = fc.sample(
      fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\0")),
      { numRuns: 200, seed: 6 },
    );
    expect(evalNix(`[ ${samples.map(nixString).join(" ")} ]`)).toEqual(samples);
  });

  it("evaluates back to the input for strings dense in what it escapes", { tags: ["nix"] }, () => {
    // Runs of escapes and plain text side by side: the escaper copies the runs between escapes.
    const special = fc.constantFrom(
      "\\",
      '"',
      "\n",
      "\r",
      "\t",
      "$",
      "{",
      "}",
      "'",
      "a",
      "é",
      "🚀",
    );
    const samples = fc.sample(
      fc.array(special, { maxLength: 30 }).map((cs) => cs.join("")),
      {
        numRuns: 300,
        seed: 12,
      },
    );
    expect(evalNix(`[ ${samples.map(nixString).join(" ")} ]`)).toEqual(samples);
  });

  it("keeps a lone dollar readable and escapes only an interpolation", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: literal Nix source
    expect(nixString("$HOME ${HOME}")).toBe('"$HOME \\${HOME}"');
  });

  it("rejects a NUL byte, which a Nix string cannot hold", () => {
    expect(() => nixString("a\0b")).toThrow(NixPrintError);
  });
});

describe("nixKey and nixAttrPath", () => {
  it("leaves identifiers bare and quotes everything else, keywords included", () => {
    expect(nixKey("api")).toBe("api");
    expect(nixKey("my-app_2'")).toBe("my-app_2'");
    expect(nixKey("my.app")).toBe('"my.app"');
    expect(nixKey("2fa")).toBe('"2fa"');
    expect(nixKey("in")).toBe('"in"');
    expect(nixKey("")).toBe('""');
    expect(nixAttrPath(["environment", "etc", "notes/api.json"])).toBe(
      'environment.etc."notes/api.json"',
    );
  });
});

describe("toNix", () => {
  it("prints attribute sets with hostile keys and values that evaluate back to the input", {
    tags: ["nix"],
  }, () => {
    const value = {
      plain: "x",
      "with.dot": 1,
      "with space": -2,
      "${evil}": true,
      'q"uote': null,
      let: [1, -1, "two", [], {}],
      nested: { deeper: { list: MORE_HOSTILE } },
      float: 0.5,
    };
    expect(evalNix(toNix(value))).toEqual(value);
  });

  it("leaves out undefined attributes", () => {
    expect(toNix({ a: 1, b: undefined })).toBe("{\n  a = 1;\n}");
  });

  it("prints raw expressions verbatim and parenthesises applications in lists", {
    tags: ["nix"],
  }, () => {
    const v = { a: nixExpr("builtins.length [ 1 2 ]"), l: [nixExpr("1 + 1"), nixExpr("x.y")] };
    expect(isNixExpr(v.a)).toBe(true);
    expect(toNix(v)).toContain("l = [ (1 + 1) x.y ];");
    expect(evalNix(`let x = { y = 3; }; in ${toNix(v)}`)).toEqual({ a: 2, l: [2, 3] });
  });

  it("sorts keys on request and otherwise keeps insertion order", () => {
    expect(toNix({ b: 1, a: 2 }, { sortKeys: true })).toBe("{\n  a = 2;\n  b = 1;\n}");
    expect(toNix({ b: 1, a: 2 })).toBe("{\n  b = 1;\n  a = 2;\n}");
  });

  it("breaks long lists over lines and indents nested sets", { tags: ["nix"] }, () => {
    const long = Array.from({ length: 30 }, (_, i) => `item-${i}`);
    const out = toNix({ a: { l: long } });
    expect(out.split("\n")[2]).toBe("    l = [");
    expect(evalNix(out)).toEqual({ a: { l: long } });
  });

  it("rejects values Nix cannot represent", () => {
    expect(() => toNix(Number.NaN)).toThrow(NixPrintError);
    expect(() => toNix(() => 1)).toThrow(NixPrintError);
  });
});

/** Strings from the characters that matter to indented strings and interpolation. */
const tricky = fc
  .array(fc.constantFrom("a", "b", " ", "  ", "\n", "'", "''", "$", "{", "}", "\\", "${", "é"), {
    maxLength: 24,
  })
  .map((parts) => parts.join(""));

describe("nixIndentedString", () => {
  it("evaluates back to exactly the input whenever it accepts a value, at any nesting", {
    tags: ["nix"],
  }, () => {
    const samples = fc.sample(tricky, { numRuns: 2000, seed: 7 });
    const accepted = samples.filter((s) => nixIndentedString(s, 4) !== undefined);
    expect(accepted.length).toBeGreaterThan(50);
    const items = accepted.map((s) => `      ${nixIndentedString(s, 4)}`).join("\n");
    const source = `{\n  a = {\n    l = [\n${items}\n    ];\n  };\n}`;
    expect((evalNix(source) as { a: { l: string[] } }).a.l).toEqual(accepted);
  });

  it("lays out a shell script readably", { tags: ["nix"] }, () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell source
    const script = 'set -e\nif [ -n "${X:-}" ]; then\n  echo \'\'"$X"\nfi\n';
    const out = nixIndentedString(script, 2) as string;
    expect(out).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Nix source
      "''\n    set -e\n    if [ -n \"''${X:-}\" ]; then\n      echo '''\"$X\"\n    fi\n  ''",
    );
    expect(evalNix(out)).toBe(script);
  });

  it("writes what a line-by-line escaper writes, on random text", () => {
    // The printer escapes and indents the whole text at once; this is the line-by-line reading
    // of the same rules it replaced (split, check, escape each line, join).
    const reference = (value: string, indent: number): string | undefined => {
      if (!value.includes("\n") || /[\r\t\0]/.test(value)) return undefined;
      const lines = value.split("\n");
      const last = lines.pop() as string;
      const content = last === "" ? lines : [...lines, last];
      if (content.some((l) => l !== "" && /^ +$/.test(l))) return undefined;
      const nonBlank = content.filter((l) => l !== "");
      if (nonBlank.length === 0 || nonBlank.every((l) => l.startsWith(" "))) return undefined;
      const escapeLine = (l: string) => {
        let out = "";
        for (let i = 0; i < l.length; i++) {
          const c = l[i] as string;
          const next = l[i + 1];
          if (c === "'" && next === "'") {
            out += "'''";
            i++;
          } else if (c === "'" && next === "$" && l[i + 2] === "{") out += "''\\'";
          else if (c === "$" && next === "{") {
            out += "''${";
            i++;
          } else out += c;
        }
        return out;
      };
      const pad = " ".repeat(indent + 2);
      const body = content.map((l) => (l === "" ? "" : `${pad}${escapeLine(l)}`));
      if (last === "") return `''\n${body.join("\n")}\n${" ".repeat(indent)}''`;
      if (last.endsWith("'")) return undefined;
      return `''\n${body.join("\n")}''`;
    };
    const wider = fc
      .array(
        fc.oneof(
          fc.constantFrom("\n", "\n\n", " ", "'", "''", "$", "${", "{", "\r", "\t", "\\"),
          fc.string({ unit: "binary", maxLength: 4 }),
        ),
        { maxLength: 30 },
      )
      .map((parts) => parts.join(""));
    const samples = [
      ...fc.sample(tricky, { numRuns: 3000, seed: 21 }),
      ...fc.sample(wider, { numRuns: 3000, seed: 22 }),
      ...MORE_HOSTILE,
    ];
    let accepted = 0;
    for (const [i, s] of samples.entries()) {
      const indent = i % 7;
      const expected = reference(s, indent);
      if (expected !== undefined) accepted++;
      expect(nixIndentedString(s, indent), JSON.stringify(s)).toBe(expected);
    }
    // Both outcomes are exercised.
    expect(accepted).toBeGreaterThan(500);
    expect(accepted).toBeLessThan(samples.length - 500);
  });

  it("declines values an indented string cannot carry exactly", () => {
    expect(nixIndentedString("one line")).toBeUndefined();
    expect(nixIndentedString("  all\n  indented\n")).toBeUndefined();
    expect(nixIndentedString("a\r\nb")).toBeUndefined();
    expect(nixIndentedString("a\n   \nb")).toBeUndefined();
  });

  it("is used by toNix for multi-line strings when asked", { tags: ["nix"] }, () => {
    const v = { script: "echo a\necho b\n", one: "x" };
    const out = toNix(v, { indentedStrings: true });
    expect(out).toBe("{\n  script = ''\n    echo a\n    echo b\n  '';\n  one = \"x\";\n}");
    expect(evalNix(out)).toEqual(v);
  });
});

describe("nixInterpolate", () => {
  it("joins escaped literals and interpolated expressions, evaluating to the expected text", {
    tags: ["nix"],
  }, () => {
    const samples = fc.sample(tricky, { numRuns: 200, seed: 8 });
    const exprs = samples.map((s) => nixInterpolate([s, nixExpr("x"), s, nixExpr("y.z")]));
    expect(evalNix(`let x = "X"; y.z = "Z"; in [ ${exprs.join(" ")} ]`)).toEqual(
      samples.map((s) => `${s}X${s}Z`),
    );
  });

  it("escapes a dollar right before an interpolation", () => {
    expect(nixInterpolate(["a$", nixExpr("x")])).toBe('"a\\$${x}"');
  });
});

describe("toNix with a strings mapping", () => {
  // Strings starting with `@` stand for package expressions; the others are upper-cased.
  const strings = (s: string) =>
    s.startsWith("@") ? nixExpr(`pkgs.${s.slice(1)}`) : s.toUpperCase();
  const mapCopy = (v: unknown): unknown => {
    if (typeof v === "string") return strings(v);
    if (Array.isArray(v)) return v.map(mapCopy);
    if (v !== null && typeof v === "object" && !isNixExpr(v)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapCopy(x)]));
    }
    return v;
  };
  const data = {
    "@name": "@hello",
    one: { only: { path: "x" } },
    list: ["@callPackage ./a.nix { }", "y", ["@z", 1]],
    kept: nixExpr("lib.mkForce 1"),
    script: "line one\nline two\n",
    n: null,
  };

  it("prints what mapping the strings of a copy first would print, names untouched", () => {
    for (const opts of [{}, { paths: true }, { paths: true, indentedStrings: true, indent: 4 }]) {
      expect(toNix(data, { ...opts, strings })).toBe(toNix(mapCopy(data), opts));
    }
    expect(toNix(data, { strings })).toContain('"@name" = pkgs.hello;');
    expect(toNix(data, { strings })).toContain("(pkgs.callPackage ./a.nix { })");
  });
});

describe("toNix with paths", () => {
  it("writes single-attribute sets as attribute paths, as NixOS modules are written", {
    tags: ["nix"],
  }, () => {
    const v = { networking: { firewall: { allowedTCPPorts: [80] } }, users: { a: 1, b: 2 } };
    const out = toNix(v, { paths: true });
    expect(out).toBe(
      "{\n  networking.firewall.allowedTCPPorts = [ 80 ];\n  users = {\n    a = 1;\n    b = 2;\n  };\n}",
    );
    expect(evalNix(out)).toEqual(v);
  });
});
