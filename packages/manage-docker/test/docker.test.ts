// @module-tag docker
/**
 * The docker manager against the real engine (legacy builder), on an oci render whose base image
 * is made FROM scratch with Debian's busybox-static (no registry is reachable here).
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type DeploymentDefinition,
  evaluateDeployment,
  type ManagerContext,
  UserError,
} from "@nix2dream/core";
import oci, { type ImagesManifest } from "@nix2dream/render-oci";
import {
  busyboxImage,
  fileTempDir,
  managerContext,
  requireDocker,
  writeArtifacts,
} from "@nix2dream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import docker, { type BuildEvent, buildImages, type ImageRow } from "../src/index.js";

const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const BASE = `n2d-oci-busybox:test-manage-${RUN_ID}`;
const EXTRA = `n2d-oci-extra-${RUN_ID}/api:v1`;
const root = fileTempDir("n2d-oci-manage-");
const tags = new Set<string>();

function sh(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(argv[0] as string, argv.slice(1), {
    encoding: "utf8",
    env: { ...process.env, DOCKER_BUILDKIT: "0", ...env },
    timeout: 120_000,
  });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    throw new Error(`${argv[0]} is not installed: apt-get install -y docker.io`);
  }
  return r;
}

/** Renders `services` with the oci renderer into a fresh directory, as the CLI would. */
function renderTo(name: string, services: DeploymentDefinition["services"]): string {
  const confDir = join(root, `conf-${name}`);
  mkdirSync(confDir, { recursive: true });
  writeFileSync(join(confDir, "greeting.txt"), "hello from a source file\n");
  const r = oci().render(
    evaluateDeployment(
      {
        name,
        use: [oci()],
        renderers: { oci: { baseImage: BASE } },
        services,
      } as DeploymentDefinition,
      { root: confDir },
    ).deployment,
  );
  const dir = join(root, `render-${name}`);
  writeArtifacts(dir, r.artifacts); // host files (`files.*.source`) are copied in
  for (const a of r.artifacts) {
    if (a.path === "images.json") {
      const m = JSON.parse(String(a.content)) as ImagesManifest;
      for (const img of Object.values(m.images)) for (const t of img.tags) tags.add(t);
    }
  }
  return dir;
}

function context(artifactsDir: string, args: string[] = [], flags: ManagerContext["flags"] = {}) {
  const deployment = {} as ManagerContext["deployment"];
  return managerContext({ deployment, artifactsDir, stateDir: join(root, "state"), args, flags });
}

const DEP = `n2d-oci-mgr-${RUN_ID}`;
let dir = "";

beforeAll(() => {
  requireDocker();
  busyboxImage(BASE);
  dir = renderTo(DEP, {
    api: {
      command: ["/bin/cat", "/etc/greeting.txt"],
      files: { "/etc/greeting.txt": { source: "greeting.txt", mode: "0600" } },
      renderers: { oci: { extraImageTags: ["latest", EXTRA] } },
    },
    worker: { command: ["/bin/echo", "working"], labels: { team: 'it\'s "ops"' } },
    db: { package: { image: "n2d-oci-not-pulled:16" } },
  });
}, 120_000);

afterAll(() => {
  if (tags.size) sh(["docker", "image", "rm", "-f", ...tags]);
  sh(["docker", "image", "rm", "-f", BASE]);
});

