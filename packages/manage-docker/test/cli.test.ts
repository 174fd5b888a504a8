// @module-tag docker
/**
 * `nix2dream render oci` then `nix2dream build|images --manager docker` through the real CLI
 * (packages/nix2dream, built) on the real engine.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { busyboxImage, fileTempDir, runCli } from "@nix2dream/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";

const CONFIG = fileURLToPath(new URL("./fixtures/cli/nix2dream.config.ts", import.meta.url));
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const BASE = `n2d-oci-busybox:cli-${RUN_ID}`;
const DEPLOYMENT = `n2d-oci-cli-${RUN_ID}`;
const out = fileTempDir("n2d-oci-cli-");
const env = { ...process.env, N2D_OCI_BASE: BASE, N2D_OCI_DEPLOYMENT: DEPLOYMENT, NO_COLOR: "1" };

function cli(...args: string[]) {
  return runCli([...args, "--config", CONFIG, "--out", out], { env });
}

beforeAll(() => {
  busyboxImage(BASE);
}, 120_000);

afterAll(() => {
  const images = spawnSync(
    "docker",
    ["image", "ls", "-q", "--filter", `label=org.nix2dream.deployment=${DEPLOYMENT}`],
    { encoding: "utf8" },
  )
    .stdout.split("\n")
    .filter(Boolean);
  spawnSync("docker", ["image", "rm", "-f", ...new Set(images), BASE]);
});

it("renders with the oci renderer, builds with progress, then lists the images as JSON", () => {
  // `build` renders the oci renderer first (the CLI does so before every building action).
  const build = cli("build", "--manager", "docker");
  expect(build.stderr).toMatch(/^rendered oci → .*\/oci\/ \(\d+ files\)\n$/);
  expect(build.status).toBe(0);
  expect(build.stdout).toMatch(
    /^\[1\/1\] hello: building n2d-oci-cli-[a-z0-9-]+-hello:[0-9a-f]{12} \(\+ .*:latest\)\n/,
  );
  expect(build.stdout).toMatch(/\[1\/1\] hello: built in \d+\.\d\d s, sha256:[0-9a-f]{12}\n$/);
  const images = cli("images", "--manager", "docker", "--json");
  expect(images.status).toBe(0);
  const rows = JSON.parse(images.stdout) as Array<{ tag: string; id: string | null }>;
  expect(rows.map((r) => r.tag.split(":")[1])).toEqual([
    expect.stringMatching(/^[0-9a-f]{12}$/),
    "latest",
  ]);
  expect(new Set(rows.map((r) => r.id)).size).toBe(1);
  expect(rows[0]?.id).toMatch(/^sha256:/);
  const run = spawnSync("docker", ["run", "--rm", rows[0]?.tag as string], { encoding: "utf8" });
  expect(run.stdout).toBe("hello\n");
}, 180_000);

it("prints the manager's error in the CLI's form when no engine answers: error line, exit 1, no stack", () => {
  const r = runCli(["images", "--manager", "docker", "--config", CONFIG, "--out", out], {
    env: { ...env, DOCKER_HOST: "unix:///nonexistent/n2d-no-engine.sock" },
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(
    /^error: manager docker: No Docker engine answers at unix:\/\/\/nonexistent\/n2d-no-engine\.sock /,
  );
  expect(r.stderr).not.toMatch(/\n\s+at |--debug/);
});
