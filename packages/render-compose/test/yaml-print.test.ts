// biome-ignore-all lint/suspicious/noControlCharactersInRegex: hostile values hold control characters
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: hostile values hold a literal ${X}
/**
 * Our YAML printer against the `yaml` package, which wrote the Compose files before it: the same
 * bytes for the golden file and for generated hostile values (as values and as keys, at every
 * depth), and values that read back unchanged through YAML 1.1 (and docker-compose itself).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { Document, parse, Scalar } from "yaml";
import { printYaml } from "../src/yaml-print.js";
import { composeConfig } from "./helpers.js";

const UNPRINTABLE = /[\x7f-\x9f\u2028\u2029]/;

/** The reference: how render-compose wrote YAML with the `yaml` package (its last version). */
function libraryYaml(value: unknown): string {
  const quote = (v: unknown): unknown => {
    if (typeof v === "string") {
      if (!UNPRINTABLE.test(v)) return v;
      const s = new Scalar(v);
      s.type = Scalar.QUOTE_DOUBLE;
      return s;
    }
    if (Array.isArray(v)) return v.map(quote);
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, quote(x)]));
    }
    return v;
  };
  return new Document(quote(value), { version: "1.1" })
    .toString({ lineWidth: 0, indentSeq: true })
    .replace(/[\x7f-\x9f\u2028\u2029]/g, (c) =>
      c === "\u2028"
        ? "\\L"
        : c === "\u2029"
          ? "\\P"
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
    );
}

/** Strings a YAML writer can get wrong: indicators, 1.1 words and numbers, breaks, controls. */
const HOSTILE: string[] = [
  "",
  " ",
  "a",
  "-",
  "- a",
  "-a",
  "?",
  "? a",
  ":",
  ": a",
  "a:",
  "a: b",
  "a:b",
  "a #b",
  "a#b",
  "#",
  "# c",
  "~",
  "null",
  "Null",
  "NULL",
  "nULL",
  "yes",
  "Yes",
  "YES",
  "yEs",
  "no",
  "No",
  "NO",
  "y",
  "Y",
  "n",
  "N",
  "on",
  "On",
  "ON",
  "off",
  "Off",
  "true",
  "True",
  "false",
  "FALSE",
  "0",
  "-0",
  "+1",
  "012",
  "0755",
  "0o7",
  "0b101",
  "0b",
  "0x1F",
  "0x",
  "1_000",
  "1:30",
  "1:30:59",
  "-1:30",
  "190:20:30.15",
  "1:60",
  "1.5",
  ".5",
  "5.",
  ".",
  "-.",
  "1e3",
  "1E3",
  "e3",
  "1.0e-3",
  "1e",
  ".inf",
  "-.Inf",
  "+.INF",
  ".nan",
  ".NaN",
  "nan",
  "inf",
  "<<",
  "< <",
  "=",
  "==",
  "a\tb",
  " \n",
  "\t\n",
  " \n\n\t",
  "2001-12-14 21:59:43.",
  "2001-12-14",
  "2001-12-14t21:59:43.10-05:00",
  "2001-12-14 21:59:43.10 -5",
  "2002-1-1",
  "12:00",
  "---",
  "--- a",
  "...",
  "%YAML",
  "a\n---\nb",
  "a\n...",
  "%",
  "@a",
  "`a`",
  "!a",
  "&a",
  "*a",
  "|",
  "|a",
  ">",
  "'a'",
  '"a"',
  "it's",
  'say "hi"',
  `it's "q"`,
  "[a]",
  "{a: 1}",
  "a,b",
  "a]",
  "a}",
  "$HOME",
  "$$",
  "${X}",
  "$(id)",
  "trailing ",
  "trailing\t",
  " leading",
  "\tleading",
  "a\nb",
  "a\n",
  "a\n\n",
  "a\n\n\n",
  "\na",
  "\n\na",
  " \na",
  "\n a",
  "a \nb",
  "a\n b",
  "a\n\tb",
  "a\n ",
  "a\n\t",
  "\n",
  "\n\n",
  " \n ",
  "a\rb",
  "a\r\nb",
  "a\tb",
  "a\\b",
  "a\\nb",
  "\\",
  "\x00",
  "a\x07b",
  "a\x0bb",
  "a\x1bb",
  "a\x01\x1fb",
  "a\x7fb",
  "a\x80b",
  "a\x85b",
  "a\x9fb",
  "a\xa0b",
  "a\u2028b",
  "a\u2029b",
  "a\ufeffb",
  "\ud800",
  "a\udfffb",
  "😀",
  "✓ 日本",
  "é",
  "a\u3000b",
  "long line with a break after forty characters\nand another one",
  "long line with a space before the break     \nand another",
  "long line with a space after the break in it\n  indented",
  "long line with two breaks in it, long enough\n\n\nthree",
  'long line with a quote " and a break, long enough\nx',
  `long line with it's "both" quotes, long enough\nx`,
  "long\nline ending in a break, long enough to fold it\n",
  "x".repeat(1100),
  "k".repeat(1030),
];

