// nixpkgs' lib/tests/modules.sh, ported: each `checkConfigOutput` / `checkConfigError` of that
// script that can exist in TypeScript, with the modules of lib/tests/modules/ translated to this
// package's API (test/fixtures/modules-sh.ts) and the expected value or the facts of the
// expected error. The cases left out, and why, are listed in README.md ("Ported from nixpkgs").
import { describe, expect, it } from "vitest";
import {
  evalModules,
  forceDeep,
  type Module,
  type ModuleError,
  optionsDocs,
} from "../src/index.js";
import * as f from "./fixtures/modules-sh.js";
import { err } from "./helpers.js";

const evaluate = (...modules: Module[]) =>
  evalModules({ modules, specialArgs: { modulesPath: f.MODULES } });
// biome-ignore lint/suspicious/noExplicitAny: config values of any shape are read by path
const at = (v: any, path: string): any => path.split(".").reduce((o, k) => o?.[k], v);
/** `config.<path>` of an evaluation of `modules` (checkConfigOutput). */
const value = (path: string, ...modules: Module[]) => at(evaluate(...modules).config, path);
/** The error of evaluating `config.<path>` deeply (checkConfigError). */
const failure = (path: string, ...modules: Module[]): ModuleError =>
  err(() => forceDeep(value(path, ...modules)));
/** Whether `config.<path>` exists (Nix: "attribute … not found" when it does not). */
const exists = (path: string, ...modules: Module[]): boolean => {
  const parts = path.split(".");
  const parent = at(evaluate(...modules).config, parts.slice(0, -1).join("."));
  return (
    typeof parent === "object" && parent !== null && Object.hasOwn(parent, parts.at(-1) as string)
  );
};
const file = (name: string) => `${f.MODULES}/${name}`;

describe("modules.sh: shorthand and module arguments", () => {
  it("a shorthand meta attribute does not duplicate the config", () => {
    expect(value("result", f.shorthandMeta)).toBe("one two");
  });
  it("a module argument is passed, also when the function has a default for it", () => {
    expect(value("result", f.moduleArgumentDefaultUser, f.provideA)).toBe(true);
  });
  it("(difference) a module cannot be given an argument only it defines itself", () => {
    // NixOS can (its arguments are lazy); here the argument is needed to call the module.
    const e = failure("result", f.moduleArgumentDefault);
    expect(e.code).toBe("MISSING_ARGUMENT");
    expect(e.message).toContain("`a`");
  });
});

describe("modules.sh: boolean option, undeclared options", () => {
  it("declare-enable alone is false", () => expect(value("enable", f.declareEnable)).toBe(false));
  it("a definition of an undeclared option shows the option, the value and the file", () => {
    const e = failure("enable", f.defineEnable);
    expect(e.code).toBe("UNDECLARED_OPTION");
    expect(e.message).toContain("`enable` does not exist");
    expect(e.message).toContain(`${file("define-enable.ts")} as true`);
  });
  it("an undeclared definition that throws is still reported as undeclared, with its file", () => {
    const e = failure("enable", f.defineEnableThrow);
    expect(e.code).toBe("UNDECLARED_OPTION");
    expect(e.message).toContain(`${file("define-enable-throw.ts")} as <a value that throws: oops>`);
  });
});

describe("modules.sh: boolByOr", () => {
  for (const [k, v] of [
    ["falseFalse", false],
    ["trueFalse", true],
    ["falseTrue", true],
    ["trueTrue", true],
  ] as const) {
    it(`value.${k} is ${v}`, () => expect(value(`value.${k}`, f.boolByOr)).toBe(v));
  }
});

describe("modules.sh: options declared under a submodule option (bare submodule)", () => {
  it("a nested option's default", () => {
    expect(
      value("bare-submodule.nested", f.declareBareSubmodule, f.declareBareSubmoduleNestedOption),
    ).toBe(1);
  });
  it("a deep option's default", () => {
    expect(
      value("bare-submodule.deep", f.declareBareSubmodule, f.declareBareSubmoduleDeepOption),
    ).toBe(2);
  });
  const all = [
    f.declareBareSubmodule,
    f.declareBareSubmoduleNestedOption,
    f.declareBareSubmoduleDeepOption,
    f.defineBareSubmoduleValues,
  ];
  it("a definition of the nested option", () =>
    expect(value("bare-submodule.nested", ...all)).toBe(42));
  it("a definition of the deep option", () =>
    expect(value("bare-submodule.deep", ...all)).toBe(420));
  it("with shorthandOnlyDefinesConfig (read from config by the type)", () => {
    expect(
      value(
        "bare-submodule.deep",
        f.declareBareSubmodule,
        f.declareBareSubmoduleDeepOption,
        f.defineShorthandOnlyDefinesConfigTrue,
      ),
    ).toBe(2);
  });
  it("the deep option declared twice names both files", () => {
    const e = failure(
      "bare-submodule.deep",
      f.declareBareSubmodule,
      f.declareBareSubmoduleDeepOption,
      f.declareBareSubmoduleDeepOptionDuplicate,
    );
    expect(e.code).toBe("DECLARATION_CONFLICT");
    expect(e.message).toContain("`bare-submodule.deep`");
    expect(e.message).toContain(file("declare-bare-submodule-deep-option.ts"));
    expect(e.message).toContain(file("declare-bare-submodule-deep-option-duplicate.ts"));
  });
});

