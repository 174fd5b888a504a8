import { defineModule, mkOption, types } from "@nix2dream/modules";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type DeploymentDefinition,
  defineManager,
  type EvaluatedService,
  evaluateDeployment,
  isManager,
  isRenderer,
  ModuleError,
  ref,
  type ServiceDefinition,
} from "../src/index.js";
import demo from "./fixtures/render-demo/index.js";

const FILE = "nix2dream.config.ts";

const local = defineManager({
  name: "local",
  renderer: "demo",
  module: defineModule(import.meta.url, {
    options: {
      logDir: mkOption({ type: types.str, default: "logs", description: "Where logs go." }),
    },
  }),
  actions: { up: async () => ({ exitCode: 0 }) },
});

const definition = {
  name: "shop",
  use: [demo(), local],
  services: {
    db: { ports: { pg: 5432 } },
    api: {
      ports: { http: 8080 },
      env: { DATABASE_URL: `postgres://${ref.db?.host}:${ref.db?.ports.pg}/app` },
      dependsOn: ["db"],
      healthcheck: { port: "http", path: "/healthz" },
      renderers: { demo: { weight: 5, tags: ["web"] } },
    },
  },
  renderers: { demo: { header: "# shop" } },
} satisfies DeploymentDefinition;

describe("renderer and manager modules", () => {
  it("adds a renderer's service options under services.<svc>.renderers.<name>", () => {
    const { deployment } = evaluateDeployment(definition, { file: FILE });
    expect(deployment.services.api?.renderers.demo).toEqual({ weight: 5, tags: ["web"] });
    expect(deployment.services.db?.renderers.demo).toEqual({ weight: 1, tags: [] });
  });

  it("adds deployment-wide renderer options and manager options", () => {
    const { deployment } = evaluateDeployment(definition, { file: FILE });
    expect(deployment.renderers).toEqual({ demo: { header: "# shop" } });
    expect(deployment.managers).toEqual({ local: { logDir: "logs" } });
  });

  it("returns the renderers and managers in use", () => {
    const { renderers, managers } = evaluateDeployment(definition, { file: FILE });
    expect(renderers.map((r) => r.name)).toEqual(["demo"]);
    expect(managers.map((m) => m.name)).toEqual(["local"]);
    expect(isRenderer(renderers[0])).toBe(true);
    expect(isManager(managers[0])).toBe(true);
    expect(isManager(renderers[0])).toBe(false);
  });

  it("checks renderer options like core options, naming the file", () => {
    const e = (() => {
      try {
        evaluateDeployment(
          { ...definition, services: { api: { renderers: { demo: { weight: 0 } } } } },
          { file: FILE },
        );
      } catch (err) {
        return err as ModuleError;
      }
    })();
    expect(e).toBeInstanceOf(ModuleError);
    expect(e?.code).toBe("TYPE_MISMATCH");
    expect(e?.message).toContain("services.api.renderers.demo.weight");
    expect(e?.message).toContain(FILE);
  });

  it("rejects renderer options when the renderer is not in use", () => {
    const e = (() => {
      try {
        evaluateDeployment(
          { name: "x", services: { a: { renderers: { demo: { weight: 2 } } } } },
          { file: FILE },
        );
      } catch (err) {
        return err as ModuleError;
      }
    })();
    expect(e?.code).toBe("UNDECLARED_OPTION");
    expect(e?.message).toContain("services.a.renderers.demo");
  });

  it("renders with references resolved and diagnostics that name the files", () => {
    const { deployment, renderers } = evaluateDeployment(definition, { file: FILE });
    const result = renderers[0]?.render(deployment);
    expect(result?.artifacts).toEqual([
      {
        path: "services.txt",
        content: "# shop\ndb w=1 [] \napi w=5 [web] DATABASE_URL=postgres://127.0.0.1:5432/app\n",
      },
    ]);
    expect(result?.diagnostics).toEqual([
      {
        severity: "warning",
        option: "services.api.healthcheck",
        service: "api",
        files: [FILE],
        message: "demo cannot probe http; service api is started without waiting",
      },
    ]);
  });
});

