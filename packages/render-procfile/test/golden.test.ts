import { goldenFiles, goldenTests } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import procfile from "../src/index.js";
import { shop } from "./fixtures/shop.js";

/** Expected render of `fixtures/shop.ts`, reviewed like code. `UPDATE_GOLDEN=1` rewrites it. */
const GOLDEN = new URL("./fixtures/golden/shop/", import.meta.url);

describe("golden render of the shop deployment", () => {
  const { artifacts, diagnostics } = procfile().render(shop);
  goldenTests(GOLDEN, goldenFiles(artifacts, diagnostics));

  it("marks launchers executable and nothing else", () => {
    const modes = Object.fromEntries(artifacts.map((a) => [a.path, a.mode ?? 0o644]));
    expect(modes).toEqual({
      ".foreman": 0o644,
      Procfile: 0o644,
      "launchers/api.sh": 0o755,
      "launchers/db.sh": 0o755,
      "launchers/migrate.sh": 0o755,
      "launchers/worker.sh": 0o755,
      "processes.json": 0o644,
    });
  });
});
