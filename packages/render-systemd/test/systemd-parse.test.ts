// @module-tag systemd
/**
 * Hostile values read back by systemd itself: the manager's test mode parses the rendered units
 * with systemd's own code and dumps argv, environment and settings, which must equal the input.
 */
import type { DeploymentDefinition } from "@nix2dream/core";
import { evaluateDeployment } from "@nix2dream/core";
import { beforeAll, describe, expect, it } from "vitest";
import systemd from "../src/index.js";
import { shop } from "./fixtures/shop.js";
import { dumpUnits, settingValues } from "./helpers.js";

const HOSTILE = [
  "plain",
  "with space",
  `it's "quoted"`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${HOME} is the hostile value
  "$(rm -rf /) `id` $HOME ${HOME} $$ $",
  "100% %n %% %t",
  "back\\slash\\",
  "line one\nline two\r\n\ttabbed",
  "ünïcødé ✓ 日本 🚀",
  ";",
  "",
  "-leading-dash",
  "\\x41 not an escape",
  "'",
  '"',
];

function hostileDeployment() {
  const definition = {
    name: "hostile",
    use: [systemd()],
    services: {
      echo: {
        description: 'echo; it\'s "100%" $HOME `id`\nsecond ✓',
        command: ["/bin/echo"],
        args: HOSTILE,
        env: Object.fromEntries(HOSTILE.map((v, i) => [`V${i}`, v])),
        workingDir: "/srv/with space/100%",
        user: "app",
      },
    },
  } satisfies DeploymentDefinition;
  return evaluateDeployment(definition, { file: "/x/nix2dream.config.ts", root: "/x" }).deployment;
}

type Dump = ReturnType<typeof dumpUnits>;

describe("units read back by systemd's own parser (systemd --test --user)", () => {
  // In beforeAll, not the describe body: a body runs even when the file's tag is filtered out.
  let dump: Dump;
  let unit: Dump["units"][string] | undefined;
  beforeAll(() => {
    dump = dumpUnits(systemd().render(hostileDeployment()).artifacts, "hostile.target");
    unit = dump.units["hostile-echo.service"];
  });

  it("loads every rendered unit without a warning", () => {
    expect(dump.warnings).toEqual([]);
    expect(Object.keys(dump.units).sort()).toEqual(["hostile-echo.service", "hostile.target"]);
  });

  it("gives every hostile argument back to the program exactly", () => {
    // The dump shows argv before `$` substitution, which turns `$$` into `$` at exec time.
    expect(unit?.exec.ExecStart).toEqual([
      ["/bin/echo", ...HOSTILE.map((v) => v.split("$").join("$$"))],
    ]);
  });

  it("gives every hostile environment value back exactly", () => {
    const env = settingValues(unit, "Environment");
    expect(env).toEqual(HOSTILE.map((v, i) => `V${i}=${v}`).sort(byKey));
  });

  it("keeps percent signs and dollars of the description and working directory literal", () => {
    expect(settingValues(unit, "Description")).toEqual(['echo; it\'s "100%" $HOME `id` second ✓']);
    expect(settingValues(unit, "WorkingDirectory")).toEqual(["/srv/with space/100%"]);
    expect(settingValues(unit, "User")).toEqual(["app"]);
  });
});

function byKey(a: string, b: string): number {
  const ka = a.slice(0, a.indexOf("="));
  const kb = b.slice(0, b.indexOf("="));
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

describe("the shop deployment in systemd's test mode", () => {
  const { artifacts } = systemd().render(shop());
  let dump: Dump;
  beforeAll(() => {
    dump = dumpUnits(artifacts, "shop.target");
  });

  it("loads every unit and the transaction that starts the target without a warning", () => {
    expect(dump.warnings).toEqual([]);
    expect(Object.keys(dump.units).sort()).toEqual(artifacts.map((a) => a.path).sort());
  });

  it("orders each service after what it depends on, and the target after every service", () => {
    const deps = (unit: string, key: string) =>
      settingValues(dump.units[unit], key).map((v) => v.split(" ")[0]);
    expect(deps("shop-api.service", "Requires")).toEqual(
      expect.arrayContaining(["shop-db.service", "shop-migrate.service"]),
    );
    expect(deps("shop-api.service", "After")).toEqual(
      expect.arrayContaining(["shop-db.service", "shop-migrate.service"]),
    );
    // Targets order themselves after the units they want: `start shop.target` waits for all.
    expect(deps("shop.target", "After")).toEqual(
      expect.arrayContaining([
        "shop-api.service",
        "shop-db.service",
        "shop-migrate.service",
        "shop-worker.service",
      ]),
    );
  });

  it("parses the generated scripts into the argv core's parser reads", () => {
    const api = dump.units["shop-api.service"];
    expect(api?.exec.ExecStartPre).toHaveLength(2);
    expect(api?.exec.ExecStartPost?.[0]?.[0]).toBe("/bin/sh");
    expect(api?.exec.ExecStart?.[0]?.slice(-4)).toEqual([
      "--config",
      `${dump.runtimeDir}/shop/api/files/config/app.json`,
      "--motd",
      "it's $$(not) `run` 100%\nsecond line ✓",
    ]);
  });
});
