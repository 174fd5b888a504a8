#!/usr/bin/env node
/**
 * Functions longer than a limit (default 120 lines) in `packages/*\/src`, measured with the
 * TypeScript compiler's own parser: a function's length is the lines from its first token to its
 * closing brace, nested functions included (a long closure counts as long however it is split
 * inside). `node scripts/function-lengths.mjs [limit]` prints them, longest first, and exits 1
 * when there is any; `scripts/test/function-length.test.ts` runs the same check.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** The longest function a package's source may hold, in lines. */
export const FUNCTION_LINE_LIMIT = 120;

/** A readable name for a function-like node: its declared name, or the variable/property it is assigned to. */
function nameOf(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (node.name) return node.name.getText();
  const parent = node.parent;
  const assigned = parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent));
  if (assigned && parent.name) {
    return parent.name.getText();
  }
  if (ts.isConstructorDeclaration(node)) return "constructor";
  return "(anonymous)";
}

/**
 * Every function-like node of a TypeScript source text with its length in lines (first token
 * to last, counted inclusively).
 */
export function functionLengths(fileName, text) {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ name: nameOf(node), line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts)$/.test(entry) && !entry.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** Functions longer than `limit` lines in every `packages/*\/src` under `root`, longest first. */
export function longFunctions(root, limit = FUNCTION_LINE_LIMIT) {
  const found = [];
  const packages = join(root, "packages");
  for (const pkg of readdirSync(packages)) {
    const src = join(packages, pkg, "src");
    try {
      if (!statSync(src).isDirectory()) continue;
    } catch {
      continue;
    }
    for (const file of sourceFiles(src)) {
      for (const f of functionLengths(file, readFileSync(file, "utf8"))) {
        if (f.lines > limit) found.push({ ...f, file: relative(root, file) });
      }
    }
  }
  return found.sort((a, b) => b.lines - a.lines);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const limit = Number(process.argv[2] ?? FUNCTION_LINE_LIMIT);
  const root = fileURLToPath(new URL("../", import.meta.url));
  const long = longFunctions(root, limit);
  for (const f of long) {
    console.log(`${String(f.lines).padStart(5)}  ${f.file}:${f.line}  ${f.name}`);
  }
  if (long.length > 0) {
    console.error(`${long.length} function(s) longer than ${limit} lines.`);
    process.exit(1);
  }
  console.log(`No function longer than ${limit} lines.`);
}
