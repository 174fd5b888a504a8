// One test (or a few) per gap of issue 13: where the engine differed from the NixOS module
// system. Each of these failed before the fix it pins.
import { describe, expect, it } from "vitest";
import {
  assertionsModule,
  checkAssertions,
  defineModule,
  evalModules,
  forceDeep,
  type Module,
  mkForce,
  mkIf,
  mkOption,
  mkRemovedOptionModule,
  type OptionType,
  types,
} from "../src/index.js";
import { cfg, err } from "./helpers.js";

/** An option whose every field throws when read: the engine must not touch it unless it is used. */
function deathtrap(): ReturnType<typeof mkOption> {
  const trap = (field: string) => () => {
    throw new Error(`the engine read the \`${field}\` of an unused option`);
  };
  const fields = ["type", "default", "description", "apply", "example", "readOnly"];
  const decl = {};
  for (const f of fields) Object.defineProperty(decl, f, { get: trap(f), enumerable: true });
  return mkOption(decl);
}

describe("gap 1: declarations are merged lazily", () => {
  const value = { options: { value: mkOption({ type: types.int, default: 1 }) } };
  it("an unused option whose declarations conflict breaks neither other reads nor Object.keys", () => {
    const c = cfg(
      value,
      { file: "a.ts", options: { broken: mkOption({ default: 1 }) } },
      { file: "b.ts", options: { broken: mkOption({ default: 2 }) } },
    );
    expect(c.value).toBe(1);
    expect(Object.keys(c).sort()).toEqual(["broken", "value"]);
    const e = err(() => c.broken);
    expect(e.code).toBe("DECLARATION_CONFLICT");
    expect(e.optionPath).toBe("broken");
  });
  it("no field of an unused option's declaration is read (the deathtrap)", () => {
    const r = evalModules({
      modules: [value, { options: { unused: deathtrap(), nest: { unused: deathtrap() } } }],
    });
    expect(r.config.value).toBe(1);
    expect(Object.keys(r.config).sort()).toEqual(["nest", "unused", "value"]);
    expect(r.options.value.type.name).toBe("int");
    expect(Object.keys(r.options.nest)).toEqual(["unused"]);
    expect(() => r.config.unused).toThrow(/`type` of an unused option/);
  });
});

describe("gap 2: a removed option's definition is a failed assertion", () => {
  it("defining it fails checkAssertions with the removal message and throws only when read", () => {
    const { config } = evalModules({
      modules: [
        mkRemovedOptionModule(["legacy"], "Use `modern` instead."),
        { options: { modern: mkOption({ type: types.int, default: 3 }) } },
        defineModule("old.ts", { legacy: 1 }),
      ],
    });
    expect(config.modern).toBe(3);
    const failed = err(() => checkAssertions(config));
    expect(failed.code).toBe("FAILED_ASSERTIONS");
    expect(failed.message).toContain("`legacy` in old.ts no longer has any effect");
    expect(failed.message).toContain("Use `modern` instead.");
    const read = err(() => config.legacy);
    expect(read.code).toBe("REMOVED_OPTION");
    expect(read.message).toContain("Use `modern` instead.");
  });
});

describe("gap 3: empty values", () => {
  const lazy = (t: Parameters<typeof types.lazyAttrsOf>[0]) =>
    cfg({ options: { o: mkOption({ type: types.lazyAttrsOf(t) }) } }, { o: { a: mkIf(false, 1) } })
      .o.a;
  it("a lazyAttrsOf entry with every definition disabled has its type's empty value", () => {
    expect(lazy(types.listOf(types.int))).toEqual([]);
    expect(lazy(types.attrsOf(types.int))).toEqual({});
    expect(lazy(types.nullOr(types.int))).toBe(null);
    expect(lazy(types.submodule({}))).toEqual({});
  });
  it("types without an empty value stay used-but-not-defined", () => {
    expect(err(() => lazy(types.int)).code).toBe("UNDEFINED_OPTION");
    expect(err(() => lazy(types.nonEmptyListOf(types.int))).code).toBe("UNDEFINED_OPTION");
  });
});

