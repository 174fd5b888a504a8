/** Deterministic JSON and the deep merge of the escape hatches. */
import { deepMerge } from "@nix2dream/core";

/** JSON with object keys sorted at every level, two-space indented, newline-terminated. */
export { stableJson } from "@nix2dream/core/json";
/** The deep merge of the escape hatches: core's (objects merge, `null` deletes, lists replace). */
export { deepMerge };
