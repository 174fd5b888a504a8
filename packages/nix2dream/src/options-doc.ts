/**
 * The options reference (`nix2dream options`): plain text, Markdown, or JSON.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { OptionDoc } from "@nix2dream/modules";
import { displayPath } from "./config.js";
import type { Styles } from "./output.js";

/** One option as `nix2dream options` prints it: visible options only, declarations shortened. */
export interface OptionEntry {
  path: string;
  type: string;
  description: string;
  /** The default value (JSON data), when it has one and no `defaultText`. */
  default?: unknown;
  /** How the default reads when it is computed (the option's `defaultText`). */
  defaultText?: string;
  example?: unknown;
  /** Where the option is declared: `@nix2dream/core/dist/index.js`, or a path relative to the working directory. */
  declaredIn: string[];
  readOnly: boolean;
}

const packageNames = new Map<string, string | null>();

/** The name of the package whose directory is `dir`, if `dir` has a package.json with a name. */
function packageNameOf(dir: string): string | null {
  let cached = packageNames.get(dir);
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown };
      cached = typeof pkg.name === "string" ? pkg.name : null;
    } catch {
      cached = null;
    }
    packageNames.set(dir, cached);
  }
  return cached;
}

/**
 * Shortens where an option was declared: relative to `cwd` for the project's own files, else
 * `<package>/<path in package>` (`@nix2dream/core/dist/index.js`), else as given.
 */
export function shortenDeclaration(file: string, cwd: string): string {
  let path = file;
  if (path.startsWith("file:")) {
    try {
      path = fileURLToPath(path);
    } catch {
      return file;
    }
  }
  if (!isAbsolute(path)) return path; // e.g. `<inline module #1>`
  const rel = relative(cwd, path);
  if (!rel.startsWith("..") && !rel.split(sep).includes("node_modules")) return rel;
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    const name = packageNameOf(dir);
    if (name) return `${name}/${relative(dir, path).split(sep).join("/")}`;
  }
  return displayPath(path, cwd);
}

/** JSON data as is; anything JSON cannot hold (functions, cycles) as a descriptive string. */
function plain(value: unknown): unknown {
  if (typeof value === "function") return "<function>";
  try {
    return JSON.parse(JSON.stringify(value) ?? "null");
  } catch {
    return String(value);
  }
}

function show(value: unknown): string {
  return JSON.stringify(plain(value)) ?? "null";
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
      if (d.defaultText !== undefined) entry.defaultText = d.defaultText;
      else if ("default" in d && d.default !== undefined) entry.default = plain(d.default);
      if ("example" in d && d.example !== undefined) entry.example = plain(d.example);
      return entry;
    });
}

function defaultOf(e: OptionEntry): string | undefined {
  if (e.defaultText !== undefined) return e.defaultText;
  return "default" in e ? show(e.default) : undefined;
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
      const def = defaultOf(e);
      if (def !== undefined) lines.push(`    ${s.dim("default:")}     ${def}`);
      if ("example" in e) lines.push(`    ${s.dim("example:")}     ${show(e.example)}`);
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
    const def = defaultOf(e);
    if (def !== undefined) parts.push(`*Default:* ${code(def)}`);
    if ("example" in e) parts.push(`*Example:* ${code(show(e.example))}`);
    if (e.declaredIn.length > 0) {
      parts.push(`*Declared in:* ${e.declaredIn.map((f) => `\`${f}\``).join(", ")}`);
    }
    return parts.join("\n\n");
  });
  return `# nix2dream options\n\n${sections.join("\n\n")}\n`;
}
