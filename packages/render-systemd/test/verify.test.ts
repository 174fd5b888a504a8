// @module-tag systemd
/**
 * Every rendered unit against `systemd-analyze verify` (systemd 252 here). The command exits 0
 * on most mistakes and only prints "ignoring" lines, so these tests fail on any output line.
 */
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