describe("modules.sh: integer types", () => {
  it("unsigned accepts 42", () =>
    expect(value("value", f.declareIntUnsigned, f.defineValueIntPositive)).toBe(42));
  it("unsigned rejects -23 naming the type and the value", () => {
    const e = failure("value", f.declareIntUnsigned, f.defineValueIntNegative);
    expect(e.message).toContain("expected unsigned integer");
    expect(e.message).toContain(`got -23 (an integer) in ${file("define-value-int-negative.ts")}`);
  });
  it("positive rejects 0", () => {
    const e = failure("value", f.declareIntPositive, f.defineValueIntZero);
    expect(e.message).toContain("expected positive integer");
    expect(e.message).toContain("got 0");
  });
  it("between accepts 42", () =>
    expect(value("value", f.declareIntBetween, f.defineValueIntPositive)).toBe(42));
  it("between rejects -23 naming the bounds", () => {
    const e = failure("value", f.declareIntBetween, f.defineValueIntNegative);
    expect(e.message).toMatch(/between -21 and 43 \(both inclusive\)/);
    expect(e.message).toContain("got -23");
  });
});

describe("modules.sh: either, oneOf", () => {
  it("either int or str: 42", () =>
    expect(value("value", f.declareEither, f.defineValueIntPositive)).toBe(42));
  it('either int or str: "24"', () =>
    expect(value("value", f.declareEither, f.defineValueString)).toBe("24"));
  it("oneOf: 42", () => expect(value("value", f.declareOneOf, f.defineValueIntPositive)).toBe(42));
  it("oneOf: []", () => expect(value("value", f.declareOneOf, f.defineValueList)).toEqual([]));
  it('oneOf: "24"', () => expect(value("value", f.declareOneOf, f.defineValueString)).toBe("24"));
});

describe("modules.sh: mkForce without submodules", () => {
  const base = [f.declareEnable, f.defineEnable];
  it("plain", () => expect(value("enable", ...base)).toBe(true));
  it("a module that is mkForce { enable = false; }", () =>
    expect(value("enable", ...base, f.defineForceEnable)).toBe(false));
  it("enable = mkForce false", () =>
    expect(value("enable", ...base, f.defineEnableForce)).toBe(false));
});

describe("modules.sh: mkForce with option and submodules", () => {
  it("no definition: attrsOfSub.foo does not exist", () =>
    expect(exists("attrsOfSub.foo", f.declareAttrsOfSubAnyEnable)).toBe(false));
  it("foo = {}: its enable is false", () =>
    expect(
      value("attrsOfSub.foo.enable", f.declareAttrsOfSubAnyEnable, f.defineAttrsOfSubFoo),
    ).toBe(false));
  const base = [f.declareAttrsOfSubAnyEnable, f.defineAttrsOfSubFooEnable];
  it("foo.enable = true", () => expect(value("attrsOfSub.foo.enable", ...base)).toBe(true));
  for (const [name, mod] of [
    ["mkForce around the module", f.defineForceAttrsOfSubFooEnable],
    ["mkForce around attrsOfSub", f.defineAttrsOfSubForceFooEnable],
    ["mkForce around foo", f.defineAttrsOfSubFooForceEnable],
    ["mkForce around enable", f.defineAttrsOfSubFooEnableForce],
  ] as const) {
    it(`${name} wins`, () => expect(value("attrsOfSub.foo.enable", ...base, mod)).toBe(false));
  }
});

describe("modules.sh: overriding effect of mkForce on submodule definitions", () => {
  it("bar does not exist without a definition", () =>
    expect(exists("attrsOfSub.bar", f.declareAttrsOfSubAnyEnable, f.defineAttrsOfSubFoo)).toBe(
      false,
    ));
  it("bar = {}: its enable is false", () =>
    expect(
      value(
        "attrsOfSub.bar.enable",
        f.declareAttrsOfSubAnyEnable,
        f.defineAttrsOfSubFoo,
        f.defineAttrsOfSubBar,
      ),
    ).toBe(false));
  const base = [f.declareAttrsOfSubAnyEnable, f.defineAttrsOfSubFoo, f.defineAttrsOfSubBarEnable];
  it("bar.enable = true", () => expect(value("attrsOfSub.bar.enable", ...base)).toBe(true));
  it("mkForce around the module drops bar", () =>
    expect(exists("attrsOfSub.bar", ...base, f.defineForceAttrsOfSubFooEnable)).toBe(false));
  it("mkForce around attrsOfSub drops bar", () =>
    expect(exists("attrsOfSub.bar", ...base, f.defineAttrsOfSubForceFooEnable)).toBe(false));
  it("mkForce around foo keeps bar", () =>
    expect(value("attrsOfSub.bar.enable", ...base, f.defineAttrsOfSubFooForceEnable)).toBe(true));
  it("mkForce around foo.enable keeps bar", () =>
    expect(value("attrsOfSub.bar.enable", ...base, f.defineAttrsOfSubFooEnableForce)).toBe(true));
});

