/**
 * Unit files as data: sections in order, the renderer's overrides applied to them, and their
 * printed form.
 */
import type { UnitOverride } from "./options.js";

/** A unit's sections, in the order they are printed. */
export type Sections = Array<[string, Record<string, string[]>]>;

/** Applies an override: each key replaces the generated values; null removes the key. */
export function applyOverride(
  sections: Sections,
  override: UnitOverride,
  problem: (message: string) => void,
): void {
  for (const name of Object.keys(override).sort()) {
    const keys = override[name] ?? {};
    let section = sections.find(([n]) => n === name)?.[1];
    if (!section) {
      section = {};
      sections.push([name, section]);
    }
    for (const key of Object.keys(keys).sort()) {
      const v = keys[key];
      if (v === null || v === undefined) {
        delete section[key];
        continue;
      }
      const values = typeof v === "string" ? [v] : v;
      if (!/^[A-Za-z0-9-]+$/.test(key) || values.some((x) => /[\r\n]/.test(x))) {
        problem(
          `[${name}] ${key}: a key must be letters, digits and -, and a value cannot hold a newline; it is left out.`,
        );
        continue;
      }
      section[key] = [...values];
    }
  }
}

/** A unit file: the header as comments, then each non-empty section. */
export function printUnit(header: string[], sections: Sections): string {
  const out = header.map((l) => `# ${l}`);
  for (const [name, keys] of sections) {
    const entries = Object.entries(keys).filter(([, v]) => v.length > 0);
    if (entries.length === 0) continue;
    out.push("", `[${name}]`);
    for (const [key, values] of entries) for (const v of values) out.push(`${key}=${v}`);
  }
  return `${out.join("\n")}\n`;
}
