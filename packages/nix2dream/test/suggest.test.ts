import { describe, expect, it } from "vitest";
import { closest, closestOption } from "../src/suggest.js";

describe("suggestions", () => {
  it("suggests the nearest command for a typo", () => {
    expect(closest("rendr", ["render", "check", "options"])).toBe("render");
  });

  it("suggests nothing for an unrelated word", () => {
    expect(closest("deploy", ["render", "check", "options"])).toBeUndefined();
  });

  it("matches option placeholders against the concrete path", () => {
    expect(
      closestOption("services.api.comand", [
        "services.<name>.command",
        "services.<name>.args",
        "name",
      ]),
    ).toBe("services.api.command");
  });
});
