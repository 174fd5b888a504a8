/** README examples run as tests, so that what a README shows stays true. */
import { readFileSync } from "node:fs";

/**
 * The ```` ```ts ```` blocks of a README, in order; with `after`, only those after the first
 * line that starts with it (e.g. `"## Usage"`).
 */
export function readmeBlocks(readme: URL | string, opts: { after?: string } = {}): string[] {
  let text = readFileSync(readme, "utf8");
  if (opts.after !== undefined) {
    const at = text.indexOf(opts.after);
    text = at < 0 ? "" : text.slice(at);
  }
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

/**
 * Runs the first ```` ```ts ```` block of a README as a deployment definition, without its
 * `import` and `//` lines: `export default` becomes a return, `defineDeployment` is the identity
 * (it is, for data) and each of `globals` (name → value) stands for what the example imports.
 */
export function readmeExample(readme: URL | string, globals: Record<string, unknown>): unknown {
  const code = readmeBlocks(readme)[0] ?? "";
  const body = code
    .split("\n")
    .filter((l) => !l.startsWith("import ") && !l.startsWith("//"))
    .join("\n")
    .replace("export default", "return");
  const names = Object.keys(globals);
  return new Function("defineDeployment", ...names, body)(
    (d: unknown) => d,
    ...names.map((n) => globals[n]),
  );
}
