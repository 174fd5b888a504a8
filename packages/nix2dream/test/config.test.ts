import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findConfigFile, loadConfig } from "../src/config.js";

let root: string;
beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), "nix2dream-config-")));
});
afterEach(async () => {
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
