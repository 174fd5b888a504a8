import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  assertionsModule,
  evalModules,
  fromZod,
  mkOption,
  optionsDocs,
  optionsJsonSchema,
  types,
} from "../src/index.js";

const service = types.submodule({
  options: {
    port: mkOption({ type: types.port, default: 80, description: "Port to listen on." }),
    tags: mkOption({
      type: types.listOf(types.submodule({ options: { key: mkOption({ type: types.str }) } })),
      default: [],
    }),
  },
});
const { options } = evalModules({
  modules: [
    {
      file: "core.ts",
      options: {
        services: mkOption({
          type: types.attrsOf(service),
          default: {},
          description: "The services.",
        }),
        debug: mkOption({
          type: types.bool,
          default: false,
          example: true,
          description: "Debug output.",
        }),
        secret: mkOption({ type: types.str, default: "", internal: true, visible: false }),
        shallow: mkOption({ type: service, default: {}, visible: "shallow" }),
        computed: mkOption({
          type: types.str,
          defaultText: "the host name",
          description: "Computed.",
        }),
        email: mkOption({
          type: fromZod(z.string().email(), "email address"),
          default: "a@example.com",
        }),
      },
    },
  ],
});

describe("optionsDocs", () => {
  const docs = optionsDocs(options);
  const byPath = Object.fromEntries(docs.map((d) => [d.path, d]));
  it("lists options sorted by path", () => {
    const paths = docs.map((d) => d.path);
    expect(paths).toEqual([...paths].sort());
  });
  it("shows attrsOf submodule options under <name>", () => {
    expect(byPath["services.<name>.port"]).toMatchObject({
      type: expect.stringContaining("16 bit"),
      default: 80,
      description: "Port to listen on.",
    });
  });
  it("shows listOf submodule options under *", () => {
    expect(byPath["services.<name>.tags.*.key"]).toBeDefined();
  });
  it("includes example, declarations and flags", () => {
    expect(byPath.debug).toMatchObject({
      example: true,
      declarations: ["core.ts"],
      readOnly: false,
      internal: false,
      visible: true,
    });
  });
  it("keeps invisible options flagged, without their sub-options", () => {
    expect(byPath.secret).toMatchObject({ internal: true, visible: false });
  });
  it("visible: shallow hides sub-options only", () => {
    expect(byPath.shallow).toBeDefined();
    expect(byPath["shallow.port"]).toBeUndefined();
  });
  it("uses defaultText", () => {
    expect(byPath.computed?.defaultText).toBe("the host name");
    expect(byPath.computed && "default" in byPath.computed).toBe(false);
  });
  it("describes the type of a submodule container", () => {
    expect(byPath.services?.type).toBe("attribute set of submodule");
  });
  it("marks the sub-options of an internal option internal", () => {
    const docs = optionsDocs(evalModules({ modules: [assertionsModule] }).options);
    const flags = Object.fromEntries(docs.map((d) => [d.path, d.internal]));
    expect(flags).toMatchObject({
      assertions: true,
      "assertions.*.assertion": true,
      "assertions.*.message": true,
    });
    expect(byPath["services.<name>.port"]?.internal).toBe(false);
  });
});

describe("optionsJsonSchema", () => {
  // biome-ignore lint/suspicious/noExplicitAny: the schema is JSON of any shape; the tests read paths into it
  const schema = optionsJsonSchema(options) as any;
  it("is draft 2020-12", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  });
  it("describes nested submodule options", () => {
    const port = schema.properties.services.additionalProperties.properties.port;
    expect(port.type).toBe("integer");
    expect(port.maximum).toBe(65535);
    expect(port.description).toBe("Port to listen on.");
    expect(port.default).toBe(80);
  });
  it("carries fromZod schemas", () => {
    expect(schema.properties.email.format).toBe("email");
  });
  it("describes booleans and lists", () => {
    expect(schema.properties.debug.type).toBe("boolean");
    expect(schema.properties.services.additionalProperties.properties.tags.type).toBe("array");
  });
  it("is valid for a matching config", () => {
    expect(JSON.stringify(schema)).not.toContain("undefined");
  });
  it("refuses keys no option declares, at every level", () => {
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.services.additionalProperties.additionalProperties).toBe(false);
  });
  it("requires options without a default, and only those", () => {
    const tag = schema.properties.services.additionalProperties.properties.tags.items;
    expect(tag.required).toEqual(["key"]);
    expect(schema.properties.services.additionalProperties.required).toBeUndefined();
  });
  it("checks the keys of a freeform submodule against its freeform type", () => {
    const r = evalModules({
      modules: [
        {
          options: {
            settings: mkOption({
              type: types.submodule({
                freeformType: types.attrsOf(types.int),
                options: { port: mkOption({ type: types.port, default: 80 }) },
              }),
              default: {},
            }),
          },
        },
      ],
    });
    // biome-ignore lint/suspicious/noExplicitAny: the schema is JSON of any shape; the tests read paths into it
    const settings = (optionsJsonSchema(r.options) as any).properties.settings;
    expect(settings.additionalProperties.type).toBe("integer");
    expect(settings.properties.port.maximum).toBe(65535);
  });
  it("represents functions as unconstrained", () => {
    const r = evalModules({
      modules: [{ options: { f: mkOption({ type: types.functionTo(types.int) }) } }],
    });
    expect(() => optionsJsonSchema(r.options)).not.toThrow();
  });
});

describe("declaration files of submodule options", () => {
  it("inline submodule modules belong to the file declaring the option", () => {
    const r = evalModules({
      modules: [
        {
          file: "core/service.ts",
          options: {
            s: mkOption({
              type: types.attrsOf(
                types.submodule({ options: { a: mkOption({ type: types.int }) } }),
              ),
            }),
          },
        },
      ],
    });
    const doc = optionsDocs(r.options).find((d) => d.path === "s.<name>.a");
    expect(doc?.declarations).toEqual(["core/service.ts"]);
  });
  it("an undefined sub-option names the declaring file", () => {
    const r = evalModules({
      modules: [
        {
          file: "core/service.ts",
          options: {
            s: mkOption({
              type: types.submodule({ options: { a: mkOption({ type: types.int }) } }),
            }),
          },
        },
        { s: {} },
      ],
    });
    expect(() => r.config.s.a).toThrow(/declared in core\/service\.ts/);
  });
});
