/**
 * Lazy attribute sets share their accessors by index, whatever their keys: a long-lived process
 * (`up --watch`, a server evaluating many deployments) that has met thousands of key sets still
 * gives a new one V8's fast properties. Checked in a child node with V8's own test of that
 * (`%HasFastProperties`, behind --allow-natives-syntax), on the built package.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const dist = new URL("../dist/index.js", import.meta.url).href;

const SCRIPT = `
const { evalModules, mkOption, types } = await import(${JSON.stringify(dist)});
const setOf = (keys) => {
  const { config } = evalModules({
    modules: [
      { options: { x: mkOption({ type: types.lazyAttrsOf(types.str) }) } },
      { config: { x: Object.fromEntries(keys.map((k) => [k, "v"])) } },
    ],
  });
  return config.x;
};
const fast = (o) => %HasFastProperties(o);
const first = setOf(["alpha", "beta"]);
// Thousands of key sets never seen before, as user-named sets (env names, file paths) are.
for (let i = 0; i < 3000; i++) setOf([\`a\${i}\`, \`b\${i}\`, \`c\${i}\`]);
const late = setOf(["gamma", "delta"]);
process.stdout.write(JSON.stringify({
  first: fast(first),
  late: fast(late),
  keys: Object.keys(late),
  value: late.delta,
}));
`;

describe("lazy attribute sets", () => {
  it("keep fast properties after thousands of other key sets", () => {
    const out = execFileSync(
      process.execPath,
      ["--allow-natives-syntax", "--input-type=module", "-e", SCRIPT],
      { encoding: "utf8", cwd: fileURLToPath(new URL(".", import.meta.url)) },
    );
    expect(JSON.parse(out)).toEqual({
      first: true,
      late: true,
      keys: ["delta", "gamma"],
      value: "v",
    });
  });
});