describe("modules.sh: mkIf with submodules", () => {
  const base = [f.declareEnable, f.declareAttrsOfSubAnyEnable];
  it("no definition: foo does not exist", () =>
    expect(exists("attrsOfSub.foo", ...base)).toBe(false));
  for (const [name, mod] of [
    ["a module that is mkIf", f.defineIfAttrsOfSubFooEnable],
    ["mkIf around attrsOfSub", f.defineAttrsOfSubIfFooEnable],
    ["mkIf around foo", f.defineAttrsOfSubFooIfEnable],
  ] as const) {
    it(`${name}, false: foo does not exist`, () =>
      expect(exists("attrsOfSub.foo", ...base, mod)).toBe(false));
    it(`${name}, true: foo.enable is true`, () =>
      expect(value("attrsOfSub.foo.enable", ...base, f.defineEnable, mod)).toBe(true));
  }
  it("mkIf around foo.enable, false: foo exists, enable false", () =>
    expect(value("attrsOfSub.foo.enable", ...base, f.defineAttrsOfSubFooEnableIf)).toBe(false));
  it("mkIf around foo.enable, true", () =>
    expect(
      value("attrsOfSub.foo.enable", ...base, f.defineEnable, f.defineAttrsOfSubFooEnableIf),
    ).toBe(true));
});

describe("modules.sh: disabledModules", () => {
  const base = [f.defineEnable, f.declareEnable];
  it("nothing disabled", () => expect(value("enable", ...base)).toBe(true));
  it("by module", () => expect(value("enable", ...base, f.disableDefineEnable)).toBe(false));
  it("by its file as a string", () =>
    expect(value("enable", ...base, f.disableDefineEnableStringPath)).toBe(false));
  it("disabling the declaration makes the definition undeclared", () => {
    const e = failure("enable", ...base, f.disableDeclareEnable);
    expect(e.code).toBe("UNDECLARED_OPTION");
    expect(e.message).toContain("as true");
  });
  it("disabling both: enable does not exist", () =>
    expect(exists("enable", ...base, f.disableDefineEnable, f.disableDeclareEnable)).toBe(false));
  it("by strings relative to modulesPath", () =>
    expect(exists("enable", ...base, f.disableEnableModules)).toBe(false));
  it("a module with a key, disabled by a module with that key", () => {
    expect(value("positive.enable", f.disableModuleWithKey)).toBe(true);
    expect(value("negative.enable", f.disableModuleWithKey)).toBe(false);
  });
  it("a module with a number key, disabled by that number", () => {
    expect(value("positive.enable", f.disableModuleWithToStringKey)).toBe(true);
    expect(value("negative.enable", f.disableModuleWithToStringKey)).toBe(false);
  });
  it("recursively: a module imported twice stays while one importer is left", () => {
    expect(value("enable", f.disableRecursiveMain)).toBe(true);
    expect(value("enable", f.disableRecursiveMain, f.disableRecursiveFoo)).toBe(true);
    expect(value("enable", f.disableRecursiveMain, f.disableRecursiveBar)).toBe(true);
    const e = failure(
      "enable",
      f.disableRecursiveMain,
      f.disableRecursiveFoo,
      f.disableRecursiveBar,
    );
    expect(e.code).toBe("UNDECLARED_OPTION");
    expect(e.message).toContain("as true");
  });
});

describe("modules.sh: _module.args", () => {
  const base = [f.declareEnable, f.defineEnableWithCustomArg];
  it("an argument nobody provides fails naming it and the module", () => {
    const e = failure("enable", ...base);
    expect(e.code).toBe("MISSING_ARGUMENT");
    expect(e.message).toContain("`custom`");
    expect(e.files).toEqual([file("define-enable-with-custom-arg.ts")]);
  });
  it("an argument from _module.args", () =>
    expect(value("enable", ...base, f.defineModuleArgsCustom)).toBe(true));
  it("imports that depend on an argument from _module.args fail naming the module", () => {
    const e = failure("enable", ...base, f.defineModuleArgsCustom, f.importCustomArg);
    expect(e.code).toBe("INFINITE_RECURSION");
    expect(e.files).toEqual([file("import-custom-arg.ts")]);
    expect(e.message).toContain("_module.args");
  });
});

describe("modules.sh: _module.check", () => {
  const base = [f.declareEnable, f.defineEnable, f.defineAttrsOfSubFoo];
  it("an undeclared definition fails", () => {
    const e = failure("enable", ...base);
    expect(e.code).toBe("UNDECLARED_OPTION");
    expect(e.optionPath).toBe("attrsOfSub");
  });
  it("_module.check = false lets it through", () =>
    expect(value("enable", ...base, f.defineModuleCheck)).toBe(true));
});

describe("modules.sh: coercedTo", () => {
  it("the default is converted", () => expect(value("value", f.declareCoercedValue)).toBe("42"));
  it("a value of the final type stays", () =>
    expect(value("value", f.declareCoercedValue, f.defineValueString)).toBe("24"));
  it("a value of neither type names the type", () => {
    const e = failure("value", f.declareCoercedValue, f.defineValueList);
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.message).toContain("string or signed integer convertible to it");
    expect(e.message).toContain(`got [] (a list) in ${file("define-value-list.ts")}`);
  });
  it("an unsound coercion: the default", () =>
    expect(value("value", f.declareCoercedValueUnsound)).toBe(12));
  it("an unsound coercion: a converted value out of range names the original value", () => {
    const e = failure("value", f.declareCoercedValueUnsound, f.defineValueStringBigint);
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.message).toContain('got "1000"');
  });
  it("an unsound coercion: a conversion that throws", () => {
    const e = failure("value", f.declareCoercedValueUnsound, f.defineValueStringArbitrary);
    expect(e.message).toMatch(/toInt: Could not convert .* to int/);
  });
});