/** Alphabet for generated strings: the characters that change how a scalar is written. */
const CHARS = [
  ..."aZ09 -?:#,[]{}&*!|>'\"%@`~.<=+_$\\/",
  "\n",
  "\t",
  "\r",
  "\x00",
  "\x1b",
  "\x7f",
  "\x85",
  "\u2028",
  "\u2029",
  "\ud800",
  "é",
  "日",
];
const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.array(fc.constantFrom(...CHARS), { maxLength: 60 }).map((cs) => cs.join("")),
);
const scalarValue = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt(),
);
const { value: jsonLike } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalarValue,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(hostileString, tie("value"), { maxKeys: 4 }),
  ),
}));

/** True when the yaml package writes `s` plain and it holds a tab (PyYAML refuses it). */
const plainWithTab = (s: string) =>
  s.includes("\t") && (libraryYaml([s]) === `- ${s}\n` || libraryYaml({ [s]: 0 }) === `${s}: 0\n`);

/** Strings the yaml package wrote so that they do not read back (see yaml-print.ts). */
const misread = (s: string) =>
  s === "<<" ||
  s === "=" ||
  /^[0-9-]+[Tt ][0-9:]+\.$/.test(s) ||
  (/^[\n\t ]*[\t ][\n\t ]*$/.test(s) && s.includes("\n")) ||
  plainWithTab(s);

/** True when `value` holds a string the yaml package wrote wrong (as a key or a value). */
function holdsMisread(value: unknown): boolean {
  if (typeof value === "string") return misread(value);
  if (Array.isArray(value)) return value.some(holdsMisread);
  if (typeof value !== "object" || value === null) return false;
  return Object.entries(value).some(
    ([k, v]) => misread(k) || /[\u2028\u2029]/.test(k) || holdsMisread(v),
  );
}

