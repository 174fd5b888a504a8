import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanProjects, cli, project, requireBuild } from "./helpers.js";

beforeAll(() => requireBuild());
afterAll(cleanProjects);

// A module function declares an option whose `example` is a Marker: only the evaluation's
// options tree refers to that object. The `census` renderer counts the live Markers with
// v8.queryObjects (which collects garbage first) while the CLI renders, and writes the count.
const censusConfig = `import { queryObjects } from "node:v8";
import { defineDeployment, defineRenderer, mkOption, types } from "nix2dream";

class Marker {}
const census = defineRenderer({
  name: "census",
  render: () => ({
    artifacts: [{ path: "live.txt", content: String(queryObjects(Marker, { format: "count" })) }],
    diagnostics: [],
  }),
});

export default defineDeployment({
  name: "shop",
  use: [census],
  modules: [
    () => ({ options: { marker: mkOption({ type: types.str, default: "m", example: new Marker() }) } }),
  ],
  services: { api: { command: ["node", "api.mjs"] } },
});
`;

describe("what a render keeps alive", () => {
  it("drops the evaluation's options tree before the renderers run", async () => {
    const dir = await project({ "nix2dream.config.ts": censusConfig });
    // queryObjects is experimental in Node 20: its warning would be the only line on stderr.
    const r = cli(dir, ["render"], { NODE_NO_WARNINGS: "1" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, ".nix2dream", "shop", "census", "live.txt"), "utf8")).toBe("0");
  });

  it("still lists an option a module declared with `nix2dream options`", async () => {
    const dir = await project({ "nix2dream.config.ts": censusConfig });
    const r = cli(dir, ["options", "--json"]);
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.stdout) as Array<{ path: string; default?: unknown }>;
    expect(entries.find((e) => e.path === "marker")).toMatchObject({ default: "m" });
  });
});
