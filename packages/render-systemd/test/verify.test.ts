// @module-tag systemd
/**
 * Every rendered unit against `systemd-analyze verify` (systemd 252 here). The command exits 0
 * on most mistakes and only prints "ignoring" lines, so these tests fail on any output line.
 */
import { type Diagnostic, evaluateDeployment } from "@nix2dream/core";
import { describe, expect, it } from "vitest";
import systemd from "../src/index.js";
import { shop } from "./fixtures/shop.js";
import { verifyUnits } from "./helpers.js";

/** Programs the shop units start: stub executables in the verify root. */
const PROGRAMS = ["/bin/sh", "/usr/bin/node", "node", "postgres"];

describe("systemd-analyze verify", () => {
  it("accepts every unit of the shop deployment without a single output line", () => {
    const { artifacts } = systemd().render(shop());
    const r = verifyUnits(artifacts, PROGRAMS);
    expect(r.lines).toEqual([]);
    expect(r.status).toBe(0);
  });

  it("accepts the units of a system-mode deployment with DynamicUser and resources", () => {
    const { artifacts } = systemd().render(
      shop({
        renderers: {
          systemd: { override: {}, targetOverride: {}, wantedBy: ["multi-user.target"] },
        },
      }),
    );
    expect(verifyUnits(artifacts, PROGRAMS).lines).toEqual([]);
  });

  it("is caught printing a warning while exiting 0 for a bad setting (the trap these tests guard)", () => {
    const d = shop();
    const bad = systemd().render({
      ...d,
      services: {
        ...d.services,
        db: {
          ...(d.services.db as NonNullable<typeof d.services.db>),
          renderers: {
            systemd: {
              override: { Service: { Type: "bogus" } },
              dynamicUser: false,
              environmentFiles: [],
            },
          },
        },
      },
    });
    const r = verifyUnits(bad.artifacts, PROGRAMS);
    expect(r.status).toBe(0);
    expect(r.lines.join("\n")).toMatch(/Failed to parse service type, ignoring: bogus/);
  });

  it("reports a program that does not exist", () => {
    const { artifacts } = systemd().render(shop());
    // The worker starts `node` directly (no wrapper: it has no secrets).
    const r = verifyUnits(artifacts, ["/bin/sh", "postgres"]);
    expect(r.lines.join("\n")).toMatch(/shop-worker.service: Command node is not executable/);
  });
});

describe("values systemd cannot read back, against systemd-analyze verify", () => {
  // A real render of a small deployment whose module defines the hostile options.
  const rendered = (config: Record<string, unknown>) => {
    const { deployment } = evaluateDeployment(
      {
        name: "shop",
        use: [systemd()],
        services: { api: { command: ["/usr/bin/node", "api.mjs"] } },
        modules: [{ file: "modules/api.ts", config: { services: { api: config } } }],
      },
      { file: "nix2dream.config.ts" },
    );
    return systemd().render(deployment);
  };
  const errorsOf = (r: { diagnostics: Diagnostic[] }) =>
    r.diagnostics
      .filter((d) => d.severity === "error")
      .map((d) => ({ option: d.option, files: d.files }));

  it("refuses a file text that makes a unit line over 1 MiB, naming the option and its file", () => {
    const r = rendered({ files: { "/etc/api/big.txt": "x".repeat(1024 * 1024) } });
    expect(errorsOf(r)).toEqual([
      { option: 'services.api.files."/etc/api/big.txt"', files: ["modules/api.ts"] },
    ]);
    expect(r.diagnostics.find((d) => d.severity === "error")?.message).toContain("1 MiB");
    expect(verifyUnits(r.artifacts, ["/bin/sh", "/usr/bin/node"]).lines).toEqual([]);
  });

  it("refuses an env value that makes its Environment= line over 1 MiB", () => {
    const r = rendered({ env: { BIG: "y".repeat(1024 * 1024) } });
    expect(errorsOf(r)).toEqual([{ option: "services.api.env.BIG", files: ["modules/api.ts"] }]);
    expect(verifyUnits(r.artifacts, ["/bin/sh", "/usr/bin/node"]).lines).toEqual([]);
  });

  it.each([
    ["a trailing backslash", "app\\"],
    ["a newline", "app\nExecStart=/bin/evil"],
    ["a leading space", " app"],
  ])("refuses a user with %s instead of writing a unit systemd reads differently", (_, user) => {
    const r = rendered({ user });
    expect(errorsOf(r)).toEqual([{ option: "services.api.user", files: ["modules/api.ts"] }]);
    const unit = r.artifacts.find((a) => a.path === "shop-api.service")?.content as string;
    expect(unit).not.toContain("User=");
    expect(verifyUnits(r.artifacts, ["/bin/sh", "/usr/bin/node"]).lines).toEqual([]);
  });
});
