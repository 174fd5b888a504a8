/**
 * Every rendered compose file against the current Compose Specification schema (npm `dclint`'s
 * copy, validated with ajv) and against docker-compose 1.29's own `config` command.
 */
import { rmSync } from "node:fs";
import { type DeploymentDefinition, evaluateDeployment, ref } from "@nix2dream/core";
import { artifact } from "@nix2dream/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import compose, { COMPOSE_FILE } from "../src/index.js";
import { manyServices } from "./fixtures/many.js";
import { HOSTILE, shopDefinition } from "./fixtures/shop.js";
import { composeConfig, composeSchemaErrors, writeRender } from "./helpers.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation, not a template
const SECRET_REF = "${N2D_TEST_TOKEN}";
const CONTROLS = "a\x7fb\x80c\x85d\x9fe\u2028f\u2029g";

const hostile = {
  name: "hostile",
  use: [compose()],
  services: {
    "we-ird.name_1": {
      command: ["sh", "-c", HOSTILE],
      args: [HOSTILE, "", "-", "--x=$y", "yes", "on", "0x10", "1:30", "~", "null"],
      env: {
        A: HOSTILE,
        YES: "yes",
        EMPTY: "",
        NUM: "012",
        COLON: "a: b",
        HASH: "# c",
        // DEL, C1 controls (NEL among them) and the Unicode line/paragraph separators: written
        // raw, docker-compose refuses the file and YAML 1.1 readers fold them into spaces.
        CONTROLS: CONTROLS,
      },
      labels: { "a.b": HOSTILE, off: "off" },
      files: { "/etc/hostile file $x.txt": HOSTILE },
      workingDir: "/srv/$HOME dir",
      healthcheck: { command: ["test", "-e", "/etc/hostile file $x.txt"] },
      ports: { http: 8080 },
    },
    ready: {
      package: { image: "busybox:stable" },
      command: ["echo", HOSTILE],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${NOPE} must stay literal
      args: ["$$", "${NOPE}", "no"],
      env: { B: HOSTILE },
      secrets: { TOKEN: { fromEnv: "N2D_TEST_TOKEN" } },
      // A reference in an exec healthcheck is resolved like everywhere else.
      healthcheck: { command: ["ping", "-c", "1", ref["we-ird.name_1"]?.host ?? ""] },
    },
  },
} satisfies DeploymentDefinition;

describe("the hostile render's special values", () => {
  const { deployment } = evaluateDeployment(hostile, { file: "nix2dream.config.ts" });
  const { artifacts, diagnostics } = compose().render(deployment);
  const ours = parse(artifact(artifacts, COMPOSE_FILE), { version: "1.1" }) as {
    services: Record<
      string,
      { environment: Record<string, string>; healthcheck: { test: string[] } }
    >;
  };

  it("resolves references in an exec healthcheck (no raw token reaches the container)", () => {
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(ours.services.ready?.healthcheck.test).toEqual([
      "CMD",
      "ping",
      "-c",
      "1",
      "we-ird.name_1",
    ]);
  });

  it("writes DEL, C1 controls and U+2028/U+2029 escaped, so readers get them back exactly", () => {
    expect(artifact(artifacts, COMPOSE_FILE)).not.toMatch(/[\x7f-\x9f\u2028\u2029]/);
    expect(ours.services["we-ird.name_1"]?.environment.CONTROLS).toBe(CONTROLS);
  });

  it("reads back the same through docker-compose", { tags: ["docker"] }, () => {
    const dir = writeRender(artifacts);
    dirs.push(dir);
    const back = parse(composeConfig(dir, false, { N2D_TEST_TOKEN: "x" })) as typeof ours;
    expect(back.services["we-ird.name_1"]?.environment.CONTROLS).toBe(CONTROLS);
  });
});

describe("env names that are Object.prototype members", () => {
  // Variable names like any other: `__proto__` set by assignment would have been dropped.
  const env = Object.fromEntries([
    ["__proto__", HOSTILE],
    ["constructor", "c"],
    ["toString", "t"],
  ]) as Record<string, string>;
  const def = {
    name: "proto",
    use: [compose()],
    services: { app: { package: { image: "busybox" }, command: ["sh"], env } },
  } satisfies DeploymentDefinition;
  const { deployment } = evaluateDeployment(def, { file: "nix2dream.config.ts" });
  const { artifacts } = compose().render(deployment);
  const own = (o: object | undefined, k: string) => Object.getOwnPropertyDescriptor(o, k)?.value;
  // In the file (and in what `docker-compose config` prints) `$` is doubled: Compose interpolates.
  const asWritten = HOSTILE.replaceAll("$", "$$$$");

  it("are written as keys of `environment`", () => {
    const doc = parse(artifact(artifacts, COMPOSE_FILE), { version: "1.1" }) as {
      services: Record<string, { environment: Record<string, string> }>;
    };
    const written = doc.services.app?.environment;
    expect(Object.keys(written ?? {}).sort()).toEqual(["__proto__", "constructor", "toString"]);
    expect(own(written, "__proto__")).toBe(asWritten);
  });

  it("read back the same through docker-compose", { tags: ["docker"] }, () => {
    const dir = writeRender(artifacts);
    dirs.push(dir);
    const back = JSON.parse(JSON.stringify(parse(composeConfig(dir, false)))) as {
      services: Record<string, { environment: Record<string, string> }>;
    };
    expect(own(back.services.app?.environment, "__proto__")).toBe(asWritten);
    expect(own(back.services.app?.environment, "constructor")).toBe("c");
  });
});

const cases: Array<[string, DeploymentDefinition]> = [
  ["shop", shopDefinition],
  ["hostile values", hostile],
  ["200 services", manyServices(200)],
];

describe.each(cases)("the %s render", (_label, definition) => {
  const { deployment } = evaluateDeployment(definition, { file: "nix2dream.config.ts" });
  const { artifacts } = compose().render(deployment);
  const text = artifact(artifacts, COMPOSE_FILE);

  it("is valid against the Compose Specification schema", () => {
    expect(composeSchemaErrors(parse(text, { version: "1.1" }))).toEqual([]);
  });

  it("is accepted by docker-compose config", { tags: ["docker"] }, () => {
    const dir = writeRender(artifacts);
    dirs.push(dir);
    expect(() => composeConfig(dir, true, { N2D_TEST_TOKEN: "x" })).not.toThrow();
  });

  it("reads back through docker-compose with every value intact", { tags: ["docker"] }, () => {
    const dir = writeRender(artifacts);
    dirs.push(dir);
    const normalised = parse(composeConfig(dir, false, { N2D_TEST_TOKEN: "x" })) as {
      services: Record<
        string,
        { environment?: Record<string, string | null>; labels?: unknown; command?: unknown }
      >;
    };
    const ours = parse(text, { version: "1.1" }) as typeof normalised;
    for (const [name, s] of Object.entries(ours.services)) {
      // The one deliberate interpolation: a renamed secret of a ready image, from the caller's environment.
      const expected = Object.fromEntries(
        Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === SECRET_REF ? "x" : v]),
      );
      expect(normalised.services[name]?.environment ?? {}).toEqual(expected);
      expect(normalised.services[name]?.labels ?? {}).toEqual(s.labels ?? {});
      expect(normalised.services[name]?.command).toEqual(s.command);
    }
  });
});
