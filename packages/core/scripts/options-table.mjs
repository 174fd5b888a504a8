#!/usr/bin/env node
/**
 * Prints the core options as a Markdown table, generated from the option declarations with
 * the engine's `optionsDocs`. With `--write`, replaces the table between the
 * `<!-- options:start -->` / `<!-- options:end -->` markers of the package README.
 * Run after `pnpm --filter @nix2dream/core build`; then `pnpm exec biome format --write packages/core/README.md`
 * (from the repository root) aligns the table as the linter wants it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { optionsDocs } from "@nix2dream/modules";
import { evaluateDeployment } from "../dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const readme = join(here, "..", "README.md");

const cell = (text) => String(text).replaceAll("|", "\\|").replaceAll("\n", " ");
const code = (value) => {
  if (value === undefined) return "";
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value);
  return `\`${cell(text)}\``;
};

const { options } = evaluateDeployment({ name: "docs" });
const docs = optionsDocs(options);
const hidden = docs.filter((d) => d.visible === false || d.internal).map((d) => d.path);
const rows = docs
  // Sub-options of internal options (`assertions.*.message`) are internal too.
  .filter((d) => !hidden.some((h) => d.path === h || d.path.startsWith(`${h}.`)))
  .map((d) => {
    const dflt =
      d.defaultText !== undefined
        ? cell(d.defaultText)
        : "default" in d
          ? code(d.default)
          : "_required_";
    return `| \`${d.path}\` | ${cell(d.type)} | ${dflt} | ${cell(d.description)} |`;
  });
const table = ["| option | type | default | description |", "|---|---|---|---|", ...rows].join(
  "\n",
);

if (process.argv.includes("--write")) {
  const text = readFileSync(readme, "utf8");
  const start = "<!-- options:start -->";
  const end = "<!-- options:end -->";
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${start} … ${end} markers`);
  writeFileSync(readme, `${text.slice(0, a + start.length)}\n${table}\n${text.slice(b)}`);
} else {
  process.stdout.write(`${table}\n`);
}
