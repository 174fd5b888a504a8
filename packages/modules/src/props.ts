/**
 * Definition properties: the wrappers `mkIf`, `mkMerge`, `mkOverride`, `mkOrder` put around a
 * definition value. They are plain tagged objects so they survive being passed around.
 */

import { ModuleError } from "./errors.js";

function checkPriority(fn: string, priority: unknown): void {
  if (typeof priority !== "number" || Number.isNaN(priority)) {
    throw new ModuleError(
      "INVALID_MODULE",
      `${fn} expects a numeric priority, got ${String(priority)}.`,
    );
  }
}

export const PROP: unique symbol = Symbol.for("nix2dream.modules.property");

/** `mkIf(cond, content)`: content only counts when `cond` (a boolean, or a thunk of one) is true. */
export interface IfProp<T = unknown> {
  readonly [PROP]: "if";
  readonly _type: "mkIf";
  readonly condition: boolean | (() => boolean);
  readonly content: T;
}
/** `mkMerge(contents)`: several definitions in one place. */
export interface MergeProp<T = unknown> {
  readonly [PROP]: "merge";
  readonly _type: "mkMerge";
  readonly contents: readonly T[];
}
/** `mkOverride(priority, content)`: lower number wins. */
export interface OverrideProp<T = unknown> {
  readonly [PROP]: "override";
  readonly _type: "mkOverride";
  readonly priority: number;
  readonly content: T;
}
/** `mkOrder(priority, content)`: lower number sorts first in lists and lines. */
export interface OrderProp<T = unknown> {
  readonly [PROP]: "order";
  readonly _type: "mkOrder";
  readonly priority: number;
  readonly content: T;
}
/** Internal: a definition that carries its own file (aliases forward the original files). */
export interface LocatedProp<T = unknown> {
  readonly [PROP]: "located";
  readonly _type: "mkLocated";
  readonly file: string;
  readonly content: T;
}

export type Property = IfProp | MergeProp | OverrideProp | OrderProp | LocatedProp;

/** A definition value, possibly wrapped in properties. */
export type Definable<T> =
  | T
  | IfProp<Definable<T>>
  | MergeProp<Definable<T>>
  | OverrideProp<Definable<T>>
  | OrderProp<Definable<T>>;

export function isProperty(v: unknown): v is Property {
  return typeof v === "object" && v !== null && PROP in v;
}

/** Plain (non-wrapped) value priority. */
export const DEFAULT_PRIORITY = 100;
/** `mkOptionDefault`, what an option's `default` is. */
export const OPTION_DEFAULT_PRIORITY = 1500;
/** `mkDefault`. */
export const MK_DEFAULT_PRIORITY = 1000;
/** `mkForce`. */
export const MK_FORCE_PRIORITY = 50;
/** Order of a plain list/lines definition. */
export const DEFAULT_ORDER = 1000;

/**
 * Conditional definition. `cond` is read only when the option is evaluated; pass a thunk
 * (`() => config.x.enable`) to read other options lazily from inside a module.
 */
export function mkIf<T>(cond: boolean | (() => boolean), content: T): IfProp<T> {
  return { [PROP]: "if", _type: "mkIf", condition: cond, content };
}

/** Several definitions at once; equivalent to writing each in its own module. */
export function mkMerge<T>(contents: readonly T[]): MergeProp<T> {
  if (!Array.isArray(contents)) {
    throw new ModuleError("INVALID_MODULE", "mkMerge expects a list of definitions.");
  }
  return { [PROP]: "merge", _type: "mkMerge", contents };
}

/** A definition with an explicit priority; only the lowest number's definitions are merged. */
export function mkOverride<T>(priority: number, content: T): OverrideProp<T> {
  checkPriority("mkOverride", priority);
  return { [PROP]: "override", _type: "mkOverride", priority, content };
}

/** Priority 1000: a default that a plain definition replaces. */
export function mkDefault<T>(content: T): OverrideProp<T> {
  return mkOverride(MK_DEFAULT_PRIORITY, content);
}

/** Priority 50: wins over plain definitions. */
export function mkForce<T>(content: T): OverrideProp<T> {
  return mkOverride(MK_FORCE_PRIORITY, content);
}

/** Priority 1500, the priority of an option's `default`. */
export function mkOptionDefault<T>(content: T): OverrideProp<T> {
  return mkOverride(OPTION_DEFAULT_PRIORITY, content);
}

/** Orders list and lines definitions: lower first, stable; plain definitions are 1000. */
export function mkOrder<T>(priority: number, content: T): OrderProp<T> {
  checkPriority("mkOrder", priority);
  return { [PROP]: "order", _type: "mkOrder", priority, content };
}

/** Order 500: before plain definitions. */
export function mkBefore<T>(content: T): OrderProp<T> {
  return mkOrder(500, content);
}

/** Order 1500: after plain definitions. */
export function mkAfter<T>(content: T): OrderProp<T> {
  return mkOrder(1500, content);
}

/** @internal */
export function mkLocated<T>(file: string, content: T): LocatedProp<T> {
  return { [PROP]: "located", _type: "mkLocated", file, content };
}
