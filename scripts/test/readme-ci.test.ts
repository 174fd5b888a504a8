/**
 * The README's promise, checked: its two commands are exactly what CI runs, and every root
 * script works without a global pnpm (they all go through scripts/dev.mjs).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), "utf8");

/** The commands (comments stripped) of the first ```sh block after `heading` in the README. */
function commandsUnder(heading: string): string[] {
  const readme = read("README.md");
  const at = readme.indexOf(`## ${heading}`);
  expect(at, `README has a "## ${heading}" section`).toBeGreaterThanOrEqual(0);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at))?.[1] ?? "";
  return block
    .split("\n")
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter(Boolean);
}

/** The lines .ci/run executes (comments and blank lines dropped). */
const ciLines = () =>
  read(".ci/run")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));

/**
 * The line .ci/run runs for the README's test command: the command as written, with `|| exit $?`
 * so a failing setup ends the run (`set -e` ignores a failing left side of `&&`).
 */
const ciTestLine = (command: string) => `${command} || exit $?`;

describe("the README's two commands", () => {
  it("are `npm start` and the setup script followed by `npm test`", () => {
    expect(commandsUnder("The two commands")).toEqual([
      "npm start",
      "./scripts/setup.sh && npm test",
    ]);
  });

  it("include the test command that .ci/run runs, exactly as written", () => {
    const test = commandsUnder("The two commands")[1] as string;
    expect(ciLines()).toContain(ciTestLine(test));
  });

  it("go through scripts/dev.mjs, like every root script, so no global pnpm is needed", () => {
    const scripts = JSON.parse(read("package.json")).scripts as Record<string, string>;
    expect(scripts.start).toBe("node scripts/dev.mjs start");
    expect(scripts.test).toBe("node scripts/dev.mjs test");
    for (const [name, command] of Object.entries(scripts)) {
      expect(command, `npm run ${name}`).toMatch(/^node scripts\/dev\.mjs /);
    }
  });

  it("name only npm scripts that exist in the contributing table", () => {
    const scripts = JSON.parse(read("package.json")).scripts as Record<string, string>;
    const readme = read("README.md");
    const contributing = readme.slice(readme.indexOf("## Contributing"));
    for (const m of contributing.matchAll(/`npm run ([\w:]+)/g)) {
      expect(Object.keys(scripts), `npm run ${m[1]}`).toContain(m[1]);
    }
  });
});

describe(".ci/run", () => {
  it("puts a failing pnpm shim first on PATH, so a script needing a global pnpm goes red", () => {
    const ci = read(".ci/run");
    expect(ci).toMatch(/export PATH="\$shim:\$PATH"/);
    expect(ci).toMatch(/exit 127/);
  });

  it("runs the static checks after the tests", () => {
    const lines = ciLines();
    const test = lines.indexOf(ciTestLine("./scripts/setup.sh && npm test"));
    expect(test).toBeGreaterThanOrEqual(0);
    expect(lines.slice(test + 1)).toEqual([
      "npm run --silent lint",
      "npm run --silent typecheck -- --output-logs=errors-only",
    ]);
  });
});
