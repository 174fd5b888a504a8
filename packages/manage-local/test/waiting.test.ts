import { freePort } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { planOf, supervise, waitForStatus } from "./helpers.js";

describe("a process waiting for a dependency", () => {
  it("says what it waits for and the dependency's last probe failure, in ps and in a line", async () => {
    const port = await freePort(); // nothing listens there: the probe never passes
    const plan = planOf([
      {
        name: "api",
        probe: {
          type: "tcp",
          host: "127.0.0.1",
          port,
          interval: 0.05,
          timeout: 1,
          retries: 2,
          startPeriod: 0,
        },
      },
      { name: "worker", dependsOn: { api: "healthy" } },
      { name: "cron", dependsOn: { worker: "started" } },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    await waitForStatus(sup, "api", (s) => s.health === "unhealthy");
    const worker = sup.status().find((s) => s.name === "worker");
    expect(worker?.state).toBe("waiting");
    expect(worker?.reason).toMatch(/^waiting for `api` to be healthy \(last probe: .*ECONNREFUSED/);
    expect(sup.status().find((s) => s.name === "cron")?.reason).toBe(
      "waiting for `worker` to start",
    );
    await out.waitFor(
      /nix2dream \| worker waits for `api` to be healthy \(last probe: .*ECONNREFUSED/,
    );
  });
});
