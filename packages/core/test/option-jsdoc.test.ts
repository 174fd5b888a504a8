/**
 * The JSDoc of the input option fields (what an editor shows on hover) is generated from the
 * option declarations by scripts/option-jsdoc.mjs, never written by hand: define.ts must be
 * what the script writes, and the published types must carry it.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const CORE = fileURLToPath(new URL("../", import.meta.url));
const INTERFACES = [
  "DeploymentDefinition",
  "ServiceDefinition",
  "PackageDefinition",
  "SecretDefinition",
  "FileDefinition",
  "VolumeDefinition",
  "PortDefinition",
  "HealthcheckDefinition",
  "RestartDefinition",
  "StopDefinition",
  "WatchDefinition",
  "ResourcesDefinition",
];

/** The field lines of `interface name` in a declaration file, each with the line above it. */
function fieldsOf(dts: string, name: string): Array<{ field: string; above: string }> {
  const lines = dts.split("\n");
  const start = lines.findIndex((l) => new RegExp(`^(export )?interface ${name}\\b`).test(l));
  expect(start, `interface ${name} in dist/index.d.ts`).toBeGreaterThanOrEqual(0);
  const out: Array<{ field: string; above: string }> = [];
  for (let i = start + 1; i < lines.length && lines[i] !== "}"; i++) {
    const m = /^ {4}(\w+)\??: /.exec(lines[i] as string);
    if (m) out.push({ field: m[1] as string, above: (lines[i - 1] as string).trim() });
  }
  return out;
}

describe("the JSDoc of the input options", () => {
  it("in src/define.ts is what the option declarations generate", () => {
    const r = spawnSync(process.execPath, ["scripts/option-jsdoc.mjs", "--check"], {
      cwd: CORE,
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
  });

  it.each(INTERFACES)("is on every field of %s in the published types", (name) => {
    const dts = readFileSync(`${CORE}dist/index.d.ts`, "utf8");
    const fields = fieldsOf(dts, name);
    expect(fields.length).toBeGreaterThan(0);
    for (const { field, above } of fields) expect(above, `${name}.${field}`).toMatch(/\*\/$/);
  });

  it("covers every declared core option: an option added without its input field fails here", async () => {
    const { INTERFACE_PREFIXES } = await import(`${CORE}scripts/option-jsdoc.mjs`);
    const { optionsDocs } = await import("@nix2dream/modules");
    const { evaluateDeployment } = await import(`${CORE}dist/index.js`);
    const docs: Array<{ path: string }> = optionsDocs(evaluateDeployment({ name: "docs" }).options);
    const dts = readFileSync(`${CORE}dist/index.d.ts`, "utf8");
    const missing: string[] = [];
    for (const [name, prefix] of Object.entries(INTERFACE_PREFIXES as Record<string, string>)) {
      const fields = new Set(fieldsOf(dts, name).map((f) => f.field));
      for (const { path } of docs) {
        if (!path.startsWith(prefix)) continue;
        const rest = path.slice(prefix.length);
        if (rest.includes(".") || rest.startsWith("<") || rest.startsWith("_")) continue;
        // Set by evaluation from the attribute name, or read only by evaluation.
        if (
          (name === "ServiceDefinition" && rest === "name") ||
          rest === "assertions" ||
          rest === "warnings"
        )
          continue;
        if (!fields.has(rest)) missing.push(`${name}.${rest} (${path})`);
      }
    }
    expect(missing).toEqual([]);
  });
});
