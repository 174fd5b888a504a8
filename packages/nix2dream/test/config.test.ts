import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configCacheDir, findConfigFile, loadConfig } from "../src/config.js";

let root: string;
const savedCacheDir = process.env.NIX2DREAM_CACHE_DIR;
beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), "nix2dream-config-")));
  // The compiled configs of these tests go under `root`, removed with it.
  process.env.NIX2DREAM_CACHE_DIR = join(root, "cache");
});
afterEach(async () => {
  if (savedCacheDir === undefined) delete process.env.NIX2DREAM_CACHE_DIR;
  else process.env.NIX2DREAM_CACHE_DIR = savedCacheDir;
  await rm(root, { recursive: true, force: true });
});

describe("findConfigFile", () => {
  it("finds the config in a parent directory", async () => {
    await writeFile(join(root, "nix2dream.config.ts"), "export default {}");
    await mkdir(join(root, "a", "b"), { recursive: true });
    expect(findConfigFile(join(root, "a", "b"))).toBe(join(root, "nix2dream.config.ts"));
  });

  it("prefers the nearest directory", async () => {
    await writeFile(join(root, "nix2dream.config.ts"), "export default {}");
    await mkdir(join(root, "a"));
    await writeFile(join(root, "a", "nix2dream.config.mjs"), "export default {}");
    expect(findConfigFile(join(root, "a"))).toBe(join(root, "a", "nix2dream.config.mjs"));
  });

  it("prefers .ts over .js in one directory", async () => {
    await writeFile(join(root, "nix2dream.config.js"), "export default {}");
    await writeFile(join(root, "nix2dream.config.ts"), "export default {}");
    expect(findConfigFile(root)).toBe(join(root, "nix2dream.config.ts"));
  });
});

