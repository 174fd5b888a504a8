import { describe, expect, it } from "vitest";
import {
  checkedRenderResult,
  defineRenderer,
  evaluateDeployment,
  ref,
  unresolvedRefsIn,
} from "../src/index.js";

const { deployment } = evaluateDeployment(
  {
    name: "shop",
    services: {
      db: {
        ports: { pg: 5432 },
        healthcheck: { command: ["pg_isready", "-h", ref.db?.host ?? "", "-p", "5432"] },
      },
      api: { env: { DB: `${ref.db?.address.pg}` } },
    },
  },
  { file: "/project/nix2dream.config.ts" },
);

/** A renderer that copies values into its files without resolving them: the bug core catches. */
const careless = defineRenderer({
  name: "careless",
  render: (d) => ({
    artifacts: [
      { path: "raw.json", content: JSON.stringify(d.services.db?.healthcheck, null, 1) },
      { path: "escaped.yaml", content: `env:\n  DB: "${"\\uE000address:db:pg\\uE001"}"\n` },
    ],
    diagnostics: [],
  }),
});

describe("references left unresolved by a renderer", () => {
  it("are found raw and as the \\uE000 escape YAML and JSON writers produce, with their line", () => {
    expect(unresolvedRefsIn(`a\nb ${ref.db?.host}`)).toEqual([
      { ref: { service: "db", kind: "host" }, line: 2 },
    ]);
    expect(unresolvedRefsIn('x: "\\ue000port:db:pg\\ue001"')).toEqual([
      { ref: { service: "db", kind: "port", port: "pg" }, line: 1 },
    ]);
    expect(unresolvedRefsIn("nothing to see \\u0041 here")).toEqual([]);
  });

  it("are errors naming the renderer, the file and line, the reference and the option", () => {
    const { diagnostics } = careless.render(deployment);
    expect(diagnostics).toHaveLength(2);
    expect(diagnostics[0]).toMatchObject({
      severity: "error",
      option: "services.db.healthcheck.command",
      service: "db",
      files: ["/project/nix2dream.config.ts"],
    });
    expect(diagnostics[0]?.message).toMatch(
      /^The renderer `careless` left the reference `ref\.db\.host` unresolved in raw\.json:\d+, from `services\.db\.healthcheck\.command`/,
    );
    expect(diagnostics[1]).toMatchObject({ severity: "error", option: "services.api.env.DB" });
    expect(diagnostics[1]?.message).toContain("`ref.db.address.pg` unresolved in escaped.yaml:2");
  });

  it("are checked once, however many times the result goes through the check", () => {
    const once = careless.render(deployment);
    expect(checkedRenderResult("careless", deployment, once)).toBe(once);
  });

  it("are checked for a renderer made without defineRenderer, too", () => {
    const plain = {
      artifacts: [{ path: "f", content: `${ref.db?.host}` }],
      diagnostics: [],
    };
    expect(checkedRenderResult("plain", deployment, plain).diagnostics).toHaveLength(1);
  });

  it("leave a clean result untouched", () => {
    const clean = { artifacts: [{ path: "f", content: "db:5432" }], diagnostics: [] };
    expect(checkedRenderResult("clean", deployment, clean)).toEqual(clean);
  });
});
