// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose's ${VAR} and generated template literals are what these tests read
/**
 * `nix2dream import`: Compose interpolation and `.env` files, the generated config (type-checked
 * by tsc, loaded and evaluated by `nix2dream check`), hostile values, what is not carried, and
 * the rules for writing the file. The round trip through docker-compose and the runs on real
 * engines are in import-roundtrip.test.ts and import-run.test.ts.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HOSTILE } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { interpolate, parseDotenv } from "../src/import/interpolate.js";
import { ALL_RENDERERS, importProject, n2d, typecheck } from "./import-helpers.js";

const where = { path: "services.web.image", file: "compose.yaml" };
const vars: Record<string, string> = { SET: "value", EMPTY: "" };
const lookup = (name: string) => vars[name];
const interp = (text: string) => interpolate(text, lookup, where);

describe("Compose interpolation", () => {
  it.each([
    ["$SET and ${SET}", "value and value"],
    ["${UNSET:-fallback} ${EMPTY:-fallback} ${SET:-fallback}", "fallback fallback value"],
    ["${UNSET-fallback} [${EMPTY-fallback}]", "fallback []"],
    ["${SET:+alt} [${EMPTY:+alt}] ${EMPTY+alt}", "alt [] alt"],
    ["cost $$5, $${SET}", "cost $5, ${SET}"],
    ["${UNSET:-${SET}-nested}", "value-nested"],
    ["no variables at all", "no variables at all"],
  ])("reads %j as %j", (text, expected) => {
    expect(interp(text)).toBe(expected);
  });

  it("substitutes an empty string for an unset variable and records it", () => {
    const unset = new Set<string>();
    expect(interpolate("a${NOPE}b$NOPE2", lookup, where, unset)).toBe("ab");
    expect([...unset].sort()).toEqual(["NOPE", "NOPE2"]);
  });

  it("fails on ${VAR:?message} with the message, the variable, the key and the file", () => {
    expect(() => interp("${UNSET:?set it in .env}")).toThrow(
      /`services\.web\.image` in compose\.yaml requires the variable UNSET: set it in \.env/,
    );
    expect(() => interp("${EMPTY:?}")).toThrow(/EMPTY is empty/);
    expect(interp("${EMPTY?}")).toBe("");
  });

  it("fails on a $ that starts no expression, suggesting $$", () => {
    expect(() => interp("price: ${}")).toThrow(/invalid interpolation/);
    expect(() => interp("${SET")).toThrow(/invalid interpolation/);
  });
});

describe(".env files", () => {
  it("reads KEY=value, export, quotes, escapes and comments", () => {
    const text = [
      "# comment",
      "PLAIN=one two ",
      "export EXPORTED=yes",
      "SINGLE='it''s $HOME'",
      'DOUBLE="a\\nb \\"q\\""',
      "TRAILING=value # note",
      "EMPTY=",
      "not a line",
    ].join("\n");
    expect(parseDotenv(text)).toEqual({
      PLAIN: "one two",
      EXPORTED: "yes",
      SINGLE: "it",
      DOUBLE: 'a\nb "q"',
      TRAILING: "value",
      EMPTY: "",
    });
  });
});

describe("importing the Compose fixtures", () => {
  const fixtures = ["voting", "webapp", "spec"];

  it("writes configs that tsc accepts under strict settings", () => {
    const dir = importProject(null);
    const files: string[] = [];
    for (const f of fixtures) {
      const project = importProject(f);
      const r = n2d(project, ["import", "-o", join(dir, `${f}.config.ts`)]);
      expect(r.code, r.stderr).toBe(0);
      files.push(`${f}.config.ts`);
    }
    const { status, output } = typecheck(dir, files);
    expect(output).toBe("");
    expect(status).toBe(0);
  });

  it.each(fixtures)("writes a config for %s that nix2dream loads and evaluates", (f) => {
    const project = importProject(f);
    expect(n2d(project, ["import"]).code).toBe(0);
    const check = n2d(project, ["check", "--json"]);
    expect(check.stderr).not.toMatch(/error:/);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout).ok).toBe(true);
  });

  it("turns host names and ports of other services into typed references", () => {
    const project = importProject("webapp");
    n2d(project, ["import"], { COMPOSE_PROJECT_NAME: "webapp" });
    const source = readFileSync(join(project, "nix2dream.config.ts"), "utf8");
    expect(source).toContain("DB_URL: `postgres://shopper@${ref.db.host}:${ref.db.ports.pg}/shop`");
    expect(source).toContain("DB_HOST: `${ref.db.host}`");
    // The rendered Compose file resolves them back to the service's name and port.
    expect(n2d(project, ["render"]).code).toBe(0);
    const rendered = parse(
      readFileSync(join(project, ".nix2dream/webapp/compose/compose.yaml"), "utf8"),
    );
    expect(rendered.services.backend.environment.DB_URL).toBe("postgres://shopper@db:5432/shop");
  });

  it("merges -f files in order, like the default compose.yaml + compose.override.yaml", () => {
    const a = importProject("webapp");
    const b = importProject("webapp");
    const env = { COMPOSE_PROJECT_NAME: "webapp" };
    expect(n2d(a, ["import"], env).code).toBe(0);
    expect(n2d(b, ["import", "-f", "compose.yaml", "-f", "compose.override.yaml"], env).code).toBe(
      0,
    );
    const source = readFileSync(join(a, "nix2dream.config.ts"), "utf8");
    expect(readFileSync(join(b, "nix2dream.config.ts"), "utf8")).toBe(source);
    expect(source).toContain('LOG_LEVEL: "debug"');
    expect(source).toContain("hostPort: 18443");
    expect(source).toContain("hostPort: 18080");
  });

  it("interpolates from .env, the environment winning over it", () => {
    const project = importProject("webapp");
    const r = n2d(project, ["import", "-o", "-"], { DB_NAME: "from-env" });
    expect(r.stdout).toContain('POSTGRES_DB: "from-env"');
    expect(r.stdout).toContain('GREETING: "hi there, it costs $5"');
    expect(r.stdout).toContain("postgres://shopper@");
  });

  it("fails with the variable and the file when ${VAR:?} is unset, writing nothing", () => {
    const project = importProject("webapp");
    writeFileSync(join(project, ".env"), "DB_USER=x\n");
    const r = n2d(project, ["import"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/requires the variable DB_NAME: set DB_NAME in \.env/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(project, "nix2dream.config.ts"))).toBe(false);
  });
});

describe("an imported config on every target", () => {
  /** The generated config with every renderer in `use` instead of the one it was written for. */
  function withEveryRenderer(dir: string): void {
    const file = join(dir, "nix2dream.config.ts");
    const imports = ALL_RENDERERS.map(([pkg, name]) => `import ${name}_ from "@nix2dream/${pkg}";`);
    const use = ALL_RENDERERS.map(([, name]) => `${name}_()`).join(", ");
    const source = readFileSync(file, "utf8").replace(
      /^( +)use: \[.*\],$/m,
      (_, indent) => `${indent}use: [${use}],`,
    );
    expect(source).toContain(use);
    writeFileSync(file, `${imports.join("\n")}\n${source}`);
  }

  it.each([
    ["runnable", { N2D_IMAGE: "busybox:stable" }],
    ["procfile", {}],
  ])("renders %s with every renderer, without an error", (fixture, env) => {
    const project = importProject(fixture);
    expect(n2d(project, ["import", "--strict"], env).code).toBe(0);
    withEveryRenderer(project);
    const r = n2d(project, ["render"]);
    expect(r.stderr).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    for (const [, name] of ALL_RENDERERS)
      expect(r.stdout).toMatch(new RegExp(`^rendered ${name} `, "m"));
  });

  it("says which services need a command on targets that run programs", () => {
    const project = importProject("webapp");
    const r = n2d(project, ["import", "-o", "-"]);
    expect(r.stdout).toMatch(
      /No command: the image's own runs\..*\n\s+package: \{ image: "postgres:16" \}/,
    );
  });
});

