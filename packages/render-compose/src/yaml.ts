/**
 * YAML for Compose tools. The document is written with the YAML 1.1 schema, which is what
 * docker-compose v1 (PyYAML) reads: strings such as `no`, `on`, `0755` or `1:30` are quoted so
 * that they stay strings, and numbers-as-strings stay strings.
 */
import { deepMerge } from "@nix2dream/core";
import { printYaml } from "./yaml-print.js";

/** Escapes `$` as `$$` so Compose's interpolation leaves the value as written. */
export function literal(value: string): string {
  return value.replaceAll("$", "$$$$");
}

/** Plain objects (not arrays, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The deep merge of `override` options: core's (objects merge, `null` deletes, lists replace). */
export { deepMerge };

/**
 * The YAML text of `value`, preceded by `header` comment lines. Strings holding DEL, C1
 * controls, U+2028 or U+2029 are written double-quoted with those characters escaped; see
 * {@link printYaml} for the rest.
 */
export function toYaml(value: unknown, header: string[] = []): string {
  const body = printYaml(value);
  const comments = header.map((l) => (l ? `# ${l}` : "#")).join("\n");
  return comments ? `${comments}\n${body}` : body;
}