describe("printYaml", () => {
  it("writes the golden compose file exactly as the yaml package did", () => {
    const golden = readFileSync(
      new URL("./fixtures/golden/shop/compose.yaml", import.meta.url),
      "utf8",
    );
    const value = parse(golden, { version: "1.1" });
    const body = golden.replace(/^(#.*\n)+/, "");
    expect(libraryYaml(value)).toBe(body);
    expect(printYaml(value)).toBe(body);
  });

  it("writes every hostile string as the yaml package does, as a value and as a key", () => {
    for (const s of HOSTILE.filter((x) => !misread(x) && !/[\u2028\u2029]/.test(x))) {
      for (const value of [
        s,
        { s },
        { [s]: s },
        { a: { b: [s, [s], { [s]: [s] }] } },
        [s, { k: s }],
        [[s]],
      ]) {
        expect(printYaml(value), JSON.stringify(value)).toBe(libraryYaml(value));
      }
    }
  });

  it("writes a repeated name-like string the same as a key and as a value, at any depth", () => {
    // Such strings' scalars are kept between uses: the first use must not decide the next.
    for (const s of ["yes", "0x1F", "1e3", "2001-12-14", "012", "x_1.2/y-z", "null", "svc1"]) {
      for (const value of [
        { [s]: s, a: { [s]: [s, { [s]: s }] } },
        [s, [{ [s]: [s] }], { k: { [s]: s } }],
      ]) {
        expect(printYaml(value), JSON.stringify(value)).toBe(libraryYaml(value));
      }
    }
  });

  it("writes generated values as the yaml package does", () => {
    fc.assert(
      fc.property(jsonLike, (value) => {
        fc.pre(!holdsMisread(value));
        expect(printYaml(value)).toBe(libraryYaml(value));
      }),
      { numRuns: 3000 },
    );
  });

  it("writes numbers, empty collections, undefined and nested sequences as the yaml package does", () => {
    const value = {
      n: [0, -0, 1.5, -2, 1e21, 5e-7, Number.NaN, Number.POSITIVE_INFINITY, -Infinity],
      big: 12345678901234567890n,
      empty: { a: [], b: {}, c: [[], {}] },
      skipped: undefined,
      holes: [1, undefined, null, 2],
      deep: [[["a", "b"], []], [{ a: [{ b: 1 }] }]],
    };
    expect(printYaml(value)).toBe(libraryYaml(value));
  });

  it("writes the U+2028/U+2029 strings as the yaml package does as values, quoted as keys", () => {
    const values = ["a\u2028b", "\u2029"].map((s) => ({ k: s, l: [s] }));
    for (const value of values) expect(printYaml(value)).toBe(libraryYaml(value));
    const keys = { "a\u2028b": "x", "c\u2029": "z" };
    expect(printYaml(keys)).toBe('"a\\Lb": x\n"c\\P": z\n');
    expect(parse(printYaml(keys), { version: "1.1" })).toEqual(keys);
  });

  it("quotes `<<`, strings of blanks and breaks, and tabs, which the yaml package wrote unreadably", () => {
    expect(libraryYaml({ k: "a\tb" })).toBe("k: a\tb\n");
    expect(printYaml({ k: "a\tb" })).toBe('k: "a\\tb"\n');
    expect(libraryYaml({ "<<": "<<" })).toBe("<<: <<\n");
    expect(printYaml({ "<<": "<<" })).toBe('"<<": "<<"\n');
    expect(libraryYaml({ k: " \n" })).toBe("k: |+\n   \n");
    expect(printYaml({ k: " \n" })).toBe('k: "\\ \\n"\n');
    const blanks = HOSTILE.filter(misread);
    expect(blanks.length).toBeGreaterThan(6);
    for (const s of blanks) {
      const value = { [s]: s, l: [s, { k: s }] };
      expect(parse(printYaml(value), { version: "1.1" })).toEqual(value);
    }
  });

  it("writes strings that read back unchanged with YAML 1.1", () => {
    fc.assert(
      fc.property(fc.dictionary(hostileString, hostileString, { maxKeys: 5 }), (value) => {
        const text = printYaml({ env: value, list: Object.values(value) });
        expect(parse(text, { version: "1.1" })).toEqual({ env: value, list: Object.values(value) });
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses a function", () => {
    expect(() => printYaml({ f: () => 1 })).toThrow(TypeError);
  });
});

describe("printYaml against docker-compose", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("hands every hostile string to docker-compose unchanged", { tags: ["docker"] }, () => {
    // docker-compose refuses NUL, unpaired surrogates and a BOM outright; those stay out. Every
    // `$` is doubled, as the renderer does, so Compose interpolates nothing.
    const usable = HOSTILE.filter((s) => !/[\x00\ud800-\udfff\ufeff]/.test(s) && s.length < 200);
    const literal = (s: string) => s.split("$").join("$$");
    const environment = Object.fromEntries(usable.map((s, i) => [`V${i}`, literal(s)]));
    const labels = Object.fromEntries(usable.map((s, i) => [`l${i}.${literal(s)}`, literal(s)]));
    const file = { services: { s: { image: "busybox", environment, labels } } };
    const dir = mkdtempSync(join(tmpdir(), "n2d-yaml-print-"));
    dirs.push(dir);
    writeFileSync(join(dir, "compose.yaml"), printYaml(file));
    expect(() => composeConfig(dir)).not.toThrow();
    // What docker-compose read: its own YAML reader (PyYAML's safe_load, in the Python its script
    // runs with), as JSON. Its `config` output cannot tell: PyYAML writes NEL and LS there raw in
    // single quotes, where they fold into spaces.
    expect(JSON.parse(composePythonYaml(join(dir, "compose.yaml")))).toEqual(file);
  });

  it("writes generated strings that docker-compose's YAML reader reads back unchanged", {
    tags: ["docker"],
  }, () => {
    // NUL, unpaired surrogates and a BOM: PyYAML refuses them in any form (see above).
    const readable = hostileString.filter((s) => !/[\x00\ud800-\udfff\ufeff]/.test(s));
    const values = fc.sample(fc.dictionary(readable, readable, { maxKeys: 4 }), 1500);
    const dir = mkdtempSync(join(tmpdir(), "n2d-yaml-print-"));
    dirs.push(dir);
    writeFileSync(join(dir, "values.yaml"), printYaml({ values }));
    expect(JSON.parse(composePythonYaml(join(dir, "values.yaml")))).toEqual({ values });
  });
});

/** `file` read by the PyYAML docker-compose runs with, as JSON. */
function composePythonYaml(file: string): string {
  const script = execFileSync("sh", ["-c", "command -v docker-compose"], { encoding: "utf8" });
  const python =
    readFileSync(script.trim(), "utf8")
      .split("\n")[0]
      ?.replace(/^#!\s*/, "") ?? "";
  return execFileSync(
    python.split(" ")[0] ?? "python3",
    ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", file],
    { encoding: "utf8" },
  );
}
