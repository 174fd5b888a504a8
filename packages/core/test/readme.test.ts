import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect, it, vi } from "vitest";
import { fileTempDir, readmeBlocks } from "../../testkit/src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const dir = fileTempDir("core-readme-");

/** The first ```ts block of the README's "Usage" section, importing this package's sources. */
function usageExample(): string {
  const block = readmeBlocks(join(here, "..", "README.md"), { after: "## Usage" })[0];
  if (!block) throw new Error("README.md has no ts example under ## Usage");
  const src = pathToFileURL(join(here, "..", "src", "index.ts")).href;
  return block.replace('from "@nix2dream/core"', `from ${JSON.stringify(src)}`);
}

it("runs the README's usage example and prints what its comments say", async () => {
  const code = usageExample();
  const file = join(dir, "example.ts");
  writeFileSync(file, code);
  const printed: unknown[][] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...args) => {
    printed.push(args);
  });
  try {
    await import(pathToFileURL(file).href);
  } finally {
    spy.mockRestore();
  }
  expect(printed[0]?.[0]).toBe(
    "db: postgres\napi: DATABASE_URL=postgres://127.0.0.1:5432/shop node api.mjs\n",
  );
  expect(printed[1]).toEqual(["runlist runs one instance of api, not 2", ["nix2dream.config.ts"]]);
  // The comments in the example show the same output.
  expect(code).toContain(
    "// db: postgres\n// api: DATABASE_URL=postgres://127.0.0.1:5432/shop node api.mjs",
  );
});

it("prints a UserError as the CLI does with the README's programmatic example, and passes on a bug", async () => {
  const block = readmeBlocks(join(here, "..", "README.md"), {
    after: "### Printing a user error",
  })[0];
  if (!block) throw new Error("README.md has no ts example under ### Printing a user error");
  const src = pathToFileURL(join(here, "..", "src", "index.ts")).href;
  const file = join(dir, "report.ts");
  writeFileSync(file, block.replace('from "@nix2dream/core"', `from ${JSON.stringify(src)}`));
  const { reportUserError } = (await import(pathToFileURL(file).href)) as {
    reportUserError: (err: unknown, out: NodeJS.WritableStream) => boolean;
  };
  const { UserError } = await import("../src/index.js");
  let text = "";
  const out = new PassThrough().on("data", (d) => (text += d));
  const err = new UserError("NO_ENGINE", "No Docker engine answers.", {
    source: "manager compose",
    hint: "Start dockerd.",
  });
  expect(reportUserError(err, out)).toBe(true);
  expect(reportUserError(new Error("a bug"), out)).toBe(false);
  await new Promise((r) => setImmediate(r));
  expect(text).toBe("error: manager compose: No Docker engine answers.\nhint: Start dockerd.\n");
});
