/**
 * What each public package.json promises a consumer, checked statically (the third-party test
 * checks the same on a real npm install): one copy of core and modules, metadata, a licence.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CONTRACT = ["@nix2dream/core", "@nix2dream/modules"];

interface Manifest {
  name: string;
  private?: boolean;
  license?: string;
  repository?: { directory?: string };
  homepage?: string;
  bugs?: { url?: string };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const packages = readdirSync(join(ROOT, "packages"))
  .map((dir) => ({
    dir,
    pkg: JSON.parse(readFileSync(join(ROOT, "packages", dir, "package.json"), "utf8")) as Manifest,
  }))
  .filter(({ pkg }) => !pkg.private);
const plugins = packages.filter(({ dir }) => /^(render|manage)-/.test(dir));

describe("every renderer and manager", () => {
  it("exists (the list below is not empty)", () => {
    expect(plugins.length).toBeGreaterThanOrEqual(10);
  });

  it.each(plugins.map((p) => [p.pkg.name, p.pkg]))(
    "%s takes core and modules as peers, so a project has one core for declaration merging",
    (_name, pkg) => {
      for (const dep of CONTRACT) {
        expect(pkg.dependencies?.[dep], `${dep} in dependencies`).toBeUndefined();
        expect(pkg.peerDependencies?.[dep], `${dep} in peerDependencies`).toBe("workspace:^");
        expect(pkg.devDependencies?.[dep], `${dep} in devDependencies`).toBe("workspace:^");
      }
    },
  );
});

describe("every public package", () => {
  it.each(packages.map((p) => [p.pkg.name, p.dir, p.pkg] as const))(
    "%s has the MIT LICENSE file and repository, homepage and bugs metadata",
    (_name, dir, pkg) => {
      expect(pkg.license).toBe("MIT");
      expect(readFileSync(join(ROOT, "packages", dir, "LICENSE"), "utf8")).toBe(
        readFileSync(join(ROOT, "LICENSE"), "utf8"),
      );
      expect(pkg.repository?.directory).toBe(`packages/${dir}`);
      expect(pkg.homepage).toMatch(/^https:\/\//);
      expect(pkg.bugs?.url).toMatch(/^https:\/\//);
    },
  );
});
