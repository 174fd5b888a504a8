/** `up --wait`: a real background supervisor (`dist/`), run as the CLI runs it. */
import path from "node:path";
import { freePort } from "@nix2dream/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { killGroup } from "../src/probe.js";
import { readRecord } from "../src/record.js";
import { nodeScript, planOf } from "./helpers.js";
import { act, contextOf, RUN_ACTION, renderDirOf, started } from "./real.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    const groups = readRecord(path.join(dir, "state"))?.processes.map((p) => p.pid) ?? [];
    await act("down", contextOf(dir).ctx);
    for (const g of groups) killGroup(g, "SIGKILL");
  }
});

async function upWait(dir: string, ...flags: string[]) {
  dirs.push(dir);
  const run = started([process.execPath, RUN_ACTION, "up", dir, "--wait", ...flags]);
  return { code: await run.exited, stdout: run.stdout(), stderr: run.stderr() };
}

const tcpProbe = (port: number) => ({
  type: "tcp" as const,
  host: "127.0.0.1",
  port,
  interval: 0.05,
  timeout: 1,
  retries: 3,
  startPeriod: 30,
});

describe("up --wait", () => {
  it("returns 0 once every process is healthy, running or completed", async () => {
    const port = await freePort();
    const server = `setTimeout(() => require("net").createServer().listen(${port}, "127.0.0.1"), 300)`;
    const dir = renderDirOf(
      planOf([
        { name: "migrate", command: nodeScript("setTimeout(() => {}, 200)") },
        {
          name: "api",
          command: nodeScript(server),
          probe: tcpProbe(port),
          dependsOn: { migrate: "completed" },
        },
        { name: "worker", dependsOn: { api: "healthy" } },
      ]),
    );
    const run = await upWait(dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Started in the background[\s\S]*Every process is up \(3\)\./);
    const ps = contextOf(dir, { json: true });
    const rows = (await act("ps", ps.ctx)).data as {
      name: string;
      state: string;
      health: string;
    }[];
    expect(rows.map((r) => `${r.name}:${r.state}:${r.health}`)).toEqual([
      "migrate:exited:none",
      "api:running:healthy",
      "worker:running:none",
    ]);
  });

  it("returns 1 with the reason when a process fails", async () => {
    const dir = renderDirOf(
      planOf([
        { name: "migrate", command: nodeScript("process.exit(3)") },
        { name: "api", dependsOn: { migrate: "completed" } },
      ]),
    );
    const run = await upWait(dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: manager local: Not every process came up: migrate failed \(exited with code 3\); api blocked \(dependency `migrate` failed/,
    );
  });

  it("returns 1 when the timeout passes, saying what it still waits for", async () => {
    const port = await freePort(); // nothing will listen: the probe never passes
    const dir = renderDirOf(
      planOf([
        { name: "api", probe: tcpProbe(port) },
        { name: "worker", dependsOn: { api: "healthy" } },
      ]),
    );
    const run = await upWait(dir, "--wait-timeout=1");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: manager local: Timed out after 1s waiting for: api starting; worker waiting \(waiting for `api` to be healthy \(last probe: .*ECONNREFUSED/,
    );
  });
});
