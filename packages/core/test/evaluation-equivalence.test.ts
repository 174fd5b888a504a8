import { readFileSync } from "node:fs";
import * as modules from "@nix2dream/modules";
import { describe, expect, it } from "vitest";
import * as core from "../src/index.js";
// @ts-expect-error: plain JavaScript shared with record.mjs, which runs it against a built checkout
import { outcomes } from "./fixtures/evaluation/outcomes.mjs";

// recorded.json was written by record.mjs from the built main at bbf113d, before the work on the
// speed of evaluation: the same cases must evaluate to the same deployments (key order
// included), definition files and warnings, and be refused with the same messages.
const recorded = JSON.parse(
  readFileSync(new URL("./fixtures/evaluation/recorded.json", import.meta.url), "utf8"),
);

describe("evaluation gives what it gave before", () => {
  const now = outcomes({ ...modules, ...core });

  for (const name of Object.keys(recorded.evaluated)) {
    it(`evaluates ${name} to the recorded deployment, byte for byte`, () => {
      expect(JSON.stringify(now.evaluated[name], null, 1)).toBe(
        JSON.stringify(recorded.evaluated[name], null, 1),
      );
    });
  }

  for (const name of Object.keys(recorded.refused)) {
    it(`refuses ${name} with the recorded error`, () => {
      expect(now.refused[name]).toEqual(recorded.refused[name]);
    });
  }

  it("runs every recorded case", () => {
    expect(Object.keys(now.evaluated)).toEqual(Object.keys(recorded.evaluated));
    expect(Object.keys(now.refused)).toEqual(Object.keys(recorded.refused));
  });
});