describe("determinism", () => {
  it("gives byte-identical output whatever the order of modules and keys", () => {
    const a = evaluateDeployment(
      {
        name: "shop",
        use: [demo()],
        services: { b: { env: { Z: "1", A: "2" } }, a: { labels: { y: "1", x: "2" } } },
        modules: [
          { file: "one.ts", config: { services: { a: { env: { K: "v" } } } } },
          { file: "two.ts", config: { services: { c: { ports: { z: 1, a: 2 } } } } },
        ],
      },
      { file: FILE },
    );
    const b = evaluateDeployment(
      {
        name: "shop",
        use: [demo()],
        services: { a: { labels: { x: "2", y: "1" } }, b: { env: { A: "2", Z: "1" } } },
        modules: [
          { file: "two.ts", config: { services: { c: { ports: { a: 2, z: 1 } } } } },
          { file: "one.ts", config: { services: { a: { env: { K: "v" } } } } },
        ],
      },
      { file: FILE },
    );
    const strip = (d: typeof a.deployment) => ({ ...d, definitionFiles: undefined });
    expect(JSON.stringify(strip(a.deployment))).toBe(JSON.stringify(strip(b.deployment)));
    expect(Object.keys(a.deployment.services.c?.ports ?? {})).toEqual(["a", "z"]);
    const render = (e: typeof a) => e.renderers[0]?.render(e.deployment).artifacts[0]?.content;
    expect(render(a)).toBe(render(b));
  });
});

describe("typing", () => {
  it("types renderer options added by declaration merging", () => {
    expectTypeOf<EvaluatedService["renderers"]["demo"]>().toEqualTypeOf<{
      weight: number;
      tags: string[];
    }>();
    expectTypeOf<NonNullable<ServiceDefinition["renderers"]>>().not.toBeAny();
    const ok: ServiceDefinition = { renderers: { demo: { weight: 3 } } };
    // @ts-expect-error weight is a number
    const bad: ServiceDefinition = { renderers: { demo: { weight: "heavy" } } };
    // @ts-expect-error no renderer named nope is installed
    const unknown: ServiceDefinition = { renderers: { nope: {} } };
    expect([ok, bad, unknown]).toHaveLength(3);
  });

  it("types core options, shorthands and mk* wrappers", () => {
    const ok: ServiceDefinition = {
      command: "redis-server",
      ports: { redis: 6379, admin: { port: 9000, expose: true } },
      dependsOn: ["db"],
      restart: "always",
      secrets: { A: "ENV_A", B: { fromFile: "/b" } },
      healthcheck: { command: ["true"], interval: "5s" },
    };
    // @ts-expect-error not a restart policy
    const badRestart: ServiceDefinition = { restart: "sometimes" };
    // @ts-expect-error not a dependency condition
    const badDep: ServiceDefinition = { dependsOn: { db: "ready" } };
    expect([ok, badRestart, badDep]).toHaveLength(3);
  });
});

describe("definition files of plugin options", () => {
  it("records the files that defined a renderer's per-service and deployment options", () => {
    const { deployment } = evaluateDeployment(
      {
        ...definition,
        modules: [
          {
            file: "modules/weights.ts",
            config: { services: { db: { renderers: { demo: { weight: 2 } } } } },
          },
        ],
      },
      { file: FILE },
    );
    expect(deployment.definitionFiles["services.api.renderers.demo.weight"]).toEqual([FILE]);
    expect(deployment.definitionFiles["services.db.renderers.demo.weight"]).toEqual([
      "modules/weights.ts",
    ]);
    expect(deployment.definitionFiles["renderers.demo.header"]).toEqual([FILE]);
  });
});

describe("determinism under any module order", () => {
  it("evaluates to the same JSON for every permutation of the modules", async () => {
    const fc = await import("fast-check");
    const modules = [
      { file: "a.ts", config: { services: { api: { env: { A: "1" }, ports: { http: 8080 } } } } },
      {
        file: "b.ts",
        config: { services: { api: { env: { B: "2" } }, db: { ports: { pg: 5432 } } } },
      },
      {
        file: "c.ts",
        config: { services: { worker: { dependsOn: ["api", "db"], labels: { z: "1", a: "2" } } } },
      },
      {
        file: "d.ts",
        config: { services: { db: { volumes: { data: {} }, secrets: { PW: "DB_PW" } } } },
      },
    ];
    const json = (mods: typeof modules) => {
      const { deployment } = evaluateDeployment(
        { name: "p", use: [demo()], modules: mods },
        { file: FILE },
      );
      const { definitionFiles: _files, ...rest } = deployment;
      return JSON.stringify(rest);
    };
    const expected = json(modules);
    fc.assert(
      fc.property(fc.shuffledSubarray(modules, { minLength: modules.length }), (shuffled) => {
        expect(json(shuffled)).toBe(expected);
      }),
      { numRuns: 30 },
    );
  });
});
