/**
 * `nix2dream options --schema` checked with a real JSON Schema validator (ajv, draft 2020-12):
 * typos and missing required options are refused, a correct deployment passes.
 */
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { beforeAll, describe, expect, it } from "vitest";
import { cli } from "./helpers.js";

/** The quickstart example: the Procfile renderer and the local manager in `use`. */
const QUICKSTART = fileURLToPath(new URL("../../../examples/quickstart/", import.meta.url));

let validate: ((data: unknown) => boolean) & { errors?: unknown };

beforeAll(() => {
  const r = cli(QUICKSTART, ["options", "--schema"]);
  expect(r.code, r.stderr).toBe(0);
  validate = new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(r.stdout));
});

const valid = {
  name: "shop",
  services: {
    api: {
      command: ["node", "api.mjs"],
      ports: { http: 8080, admin: { port: 9090, expose: true } },
      healthcheck: { port: "http", path: "/healthz", interval: "1s" },
      dependsOn: ["db"],
      replicas: 2,
      renderers: { procfile: {} },
    },
    db: { command: "postgres", env: { PGDATA: "/var/lib/pg" } },
  },
  managers: { local: {} },
};

function errorsOf(data: unknown): string {
  expect(validate(data)).toBe(false);
  return JSON.stringify(validate.errors);
}

describe("the JSON Schema of the options", () => {
  it("accepts a correct deployment", () => {
    expect(validate(valid), JSON.stringify(validate.errors)).toBe(true);
  });

  it("refuses a misspelt service option (`replica`)", () => {
    const api = { ...valid.services.api, replica: 2 };
    expect(errorsOf({ ...valid, services: { ...valid.services, api } })).toContain(
      '"additionalProperty":"replica"',
    );
  });

  it("refuses a misspelt top-level option (`servics`)", () => {
    expect(errorsOf({ name: "shop", servics: {} })).toContain('"additionalProperty":"servics"');
  });

  it("refuses an unknown option of a renderer", () => {
    const api = { ...valid.services.api, renderers: { procfile: { colour: true } } };
    expect(errorsOf({ ...valid, services: { api } })).toContain('"additionalProperty":"colour"');
  });

  it("requires the deployment's name", () => {
    expect(errorsOf({ services: {} })).toContain('"missingProperty":"name"');
  });

  it("requires the port number of a port given as an object", () => {
    const api = { ports: { http: { expose: true } } };
    expect(errorsOf({ name: "shop", services: { api } })).toContain('"missingProperty":"port"');
  });
});
