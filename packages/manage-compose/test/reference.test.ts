// @module-tag docker
/**
 * The reference deployment (packages/testkit/src/reference-deployment.ts) on the real Docker
 * engine: rendered by render-compose into images FROM a scratch busybox base, run by this
 * manager's `up` (which waits until Docker reports every healthchecked container healthy),
 * checked over the published ports, then `down` and `up` again on the same volumes.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { evaluateDeployment } from "@nix2dream/core";
import compose from "@nix2dream/render-compose";
import {
  busyboxImage,
  fileTempDir,
  freePort,
  managerContext,
  runAction,
  writeArtifacts,
} from "@nix2dream/testkit";
import {
  expectReferenceBehaviour,
  REFERENCE_DB_VOLUME,
  REFERENCE_SECRET,
  REFERENCE_SECRET_VAR,
  referenceDeployment,
  referenceFetch,
} from "@nix2dream/testkit/reference";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import composeManager, { projectContainers, projectNameOf } from "../src/index.js";

const NAME = `n2d-ref-compose-${process.pid}-${Date.now().toString(36)}`;
const PROJECT = projectNameOf(NAME);
const BASE_IMAGE = `n2d-ref-compose-busybox:${PROJECT}`;
const NOBODY = 65534;
const dir = fileTempDir("n2d-ref-compose-");

function quiet(args: string[]) {
  try {
    execFileSync("docker", args, { stdio: "ignore" });
  } catch {
    // best effort: it may be gone already
  }
}

function ids(args: string[]): string[] {
  return execFileSync("docker", args, { encoding: "utf8" }).split(/\s+/).filter(Boolean);
}

beforeAll(() => {
  for (const [cmd, args, pkg] of [
    ["docker", ["info"], "docker.io"],
    ["docker-compose", ["version"], "docker-compose"],
  ] as const) {
    try {
      execFileSync(cmd, args, { stdio: "ignore" });
    } catch {
      throw new Error(`\`${cmd}\` is needed: apt-get install -y ${pkg} (and start dockerd).`);
    }
  }
  // `db` runs as nobody: the image must know the user, and its volume (and the directory
  // above it, where the launcher marks an init in progress) must be writable for it — what
  // render-compose's warning on `services.db.user` asks of a base image.
  busyboxImage(BASE_IMAGE, [
    `RUN echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd && echo 'nobody:x:${NOBODY}:${NOBODY}:nobody:/nonexistent:/bin/false' >> /etc/passwd && echo 'root:x:0:' > /etc/group && echo 'nogroup:x:${NOBODY}:' >> /etc/group`,
    `RUN mkdir -p ${REFERENCE_DB_VOLUME} && chown -R ${NOBODY}:${NOBODY} ${REFERENCE_DB_VOLUME}/..`,
  ]);
  process.env[REFERENCE_SECRET_VAR] = REFERENCE_SECRET;
}, 180_000);

afterAll(() => {
  delete process.env[REFERENCE_SECRET_VAR];
  const label = `label=com.docker.compose.project=${PROJECT}`;
  const containers = ids(["ps", "-aq", "--filter", label]);
  if (containers.length) quiet(["rm", "-f", ...containers]);
  for (const n of ids(["network", "ls", "-q", "--filter", label])) quiet(["network", "rm", n]);
  for (const v of ids(["volume", "ls", "-q", "--filter", label])) quiet(["volume", "rm", v]);
  const images = ids(["images", "-q", "--filter", `reference=${NAME}-*`]);
  if (images.length) quiet(["rmi", "-f", ...new Set(images)]);
  quiet(["rmi", "-f", BASE_IMAGE]);
}, 180_000);

describe("the reference deployment on Docker Compose", () => {
  it("comes up healthy, passes every behaviour check, and keeps its data across a down and up", {
    timeout: 600_000,
  }, async () => {
    const ports = { db: await freePort(), api: await freePort(), web: await freePort() };
    const renderer = compose({ baseImage: BASE_IMAGE });
    const manager = composeManager({ waitTimeout: 240 });
    const { deployment } = evaluateDeployment(
      { ...referenceDeployment(NAME, ports), use: [renderer, manager] },
      { file: join(dir, "nix2dream.config.ts"), root: dir },
    );
    const renderDir = join(dir, "compose");
    mkdirSync(renderDir);
    writeArtifacts(renderDir, renderer.render(deployment).artifacts);
    const act = (name: string, flags = {}) =>
      runAction(
        manager.actions[name],
        managerContext({ deployment, artifactsDir: renderDir, flags }),
      );
    try {
      for (const run of [1, 2]) {
        const up = await act("up");
        expect(up.exitCode, up.stdout + up.stderr).toBe(0);
        // `up` returned: Docker itself must call every healthchecked container healthy.
        const rows = await projectContainers(PROJECT);
        expect(rows.map((r) => [r.service, r.state, r.health, r.exitCode])).toEqual([
          ["api", "running", "healthy", 0],
          ["db", "running", "healthy", 0],
          ["seed", "exited", "none", 0],
          ["web", "running", "healthy", 0],
        ]);
        await expectReferenceBehaviour(referenceFetch(ports), { run, dbUid: NOBODY });
        const down = await act("down");
        expect(down.exitCode, down.stdout + down.stderr).toBe(0);
      }
    } finally {
      await act("down", { volumes: true });
    }
  });
});
