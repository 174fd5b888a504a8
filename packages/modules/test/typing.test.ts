import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  defineOptions,
  evalModules,
  fromZod,
  type InferOptions,
  mkOption,
  type OptionDeclaration,
  type OptionType,
  types,
} from "../src/index.js";

describe("type inference", () => {
  it("mkOption infers number from types.port", () => {
    expectTypeOf(mkOption({ type: types.port, default: 80 })).toEqualTypeOf<
      OptionDeclaration<number>
    >();
  });
  it("mkOption infers the result of apply", () => {
    expectTypeOf(mkOption({ type: types.int, apply: (n) => String(n) })).toEqualTypeOf<
      OptionDeclaration<string>
    >();
  });
  it("enum infers a union of literals", () => {
    expectTypeOf(types.enum(["a", "b"])).toEqualTypeOf<OptionType<"a" | "b">>();
  });
  it("nullOr, listOf and attrsOf compose", () => {
    expectTypeOf(types.nullOr(types.listOf(types.attrsOf(types.str)))).toEqualTypeOf<
      OptionType<Record<string, string>[] | null>
    >();
  });
  it("fromZod infers the schema output", () => {
    expectTypeOf(fromZod(z.object({ a: z.number() }))).toEqualTypeOf<OptionType<{ a: number }>>();
  });
  it("a submodule of typed options infers the nested shape", () => {
    const t = types.submodule({
      options: { port: mkOption({ type: types.port }), host: mkOption({ type: types.str }) },
    });
    type V = typeof t extends OptionType<infer X> ? X : never;
    expectTypeOf<V["port"]>().toEqualTypeOf<number>();
    expectTypeOf<V["host"]>().toEqualTypeOf<string>();
  });
  it("InferOptions gives the config type of an options tree", () => {
    const opts = defineOptions({
      services: mkOption({
        type: types.attrsOf(types.submodule({ options: { port: mkOption({ type: types.port }) } })),
      }),
      debug: { enable: mkOption({ type: types.bool, default: false }) },
    });
    type C = InferOptions<typeof opts>;
    expectTypeOf<C["debug"]["enable"]>().toEqualTypeOf<boolean>();
    expectTypeOf<C["services"][string]["port"]>().toEqualTypeOf<number>();
    const { config } = evalModules<C>({ modules: [{ options: opts }] });
    expectTypeOf(config.debug.enable).toEqualTypeOf<boolean>();
  });
});

// How another package extends a shared option set: declaration merging on an interface that
// the config type is built from (see README "Extending option sets").
interface ServiceRenderers {
  base: { enable: boolean };
}
interface ServiceRenderers {
  k8s: { namespace: string };
}
describe("declaration merging", () => {
  it("an interface extended in another declaration carries both members", () => {
    expectTypeOf<ServiceRenderers["k8s"]["namespace"]>().toEqualTypeOf<string>();
    expectTypeOf<ServiceRenderers["base"]["enable"]>().toEqualTypeOf<boolean>();
  });
});
