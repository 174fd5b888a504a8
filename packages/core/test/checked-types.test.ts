import { spawnSync } from "node:child_process";
import type { OptionType } from "@nix2dream/modules";
import { describe, expect, it } from "vitest";
import { evaluateDeployment } from "../src/index.js";

// The core option types that check values with a plain predicate instead of their zod schema
// (`checkedType` in src/options/types.ts), so that a valid config never loads zod. Each must
// accept exactly what its schema accepts: checked here against the real zod schema.
// Where each is found (an option's path, then the names of nested types) and its description.
const CHECKED: Array<[string, string]> = [
  [
    "services.<name>.healthcheck.interval",
    'duration (seconds, or a string like "5s", "500ms", "1m")',
  ],
  ["services.<name>.stop.signal", "signal name (e.g. SIGTERM)"],
  ["services.<name>.files.<name>.mode", 'octal file mode (e.g. "0644")'],
  [
    "services.<name>.resources.memory/elemType",
    'memory quantity (bytes, or "512Mi", "1Gi", "500M")',
  ],
  ["services.<name>.resources.cpu/elemType", "positive number"],
  ["services.<name>.restart.backoff.factor", "number ≥ 1"],
  ["services.<name>.command/finalType", "list of string"],
  ["name", "deployment name (letters, digits, `_`, `.`, `-`)"],
];

const sparse = ["a"];
sparse[2] = "c";
const PROBES: unknown[] = [
  ...[0, -0, 1, 0.5, 1.5, -1, 3, 2 ** 53 - 1, 2 ** 53, 1e300, Number.NaN, Number.POSITIVE_INFINITY],
  ...[Number.NEGATIVE_INFINITY, Number.MAX_VALUE, Number.MIN_VALUE],
  ...["", "5s", "500ms", "1m", "1h30m", "1.5s", "5", "5 s", "s", "1d", "5s\n", "\n5s"],
  ...["SIGTERM", "SIGRTMIN+3", "sigterm", "TERM", "SIG", "0644", "644", "0888", "06444", "0o644"],
  ...["512Mi", "1Gi", "500M", "1.5Gi", "1Ei", "-1Mi", "512mi", "shop", "a.b_c-d", "-x", "_x"],
  ...["x".repeat(300), "naïve", "a b", "a/b"],
  ...[[], ["a"], ["a", "b"], ["a", 1], [undefined], sparse, [["a"]]],
  ...[null, undefined, true, false, {}, { 0: "a", length: 1 }, 5n, Symbol("s"), () => 1],
];

interface OptionLike {
  type: OptionType;
  loc: string[];
}

const isOption = (v: unknown): v is OptionLike =>
  typeof v === "object" && v !== null && "type" in v && Array.isArray((v as OptionLike).loc);

/**
 * Every option type reachable from an options tree, by where it is: the option's path, then the
 * nested types' names (`services.<name>.command/finalType`); sub-options included.
 */
function collectTypes(tree: unknown, found: Map<string, OptionType>, depth = 0): void {
  if (typeof tree !== "object" || tree === null || depth > 12) return;
  if (!isOption(tree)) {
    for (const v of Object.values(tree)) collectTypes(v, found, depth + 1);
    return;
  }
  const option = tree;
  const visit = (t: OptionType, where: string, d: number): void => {
    if (d > 12) return;
    found.set(where, t);
    for (const [k, nested] of Object.entries(t.nestedTypes ?? {})) {
      visit(nested, `${where}/${k}`, d + 1);
    }
    let subs: unknown;
    try {
      subs = t.getSubOptions?.(option.loc);
    } catch {
      subs = undefined;
    }
    if (subs) collectTypes(subs, found, d + 1);
  };
  visit(option.type, option.loc.join("."), depth);
}

describe("core option types checked without zod", () => {
  const { options } = evaluateDeployment({ name: "probe", services: { a: {} } });
  const found = new Map<string, OptionType>();
  collectTypes(options, found);

  it.each(CHECKED)("%s (%s) accepts exactly what its zod schema accepts", (where, name) => {
    const type = found.get(where) as OptionType;
    expect(type?.description).toBe(name);
    for (const value of PROBES) {
      expect([value, type.check(value)]).toEqual([value, type.zod.safeParse(value).success]);
    }
  });

  it("explains a rejected value with zod's message and merges a list into a copy", () => {
    const command = found.get("services.<name>.command/finalType") as OptionType<string[]>;
    expect(command.explain?.(["a", 1])).toBe("1: Invalid input: expected string, received number");
    const argv = ["node", "server.mjs"];
    const merged = command.merge(["command"], [{ file: "a.ts", value: argv }]);
    expect(merged).toEqual(argv);
    expect(merged).not.toBe(argv);
  });
});

describe("evaluating a valid deployment", () => {
  it("loads no zod, by import or by require", () => {
    // A resolve hook reports every module resolved, in the child that evaluates.
    const hook = `export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes("/zod/")) console.log("zod: " + r.url); return r; }`;
    const register = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
    const script = `
      const core = await import(${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)});
      core.evaluateDeployment({ name: "shop", services: { api: {
        command: "node", args: ["api.mjs"], ports: { http: 8080 },
        healthcheck: { port: "http", path: "/", interval: "1s", timeout: 2 },
        restart: { policy: "always", backoff: { initial: "500ms", factor: 1.5 } },
        stop: { signal: "SIGINT", gracePeriod: "3s" }, resources: { memory: "512Mi", cpu: 0.5 },
        files: { "/etc/api.conf": { text: "x", mode: "0600" } },
      } } });
      const { createRequire } = await import("node:module");
      for (const k of Object.keys(createRequire(import.meta.url).cache)) if (k.includes("/zod/")) console.log("zod: " + k);
      console.log("evaluated");`;
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        `data:text/javascript,${encodeURIComponent(register)}`,
        "--input-type=module",
        "-e",
        script,
      ],
      { encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("evaluated\n");
  });
});