describe("gap 4: a missing module argument", () => {
  const enable = { options: { enable: mkOption({ type: types.bool, default: false }) } };
  const wantsCustom = defineModule("custom-arg.ts", ({ custom }) => ({ enable: custom }));
  it("fails naming the argument and the module", () => {
    const e = err(() => evalModules({ modules: [enable, wantsCustom] }));
    expect(e.code).toBe("MISSING_ARGUMENT");
    expect(e.message).toContain("`custom`");
    expect(e.files).toEqual(["custom-arg.ts"]);
  });
  it("is found in _module.args", () => {
    expect(cfg(enable, wantsCustom, { _module: { args: { custom: true } } }).enable).toBe(true);
  });
});

describe("gap 5: freeform keys under mkIf false", () => {
  it("are absent", () => {
    const c = cfg({ freeformType: types.attrsOf(types.str) }, { a: mkIf(false, "x"), b: "y" });
    expect(Object.keys(c)).toEqual(["b"]);
    expect("a" in c).toBe(false);
  });
});

describe("gap 6: anonymous modules are keyed by position", () => {
  const decl = { options: { raw: mkOption({ type: types.lines }) } };
  const anonymous = { config: { raw: "pear" } };
  const keyed = { key: "pear", config: { raw: "pear" } };
  it("the same anonymous module imported twice counts twice", () => {
    expect(cfg({ imports: [decl, anonymous, anonymous] }).raw).toBe("pear\npear");
  });
  it("a keyed module imported twice counts once", () => {
    expect(cfg({ imports: [decl, keyed, keyed] }).raw).toBe("pear");
  });
});

describe("gap 7: options.<path>.files", () => {
  it("lists only the files whose definitions won", () => {
    const { options } = evalModules({
      modules: [
        { options: { port: mkOption({ type: types.int }) } },
        defineModule("low.ts", { port: 1 }),
        defineModule("high.ts", { port: mkForce(2) }),
      ],
    });
    expect(options.port.files).toEqual(["high.ts"]);
  });
});

describe("gap 8: errors carry NixOS's facts", () => {
  it("an undeclared option shows each defined value next to its file", () => {
    const e = err(() => cfg(defineModule("define-enable.ts", { enable: true })));
    expect(e.message).toContain("`enable` does not exist");
    expect(e.message).toContain("define-enable.ts as true");
  });
  it("did you mean lists every close name", () => {
    const e = err(() =>
      cfg(
        {
          options: {
            services: {
              myservice: {
                enable: mkOption({ type: types.bool }),
                enabled: mkOption({ type: types.bool }),
              },
            },
          },
        },
        { services: { myservice: { enabel: true } } },
      ),
    );
    expect(e.message).toContain("`services.myservice.enable`");
    expect(e.message).toContain("`services.myservice.enabled`");
  });
  it("options nested under a non-submodule option name the parent's type and the nested path", () => {
    const c = cfg(
      defineModule("declare-set.ts", {
        options: { set: mkOption({ type: types.attrsOf(types.int) }) },
      }),
      defineModule("declare-enable-nested.ts", {
        options: { set: { enable: mkOption({ type: types.bool, default: false }) } },
      }),
    );
    const e = err(() => c.set);
    expect(e.message).toContain("attribute set of signed integer");
    expect(e.message).toContain("`set.enable` in declare-enable-nested.ts");
    expect(e.files).toEqual(["declare-set.ts", "declare-enable-nested.ts"]);
  });
});

describe("gap 9: a declaration that reads config while its module is collected", () => {
  it("gets the real config, not a placeholder, in its type", () => {
    const bare: Module = ({ config }) => ({
      options: {
        sub: mkOption({
          type: types.submoduleWith({
            modules: [{ options: { config: mkOption({ type: types.bool, default: false }) } }],
            shorthandOnlyDefinesConfig: config.shorthand,
          }),
          default: {},
        }),
        shorthand: mkOption({ type: types.bool, default: false }),
      },
    });
    // With shorthandOnlyDefinesConfig, `{ config: true }` defines the sub-option `config`;
    // without, it is a module whose `config` must be a set. A placeholder (truthy) in the
    // type would take it as shorthand even when config says false.
    expect(cfg(bare, { shorthand: true }, { sub: { config: true } }).sub.config).toBe(true);
    expect(err(() => cfg(bare, { sub: { config: true } }).sub.config).code).toBe("TYPE_MISMATCH");
  });
});

