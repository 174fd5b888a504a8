/**
 * `nix2dream` re-exports core's root only (issue 14, item 7): the target helpers behind core's
 * subpaths (`@nix2dream/core/systemd`, `/oci`, `/nix`, `/shell`, `/entrypoint`) are not part
 * of the application's programmatic face.
 */
import { describe, expect, it } from "vitest";

const SUBPATHS = ["systemd", "oci", "nix", "shell", "entrypoint"] as const;

describe("the nix2dream package's exports", () => {
  it("include core's root (evaluateDeployment, localRefResolver)", async () => {
    const app = (await import("../dist/index.js")) as Record<string, unknown>;
    expect(typeof app.evaluateDeployment).toBe("function");
    expect(typeof app.localRefResolver).toBe("function");
  });

  it.each(SUBPATHS)("include nothing of @nix2dream/core/%s", async (subpath) => {
    const app = (await import("../dist/index.js")) as Record<string, unknown>;
    const sub = (await import(`@nix2dream/core/${subpath}`)) as Record<string, unknown>;
    expect(Object.keys(sub).length).toBeGreaterThan(0);
    expect(Object.keys(sub).filter((name) => name in app)).toEqual([]);
  });
});
