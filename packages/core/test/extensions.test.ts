import { defineModule, mkDefault, mkForce, mkOption, types } from "@nix2dream/modules";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type DeploymentDefinition,
  defineRenderer,
  type EvaluatedService,
  evaluateDeployment,
  ModuleError,
} from "../src/index.js";
import { ownerModule, teamModule } from "./fixtures/team-module/index.js";

const FILE = "nix2dream.config.ts";

/** A renderer that prints what it reads from the options a module added. */
const teams = defineRenderer({
  name: "teams",
  render: (d) => ({
    artifacts: [
      {
        path: "teams.txt",
        content: Object.values(d.services)
          .map((s) => `${d.owner} ${s.name} ${s.team} ${s.oncall.pager ?? "-"}\n`)
          .join(""),
      },
    ],
    diagnostics: [],
  }),
});

function render(definition: DeploymentDefinition): string {
  const { deployment, renderers } = evaluateDeployment(definition, { file: FILE });
  return String(renderers[0]?.render(deployment).artifacts[0]?.content);
}

describe("options a module adds to services and to the deployment", () => {
  it("reach a renderer, with their defaults and the user's definitions", () => {
    const out = render({
      name: "shop",
      owner: "ops",
      use: [teams],
      modules: [teamModule, ownerModule],
      services: { api: { command: "api", team: "web", oncall: { pager: "+1 555" } }, db: {} },
    });
    expect(out).toBe("ops api web +1 555\nops db platform -\n");
  });

  it("merge by priority across modules as the core options do", () => {
    const defaults = defineModule("modules/defaults.ts", {
      config: { services: { api: { team: mkDefault("guessed") } } },
    });
    const forced = defineModule("modules/forced.ts", {
      config: { services: { db: { team: mkForce("dba") } } },
    });
    const out = render({
      name: "shop",
      owner: "ops",
      use: [teams],
      modules: [teamModule, ownerModule, defaults, forced],
      services: { api: {}, db: { team: "web" } },
    });
    expect(out).toBe("ops api guessed -\nops db dba -\n");
  });

  it("are in the evaluated service as plain data, keys sorted", () => {
    const { deployment } = evaluateDeployment(
      { name: "shop", owner: "ops", modules: [teamModule, ownerModule], services: { api: {} } },
      { file: FILE },
    );
    const api = deployment.services.api as EvaluatedService;
    expect(api.team).toBe("platform");
    expect(api.oncall).toEqual({ pager: null });
    expect(Object.keys(api)).toEqual([...Object.keys(api)].sort());
    expect(deployment.owner).toBe("ops");
    expectTypeOf(api.team).toEqualTypeOf<string>();
    expectTypeOf(api.oncall.pager).toEqualTypeOf<string | null>();
    expectTypeOf(deployment.owner).toEqualTypeOf<string>();
  });

  it("a wrong type in an added option names the option and the file", () => {
    const run = () =>
      evaluateDeployment(
        {
          name: "shop",
          owner: "ops",
          modules: [teamModule, ownerModule],
          // @ts-expect-error team is a string
          services: { api: { team: 3 } },
        },
        { file: FILE },
      );
    expect(run).toThrow(ModuleError);
    expect(run).toThrow(/services\.api\.team/);
    expect(run).toThrow(/nix2dream\.config\.ts/);
  });

  it("a module may not declare a top-level option the evaluated deployment computes", () => {
    const root = defineModule("modules/root.ts", {
      options: { root: mkOption({ type: types.str, default: "/" }) },
    });
    const run = () =>
      evaluateDeployment(
        { name: "shop", owner: "ops", modules: [ownerModule, root] },
        { file: FILE },
      );
    expect(run).toThrow(/top-level option `root`/);
  });
});
