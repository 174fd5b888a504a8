import { describe, expect, expectTypeOf, it } from "vitest";
import {
  defineDeployment,
  evaluateDeployment,
  mkIf,
  type ServiceDefinition,
  type ServiceRef,
} from "../src/index.js";

// Type tests: `tsc -p packages/nix2dream` (strict, noUncheckedIndexedAccess, from
// tsconfig.base.json) checks every line of this file, so a `@ts-expect-error` whose line
// type-checks fails the typecheck. The runtime assertions check what the typed form evaluates to.

/** The definition most tests extend: three services with ports, a volume and a file. */
function shop<const Extra extends Record<string, ServiceDefinition>>(extra: Extra) {
  return {
    name: "shop",
    services: {
      db: { command: ["postgres"], ports: { pg: 5432 }, volumes: { data: {} } },
      api: {
        command: ["node", "api.mjs"],
        ports: { http: { port: 8080 } },
        files: { "/etc/api.json": "{}" },
      },
      worker: { command: ["node", "worker.mjs"] },
      ...extra,
    },
  };
}
const base = shop({});

describe("defineDeployment, typed over the service names", () => {
  it("gives the callback references narrowed to what each service declares", () => {
    defineDeployment(base, ({ ref }) => {
      expectTypeOf(ref.db).toEqualTypeOf<ServiceRef<"pg", "data", string>>();
      expectTypeOf(ref.api.ports.http).toEqualTypeOf<string>();
      expectTypeOf(ref.api.files["/etc/api.json"]).toEqualTypeOf<string>();
      // worker writes no `ports`: a module may declare them, so any port name is accepted.
      expectTypeOf(ref.worker).toEqualTypeOf<ServiceRef<string, string, string>>();
      return {};
    });
  });

  it("merges the callback's definitions into the services", () => {
    const d = defineDeployment(base, ({ ref }) => ({
      api: {
        env: { DATABASE_URL: `postgres://${ref.db.address.pg}/shop`, PORT: ref.api.ports.http },
      },
      worker: { env: { API: ref.api.address.http, DATA: ref.db.volumes.data } },
    }));
    const { deployment } = evaluateDeployment(d, { file: "typed.ts" });
    expect(deployment.services.api?.command).toEqual(["node", "api.mjs"]);
    expect(deployment.services.api?.env.DATABASE_URL).toContain("address:db:pg");
    expect(deployment.services.worker?.env.DATA).toContain("volume:db:data");
  });

  it("merges the callback's definitions into a service written as a module function", () => {
    const d = defineDeployment(
      {
        name: "shop",
        services: {
          db: { ports: { pg: 5432 } },
          api: ({ name }) => ({ config: { description: `the ${name}` } }),
        },
      },
      ({ ref }) => ({ api: { env: { DB: ref.db.address.pg } } }),
    );
    const { deployment } = evaluateDeployment(d, { file: "typed.ts" });
    expect(deployment.services.api?.description).toBe("the api");
    expect(deployment.services.api?.env.DB).toContain("address:db:pg");
  });

  it("rejects a reference to a service that is not defined", () => {
    defineDeployment(base, ({ ref }) => ({
      // @ts-expect-error there is no service `cache` (tsc checks this line)
      api: { env: { CACHE: ref.cache.host } },
    }));
  });

  it("rejects a reference to a port the service does not declare", () => {
    defineDeployment(base, ({ ref }) => ({
      // @ts-expect-error db's port is `pg` (tsc checks this line)
      api: { env: { DB: ref.db.ports.postgres } },
    }));
    defineDeployment(base, ({ ref }) => ({
      // @ts-expect-error db's port is `pg` (tsc checks this line)
      api: { env: { DB: ref.db.port("postgres") } },
    }));
  });

  it("rejects dependsOn naming an unknown service, as a list or a record", () => {
    defineDeployment(
      {
        name: "shop",
        // @ts-expect-error `dbb` is not a service (tsc checks this line)
        services: { db: {}, api: { dependsOn: ["dbb"] } },
      },
      () => ({}),
    );
    defineDeployment(
      {
        name: "shop",
        // @ts-expect-error `dbb` is not a service (tsc checks this line)
        services: { db: {}, api: { dependsOn: { dbb: "healthy" } } },
      },
      () => ({}),
    );
    defineDeployment({ name: "shop", services: { db: {}, api: {} } }, () => ({
      // @ts-expect-error `dbb` is not a service (tsc checks this line)
      api: { dependsOn: ["dbb"] },
    }));
  });

  it("rejects a healthcheck port the service does not declare", () => {
    defineDeployment(
      {
        name: "shop",
        // @ts-expect-error api's port is `http` (tsc checks this line)
        services: { api: { ports: { http: 8080 }, healthcheck: { port: "htp" } } },
      },
      () => ({}),
    );
  });

  it("rejects the callback defining a service that is not in services", () => {
    defineDeployment(
      { name: "shop", services: { api: {} } },
      // @ts-expect-error `apj` is not a service (tsc checks this line)
      () => ({ apj: { command: ["x"] } }),
    );
  });

  it("falls back to any name where the declaration is not an object literal", () => {
    defineDeployment(
      {
        name: "shop",
        services: { db: { ports: mkIf(true, { pg: 5432 }) }, api: {} },
      },
      ({ ref }) => ({ api: { env: { DB: ref.db.port("anything") } } }),
    );
  });
});

describe("defineDeployment, untyped", () => {
  it("still takes any service name in dependsOn (a service may come from a module)", () => {
    const d = defineDeployment({ name: "shop", services: { api: { dependsOn: ["cache"] } } });
    expect(d.services).toEqual({ api: { dependsOn: ["cache"] } });
  });
});
