/**
 * The options reference (`nix2dream options`): plain text, Markdown, or JSON.
 */
import { fileURLToPath } from "node:url";
import { displayPath } from "./config.js";
import type { Styles } from "./output.js";

/** One option as listed by `nix2dream options` (the fields of the module engine's `optionsDocs`). */
export interface OptionDoc {
  path: string;
  type: string;
  default?: unknown;
  defaultText?: string;
  example?: unknown;
  description: string;
  declarations: string[];
  readOnly?: boolean;
  internal?: boolean;
  visible?: boolean | "shallow";
}

/** The entry as printed: visible options only, declarations shortened. */
export interface OptionEntry {
  path: string;
  type: string;
  default?: string;
  example?: string;
  description: string;
  declaredIn: string[];
  readOnly: boolean;
}

/** Shortens where an option was declared: a package path (`@nix2dream/core/dist/...`) or a path relative to `cwd`. */
export function shortenDeclaration(file: string, cwd: string): string {
  let path = file;
  if (path.startsWith("file:")) {
    try {
      path = fileURLToPath(path);
    } catch {
      return file;
    }
  }
  const nm = path.lastIndexOf("/node_modules/");
  if (nm >= 0) return path.slice(nm + "/node_modules/".length);
  return displayPath(path, cwd);
}

function show(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "<function>";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The visible options, as printed. */
export function optionEntries(docs: readonly OptionDoc[], cwd: string): OptionEntry[] {
  return docs
    .filter((d) => d.internal !== true && d.visible !== false)
    .map((d) => {
      const entry: OptionEntry = {
        path: d.path,
        type: d.type,
        description: d.description ?? "",
        declaredIn: [...new Set((d.declarations ?? []).map((f) => shortenDeclaration(f, cwd)))],
        readOnly: d.readOnly === true,
      };
      if (d.defaultText !== undefined) entry.default = d.defaultText;
      else if ("default" in d && d.default !== undefined) entry.default = show(d.default);
      if ("example" in d && d.example !== undefined) entry.example = show(d.example);
      return entry;
    });
}

function indent(text: string, by: string): string {
  return text
    .split("\n")
    .map((l) => (l ? by + l : l))
    .join("\n");
}

/** Plain text, one block per option, as the NixOS manual lists them. */
export function optionsText(entries: readonly OptionEntry[], s: Styles): string {
  return entries
    .map((e) => {
      const lines = [s.bold(e.path)];
      if (e.description) lines.push(indent(e.description.trim(), "    "));
      lines.push(`    ${s.dim("type:")}        ${e.type}${e.readOnly ? " (read-only)" : ""}`);
      if (e.default !== undefined) lines.push(`    ${s.dim("default:")}     ${e.default}`);
      if (e.example !== undefined) lines.push(`    ${s.dim("example:")}     ${e.example}`);
      if (e.declaredIn.length > 0) {
        lines.push(`    ${s.dim("declared in:")} ${e.declaredIn.join(", ")}`);
      }
      return lines.join("\n");
    })
    .join("\n\n");
}

function code(value: string): string {
  if (value.includes("\n")) return `\n\n\`\`\`\n${value}\n\`\`\``;
  const fence = value.includes("`") ? "``" : "`";
  return `${fence}${value}${fence}`;
}

/** Markdown, one section per option. */
export function optionsMarkdown(entries: readonly OptionEntry[]): string {
  const sections = entries.map((e) => {
    const parts = [`## \`${e.path}\``];
    if (e.description) parts.push(e.description.trim());
    parts.push(`*Type:* ${e.type}${e.readOnly ? " (read-only)" : ""}`);
    if (e.default !== undefined) parts.push(`*Default:* ${code(e.default)}`);
    if (e.example !== undefined) parts.push(`*Example:* ${code(e.example)}`);
    if (e.declaredIn.length > 0) {
      parts.push(`*Declared in:* ${e.declaredIn.map((f) => `\`${f}\``).join(", ")}`);
    }
    return parts.join("\n\n");
  });
  return `# nix2dream options\n\n${sections.join("\n\n")}\n`;
}
