// The worked example of README.md, run as a test so the README stays true.
import { describe, expect, it } from "vitest";
import {
  defineModule,
  evalModules,
  forceDeep,
  ModuleError,
  mkAfter,
  mkDefault,
  mkForce,
  mkIf,
  mkOption,
  types,
} from "../src/index.js";

const service = types.submodule(({ name }) => ({
  options: {
    enable: mkOption({ type: types.bool, default: true }),
    host: mkOption({ type: types.str, default: name as string }),
    port: mkOption({ type: types.port, description: "Port the service listens on." }),
    env: mkOption({ type: types.attrsOf(types.str), default: {} }),
    args: mkOption({ type: types.listOf(types.str), default: [] }),
  },
}));

const options = defineModule("modules/options.ts", {
  options: { services: mkOption({ type: types.attrsOf(service), default: {} }) },
});

const db = defineModule("modules/db.ts", {
  services: { db: { port: mkDefault(5432), args: ["-c", "fsync=off"] } },
});

const api = defineModule("modules/api.ts", ({ config }) => ({
  services: {
    api: {
      port: 8080,
      args: ["serve"],
      env: {
        // A cross-reference, read lazily: module order does not matter.
        get DATABASE_URL() {
          return `postgres://${config.services.db.host}:${config.services.db.port}/app`;
        },
        NO_DATABASE: mkIf(() => !config.services.db.enable, "1"),
      },
    },
  },
}));

const site = defineModule("nix2dream.config.ts", {
  services: {
    db: { port: 6543 },
    api: { port: mkForce(9000), args: mkAfter(["--verbose"]) },
  },
});

describe("README worked example", () => {
  it("evaluates to the documented config", () => {
    const { config } = evalModules({ modules: [options, db, api, site] });
    expect(forceDeep(config)).toEqual({
      services: {
        api: {
          enable: true,
          host: "api",
          port: 9000,
          env: { DATABASE_URL: "postgres://db:6543/app" },
          args: ["serve", "--verbose"],
        },
        db: { enable: true, host: "db", port: 6543, env: {}, args: ["-c", "fsync=off"] },
      },
    });
  });
  it("reports a typo with the file and a suggestion", () => {
    const typo = defineModule("nix2dream.config.ts", { services: { api: { prot: 80 } } });
    const { config } = evalModules({ modules: [options, db, api, typo] });
    try {
      forceDeep(config);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ModuleError);
      expect((e as ModuleError).message).toBe(
        "The option `services.api.prot` does not exist (defined in nix2dream.config.ts as 80). Did you mean `services.api.port`?",
      );
    }
  });
});