describe("modules.sh: mkAliasOptionModule", () => {
  it("an alias at mkDefault loses to the option's definition", () => {
    expect(value("enable", f.aliasWithPriority)).toBe(true);
    expect(value("enableAlias", f.aliasWithPriority)).toBe(true);
  });
  it("an alias at mkForce wins", () => {
    expect(value("enable", f.aliasWithPriorityCanOverride)).toBe(false);
    expect(value("enableAlias", f.aliasWithPriorityCanOverride)).toBe(false);
  });
});

describe("modules.sh: submoduleWith", () => {
  it("specialArgs reach the submodule's modules", () =>
    expect(value("submodule.foo", f.declareSubmoduleWithSpecial)).toBe("foo"));
  it("shorthand declaration, shorthand definition", () =>
    expect(
      value("submodule.config", f.declareSubmoduleWithShorthand, f.defineSubmoduleWithShorthand),
    ).toBe(true));
  it("shorthand declaration, module-shaped definition: not a boolean", () => {
    const e = failure(
      "submodule.config",
      f.declareSubmoduleWithShorthand,
      f.defineSubmoduleWithNoShorthand,
    );
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.message).toContain("expected boolean");
  });
  it("module declaration, shorthand definition: a boolean where a set is needed", () => {
    const e = failure(
      "submodule.config",
      f.declareSubmoduleWithNoShorthand,
      f.defineSubmoduleWithShorthand,
    );
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.message).toContain(file("define-submoduleWith-shorthand.ts"));
    expect(e.message).toContain("true (a boolean)");
    expect(e.message).toContain("expected an attribute set");
  });
  it("module declaration, module-shaped definition", () =>
    expect(
      value(
        "submodule.config",
        f.declareSubmoduleWithNoShorthand,
        f.defineSubmoduleWithNoShorthand,
      ),
    ).toBe(true));
  it("all modules merge in one evaluation", () => {
    expect(value("submodule.inner", f.declareSubmoduleWithModules)).toBe(true);
    expect(value("submodule.outer", f.declareSubmoduleWithModules)).toBe(true);
    expect(evaluate(f.declareSubmoduleWithModules).options.submodule.type.description).toBe(
      "submodule",
    );
  });
  it("the type of an evaluation declares a submodule option (evalModules(…).type)", () => {
    expect(value("submodule.inner", f.declareSubmoduleViaEvalModules)).toBe(true);
    expect(value("submodule.outer", f.declareSubmoduleViaEvalModules)).toBe(true);
    expect(evaluate(f.declareSubmoduleViaEvalModules).options.submodule.type.description).toBe(
      "submodule",
    );
  });
  it("the file of a definition reaches the submodule's options", () =>
    expect(value("submodule.internalFiles", f.submoduleFiles)).toEqual(["the-file.ts"]));
});

describe("modules.sh: deferredModule", () => {
  it("the default module is merged into every node", () =>
    expect(value("nodes.foo.settingsDict.c", f.deferredModule)).toBe("beta"));
  it("an error in the default module names the file it was defined in, via the option", () => {
    const e = failure("nodes.foo.bottom", f.deferredModule);
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.message).toContain(
      'got "bogus" (a string) in the-file-that-contains-the-bad-config.ts, via option default',
    );
  });
  it("a deferred module that is not a module names its file, via the option", () => {
    const e = failure("result", f.deferredModuleError);
    expect(e.message).toContain(`${file("deferred-module-error.ts")}, via option deferred`);
    expect(e.message).toContain("not a module object");
  });
});

describe("modules.sh: definitions conditional on option existence", () => {
  it("enable declared: defined", () =>
    expect(value("enable", f.defineOptionDependently, f.declareEnable, f.declareIntPositive)).toBe(
      true,
    ));
  it("enable declared: value 360", () =>
    expect(value("value", f.defineOptionDependently, f.declareEnable, f.declareIntPositive)).toBe(
      360,
    ));
  it("enable not declared: value 7", () =>
    expect(value("value", f.defineOptionDependently, f.declareIntPositive)).toBe(7));
  it("nested, declared: defined", () =>
    expect(
      value(
        "set.enable",
        f.defineOptionDependentlyNested,
        f.declareEnableNested,
        f.declareIntPositiveNested,
      ),
    ).toBe(true));
  it("nested, declared: 360", () =>
    expect(
      value(
        "set.value",
        f.defineOptionDependentlyNested,
        f.declareEnableNested,
        f.declareIntPositiveNested,
      ),
    ).toBe(360));
  it("nested, not declared: 7", () =>
    expect(value("set.value", f.defineOptionDependentlyNested, f.declareIntPositiveNested)).toBe(
      7,
    ));
});

