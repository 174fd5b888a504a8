/**
 * One naming scheme across renderers and managers (ARCHITECTURE.md, "One naming scheme"),
 * checked on the built packages: what each exports (values from `dist/index.js`, types from
 * `dist/index.d.ts`) and which actions each manager has. A package that strays fails here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Manager, Renderer } from "@nix2dream/core";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** `nixos-vm` → `nixosVm`: the factory's name. */
const camel = (target: string) => target.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
/** `nixos-vm` → `NixosVm`: the prefix of the option types. */
const pascal = (target: string) => camel(target).replace(/^./, (c) => c.toUpperCase());

/** The actions every manager that runs a deployment has. */
const LIFECYCLE = ["up", "down", "ps", "logs", "restart", "stop", "status"];

/**
 * Lifecycle actions a manager does not have, and why (its README says so too). A manager that
 * gains one must be taken off this list, or the test fails.
 */
const MISSING: Record<string, Record<string, string>> = {
  docker: Object.fromEntries(
    LIFECYCLE.map((a) => [a, "builds and lists images only; compose or swarm run them"]),
  ),
};

/** Names that are old spellings, kept as `@deprecated` aliases for one minor version. */
const DEPRECATED = new Set([
  "renderK8s",
  "renderNixosVm",
  "composeManager",
  "kubectlManager",
  "systemdManager",
  "swarmManager",
  "nixosVmManager",
  "KubectlManagerConfig",
  "SystemdManagerModuleOptions",
  "SystemdRendererServiceOptions",
  "SystemdRendererDeploymentOptions",
  "SystemdRenderOptions",
]);

interface Pkg {
  dir: string;
  target: string;
  mod: Record<string, unknown>;
  /** Every exported name of `dist/index.d.ts`, types included. */
  exported: Set<string>;
  dts: string;
}

function exportedNames(dts: string): Set<string> {
  const names = new Set<string>();
  for (const m of dts.matchAll(/^export \{([^}]*)\}/gm)) {
    for (const part of (m[1] as string).split(",")) {
      const name = part
        .trim()
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/)
        .at(-1);
      if (name) names.add(name);
    }
  }
  return names;
}

async function load(prefix: "render-" | "manage-"): Promise<Pkg[]> {
  const dirs = readdirSync(join(ROOT, "packages")).filter((d) => d.startsWith(prefix));
  return Promise.all(
    dirs.map(async (dir) => {
      const dist = join(ROOT, "packages", dir, "dist");
      const dts = readFileSync(join(dist, "index.d.ts"), "utf8");
      const mod = (await import(pathToFileURL(join(dist, "index.js")).href)) as Record<
        string,
        unknown
      >;
      return { dir, target: dir.slice(prefix.length), mod, exported: exportedNames(dts), dts };
    }),
  );
}

/** True when the declaration of `name` in `dts` carries a `@deprecated` tag. */
function deprecatedIn(dts: string, name: string): boolean {
  const at = dts.search(new RegExp(`(declare (const|function)|type|interface) ${name}(?![\\w$])`));
  if (at < 0) return false;
  const before = dts.slice(Math.max(0, dts.lastIndexOf("/**", at)), at);
  return before.includes("@deprecated") && !before.includes("*/\n\n");
}

const renderers = await load("render-");
const managers = await load("manage-");

describe("the scheme's own checks", () => {
  it("see every renderer and manager", () => {
    expect(renderers.map((p) => p.target).sort()).toEqual(
      ["compose", "k8s", "nixos", "nixos-vm", "oci", "procfile", "systemd"].sort(),
    );
    expect(managers.length).toBe(7);
  });

  it("read export lists, renames included", () => {
    expect(exportedNames("export { a, type B, c as default, d as e };\n")).toEqual(
      new Set(["a", "B", "default", "e"]),
    );
  });
});

describe.each(renderers.map((p) => [p.dir, p] as const))("%s", (_dir, p) => {
  const name = camel(p.target);
  it(`has a default export and a named \`${name}\`: the same factory, making the renderer \`${p.target}\``, () => {
    expect(typeof p.mod.default).toBe("function");
    expect(p.mod[name]).toBe(p.mod.default);
    expect((p.mod.default as () => Renderer).call(undefined).name).toBe(p.target);
  });

  it(`names its option types ${pascal(p.target)}Options, …ServiceOptions, …DeploymentOptions`, () => {
    const r = (p.mod.default as () => Renderer).call(undefined);
    expect(p.exported).toContain(`${pascal(p.target)}Options`);
    if (r.serviceModule) expect(p.exported).toContain(`${pascal(p.target)}ServiceOptions`);
    if (r.deploymentModule) expect(p.exported).toContain(`${pascal(p.target)}DeploymentOptions`);
  });

  it(`exports no render${pascal(p.target)} function but as a deprecated alias`, () => {
    for (const n of [...p.exported].filter((x) => x === `render${pascal(p.target)}`)) {
      expect(DEPRECATED, n).toContain(n);
      expect(deprecatedIn(p.dts, n), `${n} is @deprecated`).toBe(true);
    }
  });
});

describe.each(managers.map((p) => [p.dir, p] as const))("%s", (_dir, p) => {
  const name = camel(p.target);
  const manager = () => (p.mod.default as () => Manager).call(undefined);

  it(`has a default export and a named \`${name}\`: the same factory, making the manager \`${p.target}\``, () => {
    expect(typeof p.mod.default).toBe("function");
    expect(p.mod[name]).toBe(p.mod.default);
    expect(manager().name).toBe(p.target);
  });

  it(`names its options ${pascal(p.target)}ManagerOptions, and managers.${p.target} ${pascal(p.target)}ManagerSettings`, () => {
    expect(p.exported).toContain(`${pascal(p.target)}ManagerOptions`);
    if (manager().module) expect(p.exported).toContain(`${pascal(p.target)}ManagerSettings`);
  });

  it("has every lifecycle action, or is listed with the reason it has not", () => {
    const actions = Object.keys(manager().actions);
    const missing = LIFECYCLE.filter((a) => !actions.includes(a));
    expect(missing).toEqual(Object.keys(MISSING[p.target] ?? {}));
  });

  it("describes every action it has", () => {
    const m = manager();
    for (const a of Object.keys(m.actions)) expect(m.descriptions?.[a], a).toBeTruthy();
  });

  it("keeps its old names only as deprecated aliases of the same thing", () => {
    for (const n of [...p.exported].filter((x) => DEPRECATED.has(x))) {
      expect(deprecatedIn(p.dts, n), `${n} is @deprecated`).toBe(true);
      if (n in p.mod) expect(p.mod[n], n).toBe(p.mod.default);
    }
  });
});
