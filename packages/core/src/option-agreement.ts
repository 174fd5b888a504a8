/**
 * The compile-time check that a plugin's option module and the interface it merges into core
 * (`ServiceRenderers`, `DeploymentRenderers`, `DeploymentManagers`) describe the same options:
 * what evaluation delivers (inferred from the declarations with `InferOptions`) must be
 * assignable to the interface the plugin reads, with the same keys. `defineRenderer` and
 * `defineManager` apply it, so an interface saying `number` beside a declaration of `types.str`
 * fails `tsc` at the plugin's definition.
 */
import type { InferOptions } from "@nix2dream/modules";

/** The `options` tree a module literal (or a function module's result) declares. */
type OptionsOf<M> = [M] extends [(...args: never[]) => infer R]
  ? OptionsOfObject<R>
  : OptionsOfObject<M>;
// Not distributive: a union (the plain `Module` type) has no one options tree. A module's
// `imports` add theirs (one level, as the renderers here write them).
type OptionsOfObject<M> = [M] extends [{ options: infer O }]
  ? [M] extends [{ imports: readonly (infer I)[] }]
    ? O & ImportedOptions<I>
    : O
  : undefined;
type ImportedOptions<I> = (I extends unknown ? (x: OptionsOfImport<I>) => void : never) extends (
  x: infer All,
) => void
  ? All
  : never;
type OptionsOfImport<I> = [I] extends [{ options: infer O }] ? O : unknown;

/**
 * What evaluation delivers for the module's options, or `undefined` when the module's type
 * does not say (typed as plain `Module`, or options built at run time): such a module is not
 * checked.
 */
export type DeclaredOptions<M> =
  OptionsOf<M> extends infer O
    ? [O] extends [undefined]
      ? undefined
      : O extends object
        ? string extends keyof O
          ? undefined
          : InferOptions<O>
        : undefined
    : undefined;

/** The fields whose declared type does not fit the interface, with both types. */
type Mismatches<Declared, Written> = {
  [K in keyof Declared & keyof Written as [Declared[K]] extends [Written[K]] ? never : K]: {
    declared: Declared[K];
    written: Written[K];
  };
};

/**
 * `true` when `Declared` (from the option declarations) and `Written` (the interface) agree, or
 * when the module's type does not say; otherwise an object type naming what differs.
 */
export type OptionsAgreement<Declared, Written> = [Declared] extends [undefined]
  ? true
  : [Declared] extends [Written]
    ? [Exclude<keyof Declared, keyof Written> | Exclude<keyof Written, keyof Declared>] extends [
        never,
      ]
      ? true
      : {
          optionsDisagreeWithTheInterface: {
            declaredOnly: Exclude<keyof Declared, keyof Written>;
            writtenOnly: Exclude<keyof Written, keyof Declared>;
          };
        }
    : { optionsDisagreeWithTheInterface: Mismatches<Declared, Written> };

/**
 * The check for a module `M` of the plugin `Name` against the interface `Interfaces[Name]`
 * (`true` when the plugin merges no interface under its name). As a parameter type: nothing
 * when they agree, else the property `key` typed so that the module cannot be assigned to it,
 * which makes `tsc` name what differs at the plugin's definition.
 */
export type ModuleCheck<M, Interfaces, Name extends string, Key extends string> = (
  Name extends keyof Interfaces
    ? OptionsAgreement<DeclaredOptions<M>, Interfaces[Name]>
    : true
) extends infer A
  ? A extends true
    ? unknown
    : { [K in Key]: A }
  : unknown;

/**
 * `true` when the options module `M` declares exactly the options of `Interface`, with types
 * that fit it (what evaluation delivers can be read as `Interface`); otherwise what differs. A
 * module whose type does not carry its declarations (typed only as `Module`) does not agree:
 * for a package's type test of its option interfaces,
 * `expectTypeOf<OptionTypesAgree<typeof myServiceModule, MyServiceOptions>>().toEqualTypeOf<true>()`.
 */
export type OptionTypesAgree<M, Interface> = [DeclaredOptions<M>] extends [undefined]
  ? "the module's type does not carry its option declarations"
  : OptionsAgreement<DeclaredOptions<M>, Interface>;