describe("what cannot be carried", () => {
  it("stays in the file as a commented block with the reason and is listed on stderr", () => {
    const project = importProject("spec");
    const r = n2d(project, ["import"]);
    expect(r.code).toBe(0);
    const source = readFileSync(join(project, "nix2dream.config.ts"), "utf8");
    for (const key of ["cap_add", "deploy.placement", "deploy.resources.reservations"]) {
      expect(source).toMatch(
        new RegExp(`// Not carried — .+\\n\\s+// ${key.replace(/\./g, "\\.")}:`),
      );
      expect(r.stderr).toContain(`not carried: services.frontend.${key}:`);
    }
    expect(r.stderr).toContain("not carried: networks:");
    expect(r.stderr).toContain("not carried: volumes.db-data:");
  });

  it("fails under --strict, listing every key and writing nothing", () => {
    const project = importProject("voting");
    const r = n2d(project, ["import", "--strict"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: services.seed.profiles:");
    expect(r.stderr).toMatch(/10 keys could not be carried/);
    expect(existsSync(join(project, "nix2dream.config.ts"))).toBe(false);
  });

  it("passes --strict when everything is carried", () => {
    const project = importProject("webapp");
    expect(n2d(project, ["import", "--strict"]).code).toBe(0);
  });
});

describe("writing the config", () => {
  it("refuses to replace an existing config without --force", () => {
    const project = importProject("webapp");
    writeFileSync(join(project, "nix2dream.config.ts"), "// mine\n");
    const r = n2d(project, ["import"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nix2dream\.config\.ts already exists; nothing was written/);
    expect(r.stderr).toMatch(/--force/);
    expect(readFileSync(join(project, "nix2dream.config.ts"), "utf8")).toBe("// mine\n");
    expect(n2d(project, ["import", "--force"]).code).toBe(0);
    expect(readFileSync(join(project, "nix2dream.config.ts"), "utf8")).toContain(
      "defineDeployment",
    );
  });

  it("writes to -o <file> and leaves no temporary file behind", () => {
    const project = importProject("webapp");
    expect(n2d(project, ["import", "-o", "other.config.ts"]).code).toBe(0);
    expect(existsSync(join(project, "other.config.ts"))).toBe(true);
    expect(existsSync(join(project, "nix2dream.config.ts"))).toBe(false);
    const left = readdirSync(project).filter((f) => f.endsWith(".tmp"));
    expect(left).toEqual([]);
  });

  it("notes a variable used unset, in the file and on stderr", () => {
    const project = importProject(null);
    writeFileSync(
      join(project, "compose.yaml"),
      "services:\n  app:\n    image: busybox\n    environment:\n      TOKEN: x${N2D_SURELY_UNSET}y\n",
    );
    const r = n2d(project, ["import", "-o", "-"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('TOKEN: "xy"');
    expect(r.stdout).toContain("// Note: The variable N2D_SURELY_UNSET is not set");
    expect(r.stderr).toContain(
      "changed: (interpolation): The variable N2D_SURELY_UNSET is not set",
    );
  });

  it("reports a file that is not YAML or not Compose in one paragraph", () => {
    const project = importProject(null);
    writeFileSync(join(project, "compose.yaml"), "services: [\n");
    const bad = n2d(project, ["import"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/compose\.yaml is not valid YAML/);
    writeFileSync(join(project, "compose.yaml"), "- just a list\n");
    expect(n2d(project, ["import"]).stderr).toMatch(
      /is not a Compose file: it needs a `services:` mapping/,
    );
  });

  it("says clearly when there is nothing to import", () => {
    const project = importProject(null);
    const r = n2d(project, ["import"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No Compose file or Procfile here/);
  });
});

describe("hostile values", () => {
  // Env values, labels and command words that break naive quoting, through YAML, the generated
  // TypeScript and the compose render, back byte for byte.
  const values = HOSTILE.filter((v) => !v.includes("\r"));

  it("come back byte for byte from the rendered compose file, and the config type-checks", () => {
    const project = importProject(null);
    const env = Object.fromEntries(values.map((v, i) => [`V${i}`, v.replaceAll("$", "$$$$")]));
    const labels = Object.fromEntries(values.map((v, i) => [`l.${i}`, v.replaceAll("$", "$$$$")]));
    const command = values.filter((v) => v !== "").map((v) => v.replaceAll("$", "$$$$"));
    // Keys that are not carried go into `//` comments: hostile text there must stay comment.
    const notCarried = {
      container_name: values.join("|").replaceAll("$", "$$$$"),
      logging: { options: env },
    };
    const doc = {
      name: "hostile",
      services: { app: { image: "busybox", environment: env, labels, command, ...notCarried } },
    };
    writeFileSync(join(project, "compose.yaml"), JSON.stringify(doc));
    expect(n2d(project, ["import"]).code).toBe(0);
    const source = readFileSync(join(project, "nix2dream.config.ts"), "utf8");
    expect(source).not.toMatch(/[\r\u2028\u2029]/);
    expect(source).toMatch(/\/\/ container_name: /);
    const { output } = typecheck(project, ["nix2dream.config.ts"]);
    expect(output).toBe("");
    expect(n2d(project, ["render"]).code).toBe(0);
    const text = readFileSync(join(project, ".nix2dream/hostile/compose/compose.yaml"), "utf8");
    const app = parse(text, { version: "1.1" }).services.app;
    const unescapeDollars = (s: string) => s.replaceAll("$$", "$");
    values.forEach((v, i) => {
      expect(unescapeDollars(app.environment[`V${i}`])).toBe(v);
      expect(unescapeDollars(app.labels[`l.${i}`])).toBe(v);
    });
    expect(app.command.map(unescapeDollars)).toEqual(values.filter((v) => v !== ""));
  });
});

describe("importing a Procfile", () => {
  it("gives each process type foreman's PORT and the .env, with $PORT as a reference", () => {
    const project = importProject("procfile");
    const r = n2d(project, ["import"]);
    expect(r.code, r.stderr).toBe(0);
    const source = readFileSync(join(project, "nix2dream.config.ts"), "utf8");
    expect(source).toContain('command: ["node", "api.mjs", "--port", `${ref.api.ports.http}`]');
    expect(source).toContain('command: ["node", "web.mjs"]');
    expect(source).toContain(
      `command: ["/bin/sh", "-c", "sh -c 'while true; do echo \\"tick $WORK_QUEUE\\"; sleep 1; done'"]`,
    );
    expect(source).toMatch(/web: \{[\s\S]*?ports: \{ http: 5000 \}/);
    expect(source).toMatch(/api: \{[\s\S]*?ports: \{ http: 5100 \}/);
    expect(source).toMatch(/worker: \{[\s\S]*?ports: \{ http: 5200 \}/);
    expect(source).toContain('WORK_QUEUE: "jobs"');
    expect(source).toContain("env: { ...dotenv, PORT: `${ref.web.ports.http}` }");
    const check = n2d(project, ["check"]);
    expect(check.code, check.stderr).toBe(0);
    expect(typecheck(project, ["nix2dream.config.ts"]).output).toBe("");
  });

  it("takes the base port from PORT in .env, as foreman does", () => {
    const project = importProject("procfile");
    writeFileSync(join(project, ".env"), "PORT=7000\n");
    const r = n2d(project, ["import", "-o", "-"]);
    expect(r.stdout).toMatch(/web: \{[\s\S]*?ports: \{ http: 7000 \}/);
    expect(r.stdout).toMatch(/worker: \{[\s\S]*?ports: \{ http: 7200 \}/);
  });
});
