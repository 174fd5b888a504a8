/**
 * End to end with the real neighbours: a deployment evaluated by @nix2dream/core, rendered by
 * @nix2dream/render-procfile (launcher scripts, processes.json), run by the supervisor.
 * Needs core and render-procfile built (the root `pnpm test` builds first).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { evaluateDeployment, ref } from "@nix2dream/core";
import procfile from "@nix2dream/render-procfile";
import { expectInOrder, freePort, writeArtifacts } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { readPlan } from "../src/programmatic.js";
import { NODE, supervise, tempDir } from "./helpers.js";

describe("a real procfile render", () => {
  it("runs migrate, then api once healthy, then worker, and stops them all", async () => {
    const port = await freePort();
    const root = tempDir();
    const api = ref.api as NonNullable<typeof ref.api>;
    const { deployment } = evaluateDeployment({
      name: "e2e",
      services: {
        migrate: {
          command: [NODE, "-e", "console.log('migrated ' + process.env.GREETING)"],
          env: { GREETING: 'it\'s "quoted" $(not run)' },
          restart: "no",
        },
        api: {
          command: [
            NODE,
            "-e",
            "require('http').createServer((q, s) => s.end('ok')).listen(+process.env.PORT, '127.0.0.1', () => console.log('listening'))",
          ],
          ports: { http: port },
          env: { PORT: api.port("http") },
          healthcheck: { port: "http", path: "/", interval: "100ms", startPeriod: "10s" },
          dependsOn: { migrate: "completed" },
        },
        worker: {
          command: [
            NODE,
            "-e",
            "fetch(process.env.API_URL).then(r => r.text()).then(t => { console.log('api said ' + t); setInterval(() => {}, 1000); })",
          ],
          env: { API_URL: `http://${api.addressOf("http")}` },
          dependsOn: { api: "healthy" },
        },
      },
    });
    const renderDir = path.join(root, "procfile");
    writeArtifacts(renderDir, procfile().render(deployment).artifacts);
    const plan = readPlan(renderDir);
    const { sup, out } = supervise(plan, {
      renderDir,
      stateDir: path.join(root, "state", "local"),
    });
    await sup.start();
    await out.waitFor(/worker +\| api said ok/);
    expectInOrder(out.lines(), [/migrate +\| migrated it's "quoted" \$\(not run\)/]);
    expectInOrder(out.lines(), [
      /migrate exited with code 0/,
      /api started/,
      /api is healthy/,
      /worker started/,
    ]);
    expect(sup.status().find((s) => s.name === "api")).toMatchObject({
      state: "running",
      health: "healthy",
      ports: { http: port },
    });
    await sup.shutdown();
    const result = await sup.wait();
    expect(result.exitCode).toBe(0);
    expect(readFileSync(sup.logFile("worker"), "utf8")).toBe("api said ok\n");
  });
});
