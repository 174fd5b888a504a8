/**
 * What the launcher of a foreground `up` decides from argv alone, and which files `up --watch`
 * follows (the config and its local imports, found from the sources).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { runsThroughLauncher } from "../src/flags.js";
import { watchedFiles } from "../src/watched-files.js";

describe("the launcher", () => {
  it.each([
    [["up"], true],
    [["up", "--watch"], true],
    [["-c", "up"], false], // `up` is the config file's name here; there is no command
    [["-c", "other.ts", "up", "-t"], true],
    [["up", "-d"], false],
    [["up", "--detach"], false],
    [["up", "--wait"], false],
    [["up", "--json"], false],
    [["up", "--help"], false],
    [["down"], false],
    [["render", "up"], false],
  ])("runs `nix2dream %j` through a child: %s", (argv, expected) => {
    expect(runsThroughLauncher(argv, {})).toBe(expected);
  });

  it("is not used again inside its own child", () => {
    expect(runsThroughLauncher(["up"], { NIX2DREAM_HANDOFF_FD: "3" })).toBe(false);
  });
});

describe("the files `up --watch` follows", () => {
  it("are the config and the local modules it imports, transitively, however they are imported", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "services", "db"), { recursive: true });
    mkdirSync(join(dir, "node_modules", "pkg"), { recursive: true });
    const config = join(dir, "nix2dream.config.ts");
    writeFileSync(
      config,
      [
        'import { defineDeployment } from "nix2dream";',
        'import { api } from "./services/api.js";',
        'export * from "./shared";',
        'const data = require("./data.json");',
        'const later = await import("./later.mjs");',
        'import "./node_modules/pkg/index.js";',
        'import missing from "./missing.js";',
      ].join("\n"),
    );
    writeFileSync(join(dir, "services", "api.ts"), 'import { db } from "./db";\n');
    writeFileSync(join(dir, "services", "db", "index.ts"), 'import { api } from "../api.js";\n');
    writeFileSync(join(dir, "shared.ts"), "export const x = 1;\n");
    writeFileSync(join(dir, "data.json"), "{}\n");
    writeFileSync(join(dir, "later.mjs"), "export {};\n");
    writeFileSync(join(dir, "node_modules", "pkg", "index.js"), "\n");
    writeFileSync(join(dir, "unrelated.ts"), "\n");
    expect(watchedFiles(config)).toEqual(
      [
        "data.json",
        "later.mjs",
        "nix2dream.config.ts",
        "services/api.ts",
        "services/db/index.ts",
        "shared.ts",
      ].map((f) => join(dir, f)),
    );
  });
});
