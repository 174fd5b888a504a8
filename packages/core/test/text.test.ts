import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256Hex, textTable } from "../src/index.js";

describe("textTable", () => {
  it("pads every column to its widest cell, two spaces apart, with no trailing spaces", () => {
    expect(
      textTable([
        ["NAME", "STATE", "PORTS"],
        ["api", "running", "8080"],
        ["migrate-db", "exited", ""],
      ]),
    ).toBe("NAME        STATE    PORTS\napi         running  8080\nmigrate-db  exited");
  });

  it("renders a header alone", () => {
    expect(textTable([["A", "B"]])).toBe("A  B");
  });
});

describe("sha256Hex", () => {
  it("is the SHA-256 of the text's UTF-8 bytes, in lowercase hex", () => {
    for (const text of ["", "abc", "ä € 😀", "x".repeat(100_000)]) {
      expect(sha256Hex(text)).toBe(createHash("sha256").update(text, "utf8").digest("hex"));
    }
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});
