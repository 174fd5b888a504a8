import { writeArtifacts } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { manifestFiles, toYaml, toYamlStream } from "../src/index.js";
import { HOSTILE } from "./fixtures/everything.js";
import { decodeProblems, kubectl, tempDir } from "./helpers.js";

/** Deterministic pseudo-random strings over an alphabet of everything YAML gives a meaning to. */
function hostileStrings(count: number, seed = 42): string[] {
  const alphabet = [
    ..." \t\n\r-?:,[]{}#&*!|>'\"%@`~=<.+/\\$()0123456789abcdefxyzYNOT_",
    "yes",
    "no",
    "on",
    "off",
    "null",
    "true",
    "0x",
    "1e3",
    "---",
    "...",
    "<<",
    "\u0085",
    "\u2028",
    "\u2029",
    "\u007f",
    "\u0000",
    "\u001b",
    "\ufeff",
    "é",
    "😀",
    "\u200b",
  ];
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x;
  };
  return Array.from({ length: count }, () => {
    let s = "";
    const len = next() % 12;
    for (let i = 0; i < len; i++) s += alphabet[next() % alphabet.length];
    return s;
  });
}

const CORNER = [
  "",
  " ",
  "y",
  "Y",
  "n",
  "No",
  "ON",
  "off",
  "~",
  "null",
  "Null",
  "true",
  "0644",
  "0x1F",
  "1e3",
  ".5",
  ".inf",
  "-",
  "- x",
  "-1",
  "12:30",
  "2001-12-14",
  "=",
  "<<",
  "?",
  "a: b",
  "a #b",
  "#c",
  "*a",
  "&b",
  "!t",
  "%p",
  "@q",
  "`r`",
  "'",
  '"',
  "\\",
  "a\n",
  "\n",
  "a\r\nb",
  "trail ",
  " lead",
  HOSTILE,
];

describe("YAML output", () => {
  const values = [...CORNER, ...hostileStrings(400)];
  const object = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "q" },
    data: Object.fromEntries(values.map((v, i) => [`k${i}`, v])),
    list: values,
    keys: Object.fromEntries(values.filter((v) => v !== "").map((v) => [v, v])),
  };

  it("writes an object holding only undefined values as {}, as JSON does", () => {
    const sparse = {
      a: { b: undefined },
      list: [{ c: undefined }, []],
      d: { e: { f: undefined } },
    };
    const asJson = JSON.parse(JSON.stringify(sparse));
    expect(parse(toYaml(sparse))).toStrictEqual(asJson);
    expect(parse(toYaml({ only: undefined }))).toStrictEqual({});
  });

  it("parses back to the same value as YAML 1.2 and as YAML 1.1", () => {
    const text = toYaml(object);
    expect(parse(text)).toEqual(object);
    expect(parse(text, { version: "1.1" })).toEqual(object);
  });

  it("is decoded by kubectl into the same strings", { tags: ["kubectl"] }, () => {
    const { dir, remove } = tempDir("yaml");
    try {
      const cm = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "q" },
        data: object.data,
      };
      writeArtifacts(dir, [{ path: "cm.yaml", content: toYaml(cm) }]);
      expect(decodeProblems(`${dir}/cm.yaml`)).toEqual([]);
      const out = JSON.parse(
        kubectl(["label", "--local", "-f", `${dir}/cm.yaml`, "-o", "json", "n2d=check"]),
      );
      expect(out.data).toEqual(object.data);
    } finally {
      remove();
    }
  });

  it("writes nested lists, empty collections, numbers, booleans and null", () => {
    expect(
      toYaml({
        a: [[1, 2], [], {}, { b: null, c: true }],
        d: {},
        e: 0.5,
        f: [{ g: [{ h: "x" }] }],
      }),
    ).toBe(
      [
        "a:",
        "  - - 1",
        "    - 2",
        "  - []",
        "  - {}",
        "  - b: null",
        "    c: true",
        "d: {}",
        "e: 0.5",
        "f:",
        "  - g:",
        "      - h: x",
        "",
      ].join("\n"),
    );
  });

  it("starts a list item at its first written key, however deep the lists nest", () => {
    expect(toYaml([{ skip: undefined, a: 1, b: [[{ c: 1, d: [] }], [[2]]] }, { e: "x" }])).toBe(
      ["- a: 1", "  b:", "    - - c: 1", "        d: []", "    - - - 2", "- e: x", ""].join("\n"),
    );
  });

  it("separates documents with --- and keeps each document as written alone", () => {
    const docs = [
      { kind: "A", metadata: { name: "a" } },
      { kind: "B", metadata: { name: "b" } },
    ];
    const stream = toYamlStream(docs);
    expect(parseAllDocuments(stream).map((d) => d.toJSON())).toEqual(docs);
    expect(manifestFiles(docs)[0]?.content).toBe(stream);
  });

  it("writes each file and all.yaml as toYaml and toYamlStream do, over many joined chunks", () => {
    // Enough documents that manifestFiles joins their pieces in several chunks and cuts each
    // file out of one; empty and hostile values among them.
    const strings = hostileStrings(400, 7);
    const docs = Array.from({ length: 3000 }, (_, i) => ({
      kind: i % 3 === 0 ? "ConfigMap" : "Service",
      metadata: { name: `obj-${i}`, labels: i % 5 === 0 ? {} : { n: String(i) } },
      data: i % 7 === 0 ? { only: undefined } : { [`k${i}`]: strings[i % strings.length] },
      list: i % 4 === 0 ? [] : [[i], { a: strings[(i * 3) % strings.length] }, null],
    }));
    const files = manifestFiles(docs);
    expect(files[0]?.content).toBe(toYamlStream(docs));
    expect(files.slice(1, -1).map((f) => f.content)).toEqual(docs.map((d) => toYaml(d)));
    expect(files).toHaveLength(docs.length + 2);
  });
});
