import { expect } from "vitest";
import { evalModules, type Module, ModuleError } from "../src/index.js";

/** Evaluates modules and returns the config. */
// biome-ignore lint/suspicious/noExplicitAny: tests read config paths of the modules they evaluate
export function cfg(...modules: Module[]): any {
  return evalModules({ modules }).config;
}

/** Runs `fn`, expects a ModuleError, returns it. */
export function err(fn: () => unknown): ModuleError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModuleError);
    return e as ModuleError;
  }
  throw new Error("expected a ModuleError, nothing was thrown");
}