describe("modules.sh: attrsOf and lazyAttrsOf", () => {
  it("attrsOf is not lazy in its values", () => {
    const e = failure("isLazy", f.declareAttrsOf, f.attrsOfLazyCheck);
    expect(e.message).toContain("is not lazy");
  });
  it("lazyAttrsOf is", () =>
    expect(value("isLazy", f.declareLazyAttrsOf, f.attrsOfLazyCheck)).toBe(true));
  it("attrsOf drops a key defined only under mkIf false", () =>
    expect(value("conditionalWorks", f.declareAttrsOf, f.attrsOfConditionalCheck)).toBe(true));
  it("lazyAttrsOf keeps it", () =>
    expect(value("conditionalWorks", f.declareLazyAttrsOf, f.attrsOfConditionalCheck)).toBe(false));
  it("lazyAttrsOf gives it the type's empty value", () =>
    expect(value("value.foo", f.declareLazyAttrsOf, f.attrsOfConditionalCheck)).toBe("empty"));
  it("a type error is reported even next to a valid definition", () => {
    const e = failure("value", f.declareIntUnsigned, f.defineValueList, f.defineValueIntPositive);
    expect(e.code).toBe("TYPE_MISMATCH");
  });
});

describe("modules.sh: freeform modules", () => {
  it("an undeclared definition is freeform", () =>
    expect(value("value", f.freeformAttrsOf, f.defineValueString)).toBe("24"));
  it("shorthand modules take `class` and `meta` as config", () =>
    expect(
      at(
        evaluate(f.freeformAttrsOf, f.defineFreeformKeywordsShorthand).config,
        "_module.args.result",
      ),
    ).toBe(true));
  it("no freeform definitions: an empty config", () =>
    expect(forceDeep(evaluate(f.freeformAttrsOf).config)).toEqual({}));
  it("freeform values are type-checked", () =>
    expect(failure("value", f.freeformAttrsOf, f.defineValueList).code).toBe("TYPE_MISMATCH"));
  it("properties apply to freeform values", () =>
    expect(value("value", f.freeformAttrsOf, f.defineValueStringProperties)).toBe("yes"));
  it("declared options keep their own type", () => {
    expect(value("enable", f.freeformAttrsOf, f.defineValueString, f.declareEnable)).toBe(false);
    expect(value("value", f.freeformAttrsOf, f.defineValueString, f.declareEnable)).toBe("24");
  });
  it("nested freeform values next to declared ones (and an unused deathtrap)", () => {
    expect(value("nest.foo", f.freeformAttrsOf, f.freeformNested)).toBe(false);
    expect(value("nest.bar", f.freeformAttrsOf, f.freeformNested)).toBe("bar");
  });
  it("a declared option may depend on a freeform one", () => {
    expect(value("foo", f.freeformAttrsOf, f.freeformStrDepUnstr)).toBe(null);
    expect(value("foo", f.freeformAttrsOf, f.freeformStrDepUnstr, f.defineValueString)).toBe("24");
  });
  it("(difference) a freeform attrsOf value depending on a declared option", () => {
    // NixOS: infinite recursion (config's keys need the freeform values). Here declared options
    // never depend on freeform keys, so the condition is false and `foo` is absent.
    expect(exists("foo", f.freeformAttrsOf, f.freeformUnstrDepStr)).toBe(false);
  });
  it("a freeform lazyAttrsOf value depending on a declared option", () => {
    expect(failure("foo", f.freeformLazyAttrsOf, f.freeformUnstrDepStr).code).toBe(
      "UNDEFINED_OPTION",
    );
    expect(value("foo", f.freeformLazyAttrsOf, f.freeformUnstrDepStr, f.defineValueString)).toBe(
      "24",
    );
  });
  it("freeform types merge, submodules included", () => {
    expect(value("free.xxx.foo", f.freeformSubmodules)).toBe(10);
    expect(value("free.yyy.bar", f.freeformSubmodules)).toBe(10);
  });
  it("a submodule's freeform sub-options say which file declared them", () => {
    expect(value("fooDeclarations", f.freeformSubmodules)).toEqual([
      file("freeform-submodules.ts"),
    ]);
  });
});

describe("modules.sh: a freeform type with its own merge", () => {
  it("config has the keys of the merged freeform value, not the defined keys", () => {
    const modules = [f.adhocFreeformTypeSurvivesTypeMerge];
    expect(value("freeformItems.foo.bar", ...modules)).toBe("ok");
    expect(exists("foo", ...modules)).toBe(false);
    expect(Object.keys(evaluate(...modules).config).sort()).toEqual(["dummy", "freeformItems"]);
  });
});

describe("modules.sh: types.anything", () => {
  it("attribute sets merge recursively", () => {
    for (const p of ["value.foo", "value.l1.foo", "value.l1.l2.foo", "value.l1.l2.l3.foo"])
      expect(value(p, f.anythingNestedAttrs)).toBe(null);
  });
  it("lists are not concatenated", () => {
    const e = failure("value", f.anythingLists);
    expect(e.code).toBe("CONFLICTING_DEFINITIONS");
    expect(e.message).toContain("has conflicting definitions");
  });
  it("equal atoms merge", () => {
    expect(value("value", f.anythingEqualAtoms)).toEqual({
      int: 0,
      bool: false,
      string: "",
      path: "/",
      null: null,
      float: 0.1,
    });
  });
  it("functions with results of different kinds conflict in the function body", () => {
    const e = failure("applied.multiple-lambdas", f.anythingFunctions);
    expect(e.code).toBe("CONFLICTING_DEFINITIONS");
    expect(e.optionPath).toBe("value.multiple-lambdas.<function body>");
  });
  it("a single function stays a function", () =>
    expect(value("valueIsFunction.single-lambda", f.anythingFunctions)).toBe(true));
  it("functions returning sets merge their results", () => {
    expect(value("applied.merging-lambdas.x", f.anythingFunctions)).toBe(null);
    expect(value("applied.merging-lambdas.y", f.anythingFunctions)).toBe(null);
  });
  it("every mk* property applies", () => {
    const c = evaluate(f.anythingMkMods).config;
    expect("mkiffalse" in c.value).toBe(false);
    expect(c.value.mkiftrue).toEqual({});
    expect(c.value.mkdefault).toBe(1);
    expect(c.value.mkmerge).toEqual({});
    expect(c.value.mkbefore).toBe(true);
    expect(c.value.nested.foo).toBe(1);
    expect(c.value.nested.bar.baz).toBe("baz");
  });
});