describe("gap 10: missing features", () => {
  const enable = { options: { enable: mkOption({ type: types.bool, default: false }) } };
  it("_module.check = false lets undeclared definitions through", () => {
    expect(cfg(enable, { enable: true, other: 1, _module: { check: false } }).enable).toBe(true);
  });
  it("types.coercedTo converts matching definitions", () => {
    const c = cfg({
      options: {
        // The config type is the converted one (string); a definition may be either.
        value: mkOption({
          type: types.coercedTo(types.int, String, types.str),
          default: 42 as unknown as string,
        }),
      },
    });
    expect(c.value).toBe("42");
  });
  it("disabledModules by a string relative to specialArgs.modulesPath", () => {
    const r = evalModules({
      modules: [
        enable,
        { key: "/mods/define-enable.ts", enable: true },
        { disabledModules: ["define-enable.ts"] },
      ],
      specialArgs: { modulesPath: "/mods" },
    });
    expect(r.config.enable).toBe(false);
  });
  it("a module that is itself mkForce { … } or mkIf c { … } is pushed down", () => {
    expect(cfg(enable, { enable: true }, mkForce({ enable: false })).enable).toBe(false);
    expect(cfg(enable, mkIf(true, { enable: true })).enable).toBe(true);
    expect(cfg(enable, mkIf(false, { enable: true })).enable).toBe(false);
  });
  it("assertionsModule stays importable next to a removed option (one key)", () => {
    expect(() =>
      checkAssertions(cfg(assertionsModule, mkRemovedOptionModule(["x"], "gone"))),
    ).not.toThrow();
    expect(forceDeep(cfg(assertionsModule)).assertions).toEqual([]);
  });
});

describe("gap 9, when the placeholder would be used", () => {
  const cases = [
    {
      what: "enum values",
      first: "a",
      value: "b",
      typeOf: (first: never) => types.enum([first, "b"]),
    },
    {
      what: "ints.between bounds",
      first: 1,
      value: 5,
      typeOf: (first: never) => types.ints.between(first, 10),
    },
  ];
  for (const { what, first, value, typeOf } of cases) {
    it(`a type whose ${what} were read from config at call time fails clearly when used early`, () => {
      const m: Module = ({ config }) => ({
        options: {
          mode: mkOption({ type: typeOf(config.first as never) as OptionType, default: value }),
          first: mkOption({ default: first }),
          copy: mkOption({ default: null }),
        },
        // Reads `mode` while this module is called the second time, before its declarations are replaced.
        config: { copy: config.mode },
      });
      const e = err(() => cfg(m));
      expect(e.code).toBe("INVALID_MODULE");
      expect(e.optionPath).toBe("mode");
      expect(e.message).toContain("get type()");
    });
  }
  it("the same type read from config works once config exists (the second call's declaration)", () => {
    const m: Module = ({ config }) => ({
      options: {
        mode: mkOption({ type: types.enum([config.first as string, "b"]), default: "b" }),
        first: mkOption({ default: "a" }),
      },
    });
    const c = cfg(m, { mode: "a" });
    expect(c.mode).toBe("a");
    expect(err(() => cfg(m, { mode: "c" }).mode).code).toBe("TYPE_MISMATCH");
  });
  it("a submodule type built from config at call time and used during the second calls fails clearly", () => {
    const m: Module = ({ config }) => ({
      options: {
        sub: mkOption({
          type: types.submoduleWith({ modules: [], shorthandOnlyDefinesConfig: config.flag }),
          default: {},
        }),
        flag: mkOption({ type: types.bool, default: false }),
        copy: mkOption({ default: null }),
      },
      // Reads `sub` while this module is called the second time, before its declarations are replaced.
      config: { copy: Object.keys(config.sub).length },
    });
    const e = err(() => cfg(m));
    expect(e.code).toBe("INVALID_MODULE");
    expect(e.message).toContain("get type()");
  });
});
