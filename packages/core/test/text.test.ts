import { describe, expect, it } from "vitest";
import { textTable } from "../src/index.js";

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