describe("modules.sh: types.functionTo", () => {
  it("trivial", () => expect(value("result", f.functionToTrivial)).toBe("input is input"));
  it("list results merge", () => expect(value("result", f.functionToMergingList)).toBe("a b"));
  it("a result of the wrong type names the function body and the file", () => {
    const e = failure("result", f.functionToWrongType);
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.optionPath).toBe("fun.<function body>");
    expect(e.message).toContain("expected string");
    expect(e.message).toContain(file("functionTo/wrong-type.ts"));
  });
  it("mkAfter orders list results", () =>
    expect(value("result", f.functionToListOrder)).toBe("b a"));
  it("attribute set results merge with priorities", () =>
    expect(value("result", f.functionToMergingAttrs)).toBe("a c"));
  it("submodule results merge, and their options are listed under <function body>", () => {
    expect(value("result", f.functionToSubmoduleOptions)).toBe("a bee");
    expect(value("optionsResult", f.functionToSubmoduleOptions)).toBe(
      "fun.<function body>.a fun.<function body>.b",
    );
  });
});

describe("modules.sh: empty values", () => {
  it("listOf: []", () => expect(value("list.a", f.emptyValues)).toEqual([]));
  it("attrsOf: {}", () => expect(value("attrs.a", f.emptyValues)).toEqual({}));
  it("nullOr: null", () => expect(value("null.a", f.emptyValues)).toBe(null));
  it("submodule: {}", () => expect(value("submodule.a", f.emptyValues)).toEqual({}));
  it("int has none: used but not defined", () => {
    const e = failure("int.a", f.emptyValues);
    expect(e.code).toBe("UNDEFINED_OPTION");
    expect(e.message).toContain("`int.a` is used but not defined");
  });
  it("nonEmptyListOf has none", () => {
    const e = failure("nonEmptyList.a", f.emptyValues);
    expect(e.message).toContain("`nonEmptyList.a` is used but not defined");
  });
});

describe("modules.sh: types.raw", () => {
  it("nested values are not evaluated", () => {
    const c = evaluate(f.raw).config;
    expect(Object.keys(c.unprocessedNesting)).toEqual(["foo"]);
  });
  it("properties at the top are processed", () =>
    expect(value("processedToplevel", f.raw)).toBe(10));
  it("two definitions conflict", () => {
    const e = failure("multiple", f.raw);
    expect(e.code).toBe("CONFLICTING_DEFINITIONS");
    expect(e.message).toContain("`multiple`");
  });
  it("priorities apply", () => expect(value("priorities", f.raw)).toBe("bar"));
});

describe("modules.sh: declaration errors", () => {
  it("options nested under a non-submodule option name its type and the nested option", () => {
    const e = failure("set", f.declareSet, f.declareEnableNested);
    expect(e.code).toBe("DECLARATION_CONFLICT");
    expect(e.message).toContain(
      `\`set\` in ${file("declare-set.ts")} would be a parent of the options`,
    );
    expect(e.message).toContain("`attribute set of signed integer`");
    expect(e.message).toContain(`\`set.enable\` in ${file("declare-enable-nested.ts")}`);
  });
  it("a bare type instead of an option", () => {
    const e = failure("result", f.optionsTypeErrorTypical);
    expect(e.code).toBe("INVALID_MODULE");
    expect(e.message).toContain(`\`result\` in ${file("options-type-error-typical.ts")}`);
    expect(e.message).toContain("an option type");
  });
  it("a bare type instead of an option, nested", () => {
    const e = failure("result.here", f.optionsTypeErrorTypicalNested);
    expect(e.message).toContain("`result.here`");
  });
  it("an evaluated configuration instead of an option", () => {
    const e = failure("result", f.optionsTypeErrorConfiguration);
    expect(e.message).toContain('an object of type "configuration"');
  });
  it("a typeless option with options under it", () => {
    const e = failure("group.enable", f.mergeTypelessOption);
    expect(e.code).toBe("DECLARATION_CONFLICT");
    expect(e.message).toContain("`group`");
    expect(e.message).toContain("none declared");
    expect(e.message).toContain("`group.enable`");
  });
});

describe("modules.sh: what may be imported", () => {
  it("a value of another _type is not a module", () => {
    const e = failure("enable", f.moduleImportsTypeCheck);
    expect(e.code).toBe("INVALID_MODULE");
    expect(e.message).toContain('of type "flake"');
    expect(e.files).toEqual([file("module-imports-_type-check.ts")]);
  });
  it("a module that is mkIf at its top level", () =>
    expect(value("enable", f.declareEnable, f.defineEnableWithTopLevelMkIf)).toBe(true));
  it("an evaluated configuration is not a module", () => {
    const e = failure("enable", f.importConfiguration);
    expect(e.message).toContain('of type "configuration"');
    expect(e.message).toContain("import the modules it was made of");
  });
});

