import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HOSTILE } from "../../testkit/src/index.js";
import { serviceRef } from "../src/refs.js";
import {
  literalValue,
  ShellQuoteError,
  shellJoin,
  shellQuote,
  shellVar,
  shellWord,
} from "../src/shell.js";

/** Runs `sh -c` (dash on Debian) and returns the argv it passes to printf, one per NUL. */
function shArgv(source: string): string[] {
  const out = execFileSync("sh", ["-c", `set -eu\nprintf '%s\\0' ${source}`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

describe("shellQuote", () => {
  it.each(HOSTILE.map((s) => [JSON.stringify(s), s]))("round-trips %s through sh", (_, s) => {
    expect(shArgv(shellQuote(s as string))).toEqual([s]);
  });

  it("quotes the empty string as ''", () => {
    expect(shellQuote("")).toBe("''");
  });

  it("leaves safe words bare and quotes everything else", () => {
    expect(shellQuote("/usr/bin/node")).toBe("/usr/bin/node");
    expect(shellQuote("--port=8080")).toBe("'--port=8080'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it("rejects a NUL byte, which no shell word can hold", () => {
    expect(() => shellQuote("a\0b")).toThrow(ShellQuoteError);
  });
});

/** Lone surrogates cannot be encoded as UTF-8, so they cannot reach sh at all. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("shellQuote on arbitrary strings", () => {
  it("round-trips 2000 random strings (any code point but NUL) through one sh run", () => {
    const samples = fc.sample(
      fc
        .string({ unit: "binary", maxLength: 40 })
        .filter((s) => !s.includes("\0") && !LONE_SURROGATE.test(s)),
      { numRuns: 2000, seed: 20261125 },
    );
    expect(shArgv(shellJoin(samples))).toEqual(samples);
  });
});

describe("shellJoin", () => {
  it("keeps every element one argument, in order", () => {
    expect(shArgv(shellJoin(HOSTILE))).toEqual(HOSTILE);
  });
});

describe("shellWord", () => {
  const db = serviceRef("db");
  const resolve = (r: { kind: string }) =>
    r.kind === "volume"
      ? { shell: `"\${STATE}"/db/'data dir'` }
      : r.kind === "host"
        ? "127.0.0.1"
        : "5432";

  it("resolves references to literal and shell parts inside one word", () => {
    const value = `postgres://${db.host}:${db.ports.pg}/$(x) ${db.volumes.data}!`;
    const word = shellWord(value, resolve);
    const out = execFileSync("sh", ["-c", `STATE='/s p'; printf '%s\\0' ${word}`], {
      encoding: "utf8",
    });
    expect(out.split("\0").slice(0, -1)).toEqual([
      "postgres://127.0.0.1:5432/$(x) /s p/db/data dir!",
    ]);
  });

  it("gives literalValue only when no part needs the shell", () => {
    expect(literalValue(`${db.host}:${db.ports.pg}`, resolve)).toBe("127.0.0.1:5432");
    expect(literalValue(`${db.volumes.data}/x`, resolve)).toBeUndefined();
  });

  it("quotes the empty string as one empty word", () => {
    expect(shArgv(shellWord("", resolve))).toEqual([""]);
  });
});

describe("shellVar", () => {
  it("expands a variable as one field", () => {
    const out = execFileSync("sh", ["-c", `X='a  b*'; printf '%s\\0' ${shellVar("X")}`], {
      encoding: "utf8",
    });
    expect(out).toBe("a  b*\0");
  });

  it("rejects names sh cannot expand", () => {
    expect(() => shellVar("A-B")).toThrow(ShellQuoteError);
  });
});
