/**
 * What `up --watch` follows: the config file and every local module it imports, directly or
 * through another local module. Found from the sources (relative `import`, `export … from`,
 * `import()` and `require()` specifiers), not from the loader, so it also works when an edit
 * breaks the config: the files to watch are known from the last good evaluation.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

const SPECIFIER = /(?:\bfrom|\bimport|\brequire)\s*\(?\s*["'](\.{1,2}\/[^"']*)["']/g;
const CODE = /\.(?:[cm]?[jt]s|tsx|jsx)$/;
const EXTENSIONS = [".ts", ".mts", ".cts", ".tsx", ".js", ".mjs", ".cjs", ".jsx", ".json"];

/** The file a relative specifier names, as TypeScript resolves it (`./a.js` may be `a.ts`). */
function resolveSpecifier(from: string, specifier: string): string | null {
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.[cm]?js$/, "");
  const candidates = [
    base,
    ...EXTENSIONS.map((e) => `${stem}${e}`),
    ...EXTENSIONS.map((e) => `${base}/index${e}`),
  ];
  for (const c of candidates) {
    if (existsSync(c) && statSync(c).isFile()) return c;
  }
  return null;
}

/** The config file and the local modules it imports (transitively), sorted. */
export function watchedFiles(configFile: string): string[] {
  const seen = new Set<string>([configFile]);
  const queue = [configFile];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (!CODE.test(file)) continue;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const m of text.matchAll(SPECIFIER)) {
      const found = resolveSpecifier(file, m[1] as string);
      if (found && !found.includes("/node_modules/") && !seen.has(found)) {
        seen.add(found);
        queue.push(found);
      }
    }
  }
  return [...seen].sort();
}
