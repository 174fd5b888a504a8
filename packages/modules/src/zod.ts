/**
 * zod, loaded on first use. Importing zod costs more than the rest of the engine together at
 * start-up, and only JSON Schema generation and the types' `zod` schemas need it, so the engine
 * evaluates without ever loading it. It is loaded synchronously through `require` (zod ships a
 * CommonJS build) because `OptionType.zod` is a synchronous getter. A schema from the caller's
 * own (ES module) zod mixes with ours: zod 4 recognises schemas by their traits, not by class
 * identity, and keeps its metadata registry on `globalThis`.
 */
import { createRequire } from "node:module";
import type { z as Z } from "zod";

let loaded: typeof Z | undefined;

/** The `z` namespace of zod, required on the first call. */
export function zod(): typeof Z {
  loaded ??= (createRequire(import.meta.url)("zod") as { z: typeof Z }).z;
  return loaded;
}