describe("modules.sh: renames", () => {
  it("a rename works without `warnings`", () => expect(value("c.d.e", f.doRenameBasic)).toBe(1234));
  it("a rename warns naming both paths and the file", () =>
    expect(value("result", f.doRenameWarnings)).toBe(
      `The option \`a.b\` defined in ${file("doRename-warnings.ts")} has been renamed to \`c.d.e\`.`,
    ));
});

describe("modules.sh: anonymous modules", () => {
  it("a keyed module imported twice counts once", () =>
    expect(value("once.raw", f.mergeModuleWithKey)).toBe("pear"));
  it("an anonymous module imported twice counts twice", () =>
    expect(value("twice.raw", f.mergeModuleWithKey)).toBe("pear\npear"));
});

describe("modules.sh: types.attrTag", () => {
  it("tagged values read back as one-attribute sets, also with tags joined from two declarations", () => {
    expect(value("okChecks", f.typesAttrTag)).toBe(true);
  });
  for (const name of [
    "syntaxError",
    "syntaxError2",
    "syntaxError3",
    "syntaxError4",
    "mergeError",
    "badTagError",
  ]) {
    it(`intStrings.${name} is not an attribute-tagged union (its values are not read)`, () => {
      const e = failure(`intStrings.${name}`, f.typesAttrTag);
      expect(e.code).toBe("TYPE_MISMATCH");
      expect(e.optionPath).toBe(`intStrings.${name}`);
      expect(e.message).toContain("attribute-tagged union");
      expect(e.message).not.toContain("do not eval");
    });
  }
  it("a wrong value under a valid tag names the tag's option and its type", () => {
    const e = failure("intStrings.badTagTypeError.left", f.typesAttrTag);
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.optionPath).toBe("intStrings.badTagTypeError.left");
    expect(e.message).toContain("signed integer");
  });
  it("a wrong value in a nested attrTag names the nested path", () => {
    const e = failure("nested.right.left", f.typesAttrTag);
    expect(e.optionPath).toBe("nested.right.left");
    expect(e.message).toContain("signed integer");
  });
  it("a tag that is a bare type, not an option, is an error naming the tag", () => {
    const e = failure("opt.int", f.typesAttrTagWrongDecl);
    expect(e.message).toContain(
      "In attrTag, each tag value must be an option, but tag int was a bare type, not wrapped in mkOption",
    );
  });
  it("the tags' options are documented under the option (submodule tags included)", () => {
    const docs = optionsDocs(evaluate(f.typesAttrTag).options);
    const byPath = Object.fromEntries(docs.map((d) => [d.path, d]));
    expect(byPath["submodules.<name>.foo.bar"]?.type).toBe("signed integer");
    expect(byPath["submodules.<name>.qux"]?.type).toBe("string");
    expect(byPath["submodules.<name>.qux"]?.description).toBe("A qux for when you want no foo");
    expect(byPath["submodules.<name>.qux"]?.readOnly).toBe(false);
  });
});

describe("modules.sh: doRename with a condition", () => {
  it("with the legacy enable set, the legacy option's definition goes to the new instance", () => {
    expect(value("result", f.doRenameCondition, f.doRenameConditionEnable)).toBe(true);
  });
  it("without it, no instance exists and the legacy option is not defined", () => {
    expect(value("result", f.doRenameCondition, f.doRenameConditionNoEnable)).toBe(true);
  });
  it("a migrated configuration reads the new instance through the legacy option", () => {
    expect(value("result", f.doRenameCondition, f.doRenameConditionMigrated)).toBe(true);
  });
});

describe("modules.sh: mergeAttrDefinitionsWithPrio", () => {
  it("gives each attribute its winning priority without reading values", () => {
    // mkDefault is 1000, a plain definition 100, mkForce 50 (nixpkgs lib/modules.nix).
    expect(value("result", f.testMergeAttrDefinitionsWithPrio)).toEqual([1000, 100, 50]);
  });
});

describe("modules.sh: module classes", () => {
  it("an evaluation of a class accepts a module of that class", () => {
    const r = evalModules({ class: "nixos", modules: [f.moduleClassIsNixos] });
    expect(forceDeep(r.config)).toEqual({});
    expect(r.class).toBe("nixos");
  });
  it("a module of another class is rejected, naming the module and both classes", () => {
    const e = err(() =>
      evalModules({ class: "nixos", modules: [f.moduleClassIsNixos, f.moduleClassIsDarwin] }),
    );
    expect(e.code).toBe("INVALID_MODULE");
    expect(e.message).toContain(
      `The module ${file("module-class-is-darwin.ts")} was imported into nixos instead of darwin.`,
    );
  });
  it("an inline module is named by its own file", () => {
    const e = err(() =>
      evalModules({ class: "nixos", modules: [f.moduleClassIsNixos, f.darwinModuleOfFlake] }),
    );
    expect(e.message).toContain(
      "The module foo.ts#darwinModules.default was imported into nixos instead of darwin.",
    );
  });
  it("a submodule of a class accepts a definition of that class", () => {
    expect(forceDeep(value("sub.nixosOk", f.classCheck))).toEqual({});
  });
  it("a submodule of a class rejects an imported module of another class", () => {
    const e = failure("sub.nixosFail", f.classCheck);
    expect(e.message).toContain(
      `The module ${file("module-class-is-darwin.ts")} was imported into nixos instead of darwin.`,
    );
  });
  it("two declarations of a submodule option with different classes conflict", () => {
    const e = failure("sub.mergeFail", f.classCheck);
    expect(e.code).toBe("DECLARATION_CONFLICT");
    expect(e.message).toContain(
      'A submoduleWith option is declared multiple times with conflicting class values "darwin" and "nixos".',
    );
  });
  it("without a class, modules of any class are accepted", () => {
    const r = evalModules({ modules: [f.moduleClassIsNixos, f.moduleClassIsDarwin] });
    expect(forceDeep(r.config)).toEqual({});
    expect(r.class).toBeUndefined();
  });
});