describe("docker manager", () => {
  it("is the docker manager of the oci render with build and images actions", () => {
    const m = docker();
    expect([m.name, m.renderer, Object.keys(m.actions)]).toEqual([
      "docker",
      "oci",
      ["build", "images"],
    ]);
  });

  it("builds every image with progress per image, main and extra tags, and labels", async () => {
    const { ctx, out, err } = context(dir, [], { force: true });
    const res = await docker().actions.build?.(ctx);
    expect(err()).toBe("");
    expect(res?.exitCode).toBe(0);
    const lines = out().split("\n");
    expect(lines.filter((l) => l.startsWith("["))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^\\[1/2\\] api: building ${DEP}-api:[0-9a-f]{12} \\(\\+ ${DEP}-api:latest, ${EXTRA}\\)$`,
        ),
      ),
      expect.stringMatching(/^\[1\/2\] api: built in \d+\.\d\d s, sha256:[0-9a-f]{12}$/),
      expect.stringMatching(/^\[2\/2\] worker: building /),
      expect.stringMatching(/^\[2\/2\] worker: built in /),
    ]);
    expect(lines.some((l) => /^ {2}api \| Step 1\/\d+ : FROM (.*)$/.exec(l)?.[1] === BASE)).toBe(
      true,
    );
    const built = res?.data as Array<{
      service: string;
      tags: string[];
      id: string;
      seconds: number;
    }>;
    console.log(
      `manage-docker: build per image: ${built.map((b) => `${b.service} ${b.seconds.toFixed(2)} s`).join(", ")}`,
    );
    const api = built.find((b) => b.service === "api");
    for (const t of api?.tags ?? []) {
      expect(sh(["docker", "image", "inspect", "-f", "{{.Id}}", t]).stdout.trim()).toBe(api?.id);
    }
    const worker = built.find((b) => b.service === "worker");
    const wl = JSON.parse(
      sh(["docker", "image", "inspect", "-f", "{{json .Config.Labels}}", worker?.id ?? ""]).stdout,
    );
    expect(wl).toEqual({
      "org.nix2dream.deployment": DEP,
      "org.nix2dream.service": "worker",
      team: 'it\'s "ops"',
    });
  }, 120_000);

  it("builds source files into the image from the copy the render holds", () => {
    const m = JSON.parse(sh(["cat", join(dir, "images.json")]).stdout) as ImagesManifest;
    const r = sh(["docker", "run", "--rm", m.images.api?.tags[0] as string]);
    expect(r.stdout).toBe("hello from a source file\n");
    expect(existsSync(join(dir, "api", "sources", "0-greeting.txt"))).toBe(true);
  }, 60_000);

  it("copies the source files of an older render (without the copies) in a temporary context", async () => {
    const old = join(root, "render-old");
    cpSync(dir, old, { recursive: true });
    rmSync(join(old, "api", "sources"), { recursive: true });
    const built = await buildImages({ artifactsDir: old, services: ["api"] });
    expect(built[0]?.cached).toBe(false);
    const m = JSON.parse(sh(["cat", join(old, "images.json")]).stdout) as ImagesManifest;
    const r = sh(["docker", "run", "--rm", m.images.api?.tags[0] as string]);
    expect(r.stdout).toBe("hello from a source file\n");
    expect(existsSync(join(old, "api", "sources"))).toBe(false);
  }, 120_000);

  it("reuses an image whose content tag exists, and rebuilds it with --force", async () => {
    const events: BuildEvent[] = [];
    const again = await buildImages({
      artifactsDir: dir,
      services: ["worker"],
      onProgress: (e) => events.push(e),
    });
    expect(events.map((e) => e.type)).toEqual(["cached", "done"]);
    expect(again[0]?.cached).toBe(true);
    const forced = await buildImages({ artifactsDir: dir, services: ["worker"], force: true });
    expect(forced[0]?.cached).toBe(false);
    expect(forced[0]?.id).toBe(again[0]?.id);
  }, 120_000);

  it("lists the images, external ones included, as a table and as data", async () => {
    const { ctx, out } = context(dir);
    const res = await docker().actions.images?.(ctx);
    expect(res?.exitCode).toBe(0);
    const rows = res?.data as ImageRow[];
    expect(rows.map((r) => [r.service, r.kind, r.id !== null])).toEqual([
      ["api", "built", true],
      ["api", "built", true],
      ["api", "built", true],
      ["worker", "built", true],
      ["db", "external", false],
    ]);
    expect(out().split("\n")[0]).toMatch(/^SERVICE\s+TAG\s+IMAGE ID\s+SIZE\s+KIND$/);
    expect(out()).toMatch(/\ndb +n2d-oci-not-pulled:16 +\(not built\) +- +external\n$/);
    const json = context(dir, [], { json: true });
    await docker().actions.images?.(json.ctx);
    expect(json.out()).toBe("");
  }, 60_000);

  it("throws a UserError when no engine answers, and prints nothing itself", async () => {
    const { ctx, err } = context(dir);
    const m = docker({
      env: { ...process.env, DOCKER_HOST: `unix://${root}/no-such-engine.sock` },
    });
    await expect(m.actions.build?.(ctx)).rejects.toMatchObject({
      code: "MANAGE_DOCKER_NO_ENGINE",
      message: expect.stringMatching(
        /^No Docker engine answers at unix:\/\/.*no-such-engine\.sock .*Start dockerd/,
      ),
    });
    expect(err()).toBe("");
  });

  it("throws a UserError saying to render first when there is no images.json, and one naming an unknown service", async () => {
    const none = context(join(root, "nowhere"));
    await expect(docker().actions.build?.(none.ctx)).rejects.toMatchObject({
      code: "MANAGE_DOCKER_NO_RENDER",
      message: expect.stringContaining("render the deployment with the oci renderer first"),
    });
    const unknown = context(dir, ["db"]);
    const thrown = await docker()
      .actions.build?.(unknown.ctx)
      .catch((e: unknown) => e);
    expect(UserError.is(thrown)).toBe(true);
    expect(thrown).toMatchObject({
      code: "MANAGE_DOCKER_UNKNOWN_SERVICE",
      source: "manager docker",
      message:
        "There is no image to build for service db (it runs the ready image n2d-oci-not-pulled:16); images: api, worker.",
    });
  });
});
