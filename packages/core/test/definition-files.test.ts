import { describe, expect, it } from "vitest";
import { definitionFilesView } from "../src/definition-files.js";
import {
  type DeploymentDefinition,
  definitionFilesAt,
  definitionFilesOf,
  evaluateDeployment,
} from "../src/index.js";

function evaluate(services: DeploymentDefinition["services"]) {
  const definition: DeploymentDefinition = {
    name: "shop",
    services,
    modules: [{ file: "/p/more.ts", config: { services: { api: { env: { EXTRA: "1" } } } } }],
  };
  return evaluateDeployment(definition, { file: "/p/nix2dream.config.ts" }).deployment;
}

describe("definitionFilesAt", () => {
  const services = {
    api: { command: ["api"], env: { PORT: "80" }, files: { "/etc/api.json": "{}" } },
    "api.restart": { command: ["x"], restart: "always" },
  } satisfies DeploymentDefinition["services"];

  it("answers by path array: a name holding a dot is one name", () => {
    const d = evaluate(services);
    expect(definitionFilesAt(d, ["services", "api", "restart"])).toEqual([]);
    expect(definitionFilesAt(d, ["services", "api.restart"])).toEqual(["/p/nix2dream.config.ts"]);
    expect(definitionFilesAt(d, ["services", "api.restart", "restart"])).toEqual([
      "/p/nix2dream.config.ts",
    ]);
    // The dotted record cannot tell the two apart.
    expect(d.definitionFiles["services.api.restart"]).toEqual(["/p/nix2dream.config.ts"]);
  });

  it("gives the files of an option, and of a key of an attribute-set option", () => {
    const d = evaluate(services);
    expect(definitionFilesAt(d, ["services", "api", "command"])).toEqual([
      "/p/nix2dream.config.ts",
    ]);
    expect(definitionFilesAt(d, ["services", "api", "env"])).toEqual([
      "/p/nix2dream.config.ts",
      "/p/more.ts",
    ]);
    expect(definitionFilesAt(d, ["services", "api", "env", "EXTRA"])).toEqual(["/p/more.ts"]);
    expect(definitionFilesAt(d, ["services", "api", "files", "/etc/api.json"])).toEqual([
      "/p/nix2dream.config.ts",
    ]);
    expect(definitionFilesAt(d, ["services", "api", "env", "NONE"])).toEqual([]);
    expect(definitionFilesAt(d, ["name"])).toEqual(["/p/nix2dream.config.ts"]);
    expect(definitionFilesAt(d, ["managers"])).toEqual([]);
    expect(definitionFilesAt(d, ["services", "api"])).toEqual([
      "/p/more.ts",
      "/p/nix2dream.config.ts",
    ]);
  });

  it("agrees with the dotted record wherever no name holds a dot", () => {
    const d = evaluate({ api: services.api, db: { command: ["db"], ports: { pg: 5432 } } });
    const paths = [
      ["services", "api", "env", "PORT"],
      ["services", "db", "ports", "pg"],
      ["services", "db", "ports"],
      ["services", "db", "replicas"],
      ["services"],
    ];
    for (const path of paths) {
      expect(definitionFilesAt(d, path)).toEqual(d.definitionFiles[path.join(".")] ?? []);
    }
  });

  it("reads a deployment it did not evaluate (a copy) through its dotted record", () => {
    const d = { ...evaluate(services) };
    expect(definitionFilesAt(d, ["services", "api", "env", "PORT"])).toEqual([
      "/p/nix2dream.config.ts",
    ]);
    expect(definitionFilesAt({ definitionFiles: {} }, ["services", "api"])).toEqual([]);
  });
});

describe("the evaluated deployment's definitionFiles", () => {
  it("is an ordinary enumerable property once read, in its place among the keys", () => {
    const d = evaluate({ api: { command: ["api"] } });
    expect(Object.keys(d)).toEqual([
      "managers",
      "name",
      "renderers",
      "services",
      "root",
      "definitionFiles",
      "warnings",
    ]);
    const files = d.definitionFiles;
    expect(d.definitionFiles).toBe(files);
    expect(Object.getOwnPropertyDescriptor(d, "definitionFiles")).toMatchObject({
      value: files,
      enumerable: true,
      writable: true,
    });
    expect(definitionFilesOf(d, "services.api.command")).toEqual(["/p/nix2dream.config.ts"]);
  });

  it("can be replaced before it is read", () => {
    const d = evaluate({ api: { command: ["api"] } });
    d.definitionFiles = { "services.api": ["/elsewhere.ts"] };
    expect(d.definitionFiles).toEqual({ "services.api": ["/elsewhere.ts"] });
  });
});

describe("definitionFilesOf before the record is built", () => {
  // Two fresh evaluations of one definition: one is asked through its record, the other before
  // its record exists (through the index the evaluation keeps).
  const definition = (): DeploymentDefinition => ({
    name: "shop",
    services: {
      a: { command: ["a"], env: { X: "1" }, restart: "always" },
      "a.restart": { command: ["b"], labels: { "Y.Z": "2" } },
      "a.env": { command: ["c"], files: { "/etc/a.conf": "x" } },
      web: { command: ["w"], ports: { http: 80 }, volumes: { data: {} } },
    },
    modules: [{ file: "/p/more.ts", config: { services: { "a.restart": { replicas: 2 } } } }],
  });
  const evaluate = () =>
    evaluateDeployment(definition(), { file: "/p/nix2dream.config.ts" }).deployment;

  it("gives what the record gives for every path in it, and for paths not in it", () => {
    const record = evaluate().definitionFiles;
    const paths = Object.keys(record).flatMap((k) => [k, `${k}.nothing`, `${k}.`]);
    paths.push("services.a.restart.labels.Y.Z", "services.a.env.files", "nothing", "services.a.x");
    const unread = evaluate();
    for (const path of paths) {
      expect(definitionFilesOf(unread, path), path).toEqual(
        definitionFilesOf({ definitionFiles: record }, path),
      );
      // The exact entry too (no fallback to an enclosing option).
      expect(definitionFilesView(unread)[path], path).toEqual(record[path]);
    }
    // Asked again and again: the first answers walk each service's options, the later ones come
    // from the lookup table a service gets once walking it has cost enough.
    for (let round = 0; round < 300; round++) {
      const view = definitionFilesView(unread);
      for (const path of paths)
        if (view[path] !== record[path]) expect(view[path], path).toEqual(record[path]);
    }
    // Asked without building the record.
    expect(Object.getOwnPropertyDescriptor(unread, "definitionFiles")?.get).toBeDefined();
  });
});

describe("definitionFilesView", () => {
  const evaluate = () =>
    evaluateDeployment(
      { name: "shop", services: { api: { command: ["api"], env: { A: "1" } } } },
      { file: "/p/c.ts" },
    ).deployment;

  it("looks paths up without building the record, and lists the record's keys", () => {
    const d = evaluate();
    const view = definitionFilesView(d);
    expect(view["services.api.env.A"]).toEqual(["/p/c.ts"]);
    expect("services.api.command" in view).toBe(true);
    expect(view["services.api.user"]).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(d, "definitionFiles")?.get).toBeDefined();
    expect({ ...view }).toEqual(evaluate().definitionFiles);
  });

  it("is the record itself once the record is built", () => {
    const d = evaluate();
    const record = d.definitionFiles;
    expect(definitionFilesView(d)).toBe(record);
  });
});