describe("modules.sh: types.optionType", () => {
  it("two submodule types defined for one option type merge: a default of one", () => {
    expect(value("theOption.int", f.optionTypeMerging)).toBe(10);
  });
  it("two submodule types defined for one option type merge: a definition of the other", () => {
    expect(value("theOption.str", f.optionTypeMerging)).toBe("hello");
  });
  it("a conflict inside merged submodule types names the file of each declaration", () => {
    const e = failure("theOption.nested", f.optionTypeFile);
    expect(e.code).toBe("DECLARATION_CONFLICT");
    // NixOS names other.nix first; the facts are the same: both files, already declared.
    expect(e.message).toMatch(
      new RegExp(
        `The option \`theOption\\.nested\` in (other\\.ts|${file("optionTypeFile.ts")}) is already declared in (other\\.ts|${file("optionTypeFile.ts")})`,
      ),
    );
    expect(e.files).toEqual(expect.arrayContaining(["other.ts", file("optionTypeFile.ts")]));
  });
});

describe("modules.sh: mkPackageOption", () => {
  const options = () => evaluate(f.declareMkPackageOption).options;
  it("the default is the package named after the option's package", () => {
    expect(value("package.pname", f.declareMkPackageOption)).toBe("hello");
  });
  it("a default given as a path of attributes", () => {
    expect(value("namedPackage.pname", f.declareMkPackageOption)).toBe("hello");
  });
  it("a default given as one attribute name", () => {
    expect(value("namedPackageSingletonDefault.pname", f.declareMkPackageOption)).toBe("hello");
  });
  it("the description names the package as given", () => {
    expect(options().namedPackage.description).toMatch(/Hello/);
  });
  it("the package named by a path", () => {
    expect(value("pathPackage.pname", f.declareMkPackageOption)).toBe("hello");
  });
  it("an example written as Nix code is shown as that code", () => {
    expect(options().packageWithExample.example.text).toBe(
      "pkgs.hello.override { stdenv = pkgs.clangStdenv; }",
    );
  });
  it("an example given as a path is shown as the attribute of pkgs", () => {
    expect(options().packageWithPathExample.example.text).toBe("pkgs.hello");
  });
  it("an extra description is appended", () => {
    expect(options().packageWithExtraDescription.description).toMatch(
      /Example extra description\./,
    );
  });
  it("without a default, reading the option says it has no value", () => {
    const e = failure("undefinedPackage", f.declareMkPackageOption);
    expect(e.code).toBe("UNDEFINED_OPTION");
    expect(e.optionPath).toBe("undefinedPackage");
  });
  it("a nullable package without a default is null", () => {
    expect(value("nullablePackage", f.declareMkPackageOption)).toBeNull();
  });
  it("a nullable package's type is null or package", () => {
    expect(options().nullablePackageWithDefault.type.description).toBe("null or package");
  });
  it("pkgsText is how the default is written", () => {
    expect(options().packageWithPkgsText.defaultText).toBe("myPkgs.hello");
  });
  it("the default comes from the package set given", () => {
    expect(options().packageFromOtherSet.default.pname).toBe("hello-other");
  });
  it("attribute names that are not identifiers are quoted in the default text", () => {
    expect(options().packageInvalidIdentifier.defaultText).toBe('pkgs."123"."with\\"quote".hello');
    expect(value("packageInvalidIdentifier.pname", f.declareMkPackageOption)).toBe("hello");
  });
  it("a default missing from the package set fails when read, naming the attribute", () => {
    const e = failure("packageMissing", f.declareMkPackageOption);
    expect(e.message).toContain("pkgs.goodbye cannot be found in pkgs");
  });
});

describe("modules.sh: moduleType and extendModules", () => {
  it("a variant evaluates every module again with its own definitions", () => {
    expect(value("resultFoo", f.declareVariants, f.defineVariant)).toBe("a b");
  });
  it("a variant of a variant adds its definitions to its parent's", () => {
    expect(value("resultFooBar", f.declareVariants, f.defineVariant)).toBe("a b y z");
  });
  it("a variant of the same name nests", () => {
    expect(value("resultFooFoo", f.declareVariants, f.defineVariant)).toBe("a b c");
  });
  it("extendModules in a submodule keeps the submodule's anonymous imports (nixpkgs issue 168767)", () => {
    expect(value("sub.specialisation.value", f.extendModules168767Imports)).toBe(1);
  });
  it("evalModules(...).extendModules adds modules to an evaluation", () => {
    const base = evaluate(f.declareEnable);
    expect(base.config.enable).toBe(false);
    expect(base.extendModules({ modules: [{ enable: true }] }).config.enable).toBe(true);
  });
});
