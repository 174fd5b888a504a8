#!/usr/bin/env node
/**
 * Writes the JSDoc of every input option field in `src/define.ts` (`ServiceDefinition`,
 * `PortDefinition`, …) from the option declarations' descriptions and defaults, so an
 * editor's hover shows them and they are never written twice. `--check` exits 1 when
 * define.ts is out of date (a test runs the same check). Run after a build of core.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Option path prefix of each input interface's fields. */
export const INTERFACE_PREFIXES = {
  DeploymentDefinition: "",
  ServiceDefinition: "services.<name>.",
  PackageDefinition: "services.<name>.package.",
  SecretDefinition: "services.<name>.secrets.<name>.",
  FileDefinition: "services.<name>.files.<name>.",
  VolumeDefinition: "services.<name>.volumes.<name>.",
  PortDefinition: "services.<name>.ports.<name>.",
  HealthcheckDefinition: "services.<name>.healthcheck.",
  RestartDefinition: "services.<name>.restart.",
  StopDefinition: "services.<name>.stop.",
  WatchDefinition: "services.<name>.watch.",
  ResourcesDefinition: "services.<name>.resources.",
};

const WIDTH = 96;

function wrap(text, indent) {
  const lines = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + 3 + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => `${indent} * ${l}`);
}

/** The JSDoc block of one option, from its doc entry (`optionsDocs`). */
function jsdocOf(doc, indent) {
  const out = [`${indent}/**`, ...wrap(doc.description.replaceAll("*/", "*\\/"), indent)];
  const shown = doc.defaultText ?? ("default" in doc ? JSON.stringify(doc.default) : undefined);
  if (shown !== undefined && shown.length <= 60) {
    out.push(`${indent} *`, `${indent} * @defaultValue \`${shown.replaceAll("*/", "*\\/")}\``);
  }
  out.push(`${indent} */`);
  return out;
}

/** Index of the first line of the JSDoc block ending just above line `i`, or `i`. */
function commentStart(lines, i) {
  const above = lines[i - 1]?.trim() ?? "";
  if (above.startsWith("/**") && above.endsWith("*/")) return i - 1;
  if (above !== "*/") return i;
  let j = i - 1;
  while (j > 0 && !lines[j].trim().startsWith("/**")) j--;
  return j;
}

/** `source` (define.ts) with the JSDoc of every field that is an option replaced from `docs`. */
export function withOptionDocs(source, docs) {
  const byPath = new Map(docs.map((d) => [d.path, d]));
  const lines = source.split("\n");
  const out = [];
  let prefix;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const open = /^export interface (\w+)/.exec(line);
    if (open) prefix = INTERFACE_PREFIXES[open[1]];
    else if (line === "}") prefix = undefined;
    const field = prefix !== undefined ? /^( {2})(\w+)\??: /.exec(line) : null;
    const doc = field ? byPath.get(`${prefix}${field[2]}`) : undefined;
    if (doc?.description) {
      const start = commentStart(lines, i);
      out.splice(out.length - (i - start), i - start, ...jsdocOf(doc, field[1]));
    }
    out.push(line);
  }
  return out.join("\n");
}

async function main() {
  const here = dirname(fileURLToPath(import.meta.url));
  const file = join(here, "..", "src", "define.ts");
  const { optionsDocs } = await import("@nix2dream/modules");
  const { evaluateDeployment } = await import("../dist/index.js");
  const docs = optionsDocs(evaluateDeployment({ name: "docs" }).options);
  const source = readFileSync(file, "utf8");
  const next = withOptionDocs(source, docs);
  if (process.argv.includes("--check")) {
    if (next !== source) {
      console.error("src/define.ts is out of date: run node scripts/option-jsdoc.mjs --write");
      process.exit(1);
    }
  } else if (process.argv.includes("--write")) writeFileSync(file, next);
  else process.stdout.write(next);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