describe("loadConfig", () => {
  it("loads a TypeScript config without a build step", async () => {
    await writeFile(
      join(root, "nix2dream.config.ts"),
      'interface D { name: string }\nconst d: D = { name: "typed" };\nexport default d;\n',
    );
    const loaded = await loadConfig({ cwd: root });
    expect(loaded.value).toEqual({ name: "typed" });
    expect(loaded.root).toBe(root);
  });

  it("calls a default-exported function", async () => {
    await writeFile(
      join(root, "nix2dream.config.mjs"),
      'export default async () => ({ name: "fn" });\n',
    );
    expect((await loadConfig({ cwd: root })).value).toEqual({ name: "fn" });
  });

  it("lists the names it searched for when there is no config", async () => {
    await expect(loadConfig({ cwd: root })).rejects.toThrow(
      /nix2dream\.config\.ts, nix2dream\.config\.mts, nix2dream\.config\.js, nix2dream\.config\.mjs/,
    );
  });

  it("names the file and line of a syntax error", async () => {
    await writeFile(join(root, "nix2dream.config.ts"), 'export default {\n  name: "a",,\n};\n');
    await expect(loadConfig({ cwd: root })).rejects.toThrow(/nix2dream\.config\.ts \(line 2/);
  });

  it("names the file and line of a config that throws", async () => {
    await writeFile(join(root, "nix2dream.config.ts"), 'const a = 1;\nthrow new Error("nope");\n');
    await expect(loadConfig({ cwd: root })).rejects.toThrow(
      /nix2dream\.config\.ts \(line 2, column \d+\): nope/,
    );
  });

  it("refuses a config without a default export", async () => {
    await writeFile(join(root, "nix2dream.config.mjs"), "export const x = 1;\n");
    await expect(loadConfig({ cwd: root })).rejects.toThrow(/must export a deployment/);
  });

  it("reports a missing --config file", async () => {
    await expect(loadConfig({ cwd: root, configFile: "nope.ts" })).rejects.toThrow(
      /nope\.ts \(from --config\) does not exist/,
    );
  });
});

describe("the compiled-config cache", () => {
  it("is in the nearest node_modules/.cache, else the user's cache directory", async () => {
    const file = join(root, "app", "nix2dream.config.ts");
    expect(configCacheDir(file, { XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/nix2dream");
    await mkdir(join(root, "node_modules"), { recursive: true });
    expect(configCacheDir(file, {})).toBe(join(root, "node_modules", ".cache", "nix2dream"));
    expect(configCacheDir(file, { NIX2DREAM_CACHE_DIR: "/c" })).toBe("/c");
    expect(configCacheDir(file, { NIX2DREAM_CACHE_DIR: "off" })).toBe(false);
  });

  it("keeps compiled code out of the sources and recompiles an edited config", async () => {
    const file = join(root, "nix2dream.config.ts");
    await writeFile(file, 'const n: string = "one";\nexport default { name: n };\n');
    expect((await loadConfig({ cwd: root })).value).toEqual({ name: "one" });
    expect((await readdir(join(root, "cache"))).length).toBeGreaterThan(0);
    expect((await readdir(root)).sort()).toEqual(["cache", "nix2dream.config.ts"]);
    await writeFile(file, 'const n: string = "two";\nexport default { name: n };\n');
    expect((await loadConfig({ cwd: root })).value).toEqual({ name: "two" });
  });
});

describe("loading an ES module config", () => {
  const cacheEntries = async () => readdir(join(root, "cache")).catch(() => []);

  it("imports a .mjs config with Node itself: nothing is compiled or cached", async () => {
    await writeFile(join(root, "nix2dream.config.mjs"), 'export default { name: "native" };\n');
    expect((await loadConfig({ cwd: root })).value).toEqual({ name: "native" });
    expect(await cacheEntries()).toEqual([]);
  });

  it("imports a .js config natively only in a package of type module", async () => {
    await writeFile(join(root, "package.json"), '{ "type": "module" }\n');
    await writeFile(join(root, "nix2dream.config.js"), 'export default { name: "esm-js" };\n');
    expect((await loadConfig({ cwd: root })).value).toEqual({ name: "esm-js" });
    expect(await cacheEntries()).toEqual([]);
  });

  it("still loads a .js config with import syntax in a CommonJS package (through jiti)", async () => {
    await writeFile(join(root, "package.json"), "{}\n");
    await writeFile(join(root, "nix2dream.config.js"), 'export default { name: "cjs-pkg" };\n');
    expect((await loadConfig({ cwd: root })).value).toEqual({ name: "cjs-pkg" });
  });

  it("loads a .mjs config that imports a TypeScript module", async () => {
    await writeFile(
      join(root, "api.ts"),
      'export const api: { command: string[] } = { command: ["x"] };\n',
    );
    await writeFile(
      join(root, "nix2dream.config.mjs"),
      'import { api } from "./api.ts";\nexport default { name: "mixed", services: { api } };\n',
    );
    expect((await loadConfig({ cwd: root })).value).toEqual({
      name: "mixed",
      services: { api: { command: ["x"] } },
    });
  });

  it("sees an edited .mjs config when the same process loads it again", async () => {
    const file = join(root, "nix2dream.config.mjs");
    await writeFile(file, 'export default { name: "one" };\n');
    expect((await loadConfig({ cwd: root })).value).toEqual({ name: "one" });
    await writeFile(file, 'export default { name: "two" };\n');
    expect((await loadConfig({ cwd: root })).value).toEqual({ name: "two" });
  });

  it("runs a .mjs config once when it throws a SyntaxError while running", async () => {
    await writeFile(
      join(root, "nix2dream.config.mjs"),
      'import { appendFileSync } from "node:fs";\nappendFileSync(new URL("./ran.txt", import.meta.url), "ran\\n");\nJSON.parse("{");\nexport default {};\n',
    );
    await expect(loadConfig({ cwd: root })).rejects.toThrow(/nix2dream\.config\.mjs \(line 3/);
    expect(await readFile(join(root, "ran.txt"), "utf8")).toBe("ran\n");
  });

  it("names the file and line of a .mjs config that throws", async () => {
    await writeFile(join(root, "nix2dream.config.mjs"), 'const a = 1;\nthrow new Error("nope");\n');
    await expect(loadConfig({ cwd: root })).rejects.toThrow(
      /nix2dream\.config\.mjs \(line 2, column \d+\): nope/,
    );
  });

  it("suggests installing a package a .mjs config imports but cannot find", async () => {
    await writeFile(
      join(root, "nix2dream.config.mjs"),
      'import k8s from "@nix2dream/render-nowhere";\nexport default { name: "a", use: [k8s()] };\n',
    );
    await expect(loadConfig({ cwd: root })).rejects.toMatchObject({
      code: "CONFIG_LOAD_FAILED",
      hint: "Is `@nix2dream/render-nowhere` installed? e.g. `pnpm add -D @nix2dream/render-nowhere`",
    });
  });
});

describe("loadConfig hints", () => {
  it("suggests installing a package the config imports but cannot find", async () => {
    await writeFile(
      join(root, "nix2dream.config.ts"),
      'import k8s from "@nix2dream/render-nowhere/sub";\nexport default { name: "a", use: [k8s()] };\n',
    );
    await expect(loadConfig({ cwd: root })).rejects.toMatchObject({
      code: "CONFIG_LOAD_FAILED",
      hint: "Is `@nix2dream/render-nowhere` installed? e.g. `pnpm add -D @nix2dream/render-nowhere`",
    });
  });
});
