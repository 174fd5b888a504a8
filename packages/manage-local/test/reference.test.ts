/**
 * The reference deployment (packages/testkit/src/reference-deployment.ts) under the real
 * supervisor: rendered by render-procfile, run from its launchers, checked over HTTP, stopped
 * and run again on the same state. The test runs as root here, so `db`'s `user: nobody` is
 * applied (defect 9): its volume is written by uid 65534.
 */
import { chmodSync, mkdirSync, statSync } from "node:fs";
import { userInfo } from "node:os";
import path from "node:path";
import { evaluateDeployment } from "@nix2dream/core";
import procfile from "@nix2dream/render-procfile";
import { expectInOrder, freePort, tempDir, writeArtifacts } from "@nix2dream/testkit";
import {
  expectReferenceBehaviour,
  REFERENCE_SECRET,
  REFERENCE_SECRET_VAR,
  referenceDeployment,
  referenceFetch,
} from "@nix2dream/testkit/reference";
import { describe, expect, it } from "vitest";
import { readPlan, Supervisor } from "../src/programmatic.js";
import { Sink, waitForStatus } from "./helpers.js";

const NOBODY = 65534;

async function runOnce(
  renderDir: string,
  stateDir: string,
  run: number,
  ports: Parameters<typeof referenceFetch>[0],
) {
  const out = new Sink();
  const sup = new Supervisor({
    plan: readPlan(renderDir),
    renderDir,
    stateDir,
    output: out,
    env: { ...process.env, [REFERENCE_SECRET_VAR]: REFERENCE_SECRET },
  });
  try {
    await sup.start();
    await waitForStatus(sup, "web", (s) => s.health === "healthy", 90_000);
    await waitForStatus(sup, "api", (s) => s.health === "healthy", 90_000);
    await expectReferenceBehaviour(referenceFetch(ports), { run, dbUid: NOBODY });
    // The supervisor's own account of the order: the job and db's health gate api.
    expectInOrder(out.lines(), [/db runs as nobody \(uid 65534/, /db is healthy/, /api started/]);
    expectInOrder(out.lines(), [/seed exited with code 0/, /api started/, /web started/]);
  } finally {
    await sup.shutdown();
    await sup.wait();
  }
  return out;
}

describe("the reference deployment under manage-local", () => {
  it("runs, passes every behaviour check, and keeps its data across a down and up", {
    timeout: 240_000,
  }, async () => {
    expect(userInfo().uid).toBe(0); // `user` is applied only by a root supervisor
    const root = tempDir("n2d-ref-local-");
    // nobody must reach its launcher and state: mkdtemp made the directory 0700.
    chmodSync(root, 0o755);
    const ports = { db: await freePort(), api: await freePort(), web: await freePort() };
    const { deployment } = evaluateDeployment(referenceDeployment("reflocal", ports), {
      file: path.join(root, "nix2dream.config.ts"),
      root,
    });
    const renderDir = path.join(root, "procfile");
    mkdirSync(renderDir);
    writeArtifacts(renderDir, procfile().render(deployment).artifacts);
    const stateDir = path.join(root, "state", "local");
    await runOnce(renderDir, stateDir, 1, ports);
    const volume = path.join(root, "state", "db", "volumes", "data");
    expect(statSync(path.join(volume, "starts")).uid).toBe(NOBODY);
    await runOnce(renderDir, stateDir, 2, ports);
  });
});
