import { describe, expect, it } from "vitest";
import {
  type DeploymentDefinition,
  environmentLine,
  evaluateDeployment,
  execLine,
  parseExecLine,
  rawUnitText,
  SystemdQuoteError,
  type SystemdRefResolver,
  systemdMemory,
  systemdServiceOf,
  systemdTimespan,
  unitEscape,
  unitQuote,
} from "../src/index.js";

const HOSTILE = [
  "plain",
  "with space",
  `it's "quoted"`,
  "$(rm -rf /) `id` $HOME ${HOME} $$",
  "100% %n %%",
  "back\\slash\\",
  "line one\nline two\r\n\ttabbed",
  "ünïcødé ✓ 日本",
  ";",
  "",
  "\x01\x7f",
];

const resolve: SystemdRefResolver = (r) =>
  r.kind === "host" ? "127.0.0.1" : r.kind === "port" ? "5432" : { unit: "%S/x" };

function evaluate(def: Omit<DeploymentDefinition, "name">) {
  return evaluateDeployment({ name: "shop", ...def } as DeploymentDefinition, {
    file: "nix2dream.config.ts",
  }).deployment;
}

describe("systemd quoting", () => {
  it("quotes every hostile argument so that systemd's splitting gives it back", () => {
    for (const v of HOSTILE) {
      expect(parseExecLine(execLine(["/bin/echo", v]))).toEqual(["/bin/echo", v]);
    }
  });

  it("leaves safe words bare and escapes specifiers and dollars in quoted words", () => {
    expect(unitQuote("a/b-c.d")).toBe("a/b-c.d");
    expect(unitQuote("50%")).toBe('"50%%"');
    expect(unitQuote("$HOME")).toBe('"$$HOME"');
    expect(unitQuote("")).toBe('""');
  });

  it("keeps raw unit text unescaped inside a quoted argument", () => {
    expect(unitQuote(`${rawUnitText("%S/shop")}/a b%`)).toBe('"%S/shop/a b%%"');
  });

  it("refuses a program systemd would read as a prefix or a relative path", () => {
    expect(() => execLine(["-rm"])).toThrow(SystemdQuoteError);
    expect(() => execLine(["./bin/x"])).toThrow(/relative path/);
    expect(() => execLine(["/bin/echo", "a\0b"])).toThrow(/NUL/);
  });

  it("escapes % in plain settings and quotes environment assignments", () => {
    expect(unitEscape("100%")).toBe("100%%");
    expect(environmentLine("A", 'x "y" \\ \n')).toBe('"A=x \\"y\\" \\\\ \\n"');
  });

  it("converts durations and memory quantities", () => {
    expect(systemdTimespan(5)).toBe("5s");
    expect(systemdTimespan(0.5)).toBe("500ms");
    expect(systemdMemory("512Mi")).toBe("512M");
    expect(systemdMemory("1G")).toBe("1000000000");
    expect(systemdMemory("lots")).toBeNull();
  });
});

describe("systemdServiceOf", () => {
  it("maps started, healthy and completed dependencies onto Wants, Requires and After", () => {
    const d = evaluate({
      services: {
        db: { command: ["postgres"], ports: { pg: 5432 }, healthcheck: { port: "pg" } },
        migrate: { command: ["migrate"], restart: { policy: "on-failure" } },
        cache: { command: ["redis-server"] },
        api: {
          command: ["api"],
          dependsOn: { db: "healthy", migrate: "completed", cache: "started" },
        },
      },
    });
    const api = systemdServiceOf(d.services.api as never, d, { resolve, execStart: ["api"] });
    expect(api.unit.Wants).toEqual(["shop-cache.service"]);
    expect(api.unit.Requires).toEqual(["shop-db.service", "shop-migrate.service"]);
    expect(api.unit.After).toEqual([
      "shop-cache.service",
      "shop-db.service",
      "shop-migrate.service",
    ]);
    const migrate = systemdServiceOf(d.services.migrate as never, d, {
      resolve,
      execStart: ["migrate"],
    });
    expect(migrate.service.Type).toEqual(["oneshot"]);
    expect(migrate.service.RemainAfterExit).toEqual(["yes"]);
    const db = systemdServiceOf(d.services.db as never, d, { resolve, execStart: ["postgres"] });
    expect(db.service.ExecStartPost?.length).toBe(1);
  });
});
