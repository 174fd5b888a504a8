/**
 * The contract's one user-error type: thrown by a manager or a renderer (here ones written in
 * the config, as a third party would), printed by the CLI as `error:` / `hint:` naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanProjects, cli, config, project, requireBuild } from "./helpers.js";

beforeAll(requireBuild);
afterAll(cleanProjects);

const plugins = `import { defineManager, defineRenderer, UserError } from "nix2dream";

const picky = defineRenderer({
  name: "picky",
  render: () => {
    throw new UserError("NO_SUCH_TARGET", "The target \`moon\` is not reachable from here.", {
      hint: "Use \`earth\` instead.",
    });
  },
});

const sleepy = defineManager({
  name: "sleepy",
  renderer: "picky",
  actions: {
    ps: async () => {
      throw new UserError("NOTHING_RUNNING", "Nothing runs for deployment \`shop\`.", {
        hint: "Start it with \`nix2dream up\`.",
      });
    },
  },
});`;

const deployment = config(
  `{ name: "shop", use: [picky, sleepy], services: { api: { command: "api" } } }`,
  plugins,
);

describe("a UserError from a plugin", () => {
  it("thrown by a manager's action prints as error: and hint: naming the manager, exit 1", async () => {
    const dir = await project({ "nix2dream.config.ts": deployment });
    const r = cli(dir, ["ps"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "error: manager sleepy: Nothing runs for deployment `shop`.\nhint: Start it with `nix2dream up`.\n",
    );
  });

  it("thrown by a renderer prints the same way, naming the renderer, exit 1", async () => {
    const dir = await project({ "nix2dream.config.ts": deployment });
    const r = cli(dir, ["render"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "error: renderer picky: The target `moon` is not reachable from here.\nhint: Use `earth` instead.\n",
    );
  });
});
