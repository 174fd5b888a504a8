// @module-tag docker
/**
 * The reference deployment (packages/testkit/src/reference-deployment.ts) as OCI images on the
 * real Docker engine: rendered by render-oci, built by this manager's `buildImages`, then run
 * with plain `docker run`. An image carries no run-time settings (render-oci warns about each),
 * so this file plays the part of the runtime that would run the images (a kubelet, a Nomad
 * client): every setting it passes comes from the evaluated deployment — one network where
 * services are reachable by name, published ports, named volumes for persistent volumes (also
 * where another service references them), secrets from the environment, start in dependency
 * order, waiting for `completed` (exit 0) and `healthy` (the healthcheck, tried from here).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import {
  containerRefResolver,
  dependencyOrder,
  type EvaluatedDeployment,
  type EvaluatedService,
  evaluateDeployment,
  refsIn,
  resolveRefs,
} from "@nix2dream/core";
import oci, { type ImagesManifest } from "@nix2dream/render-oci";
import {
  busyboxImage,
  fileTempDir,
  freePort,
  requireDocker,
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
import { buildImages } from "../src/index.js";

const NAME = `n2d-b-ref-oci-${process.pid}-${Date.now().toString(36)}`;
const BASE_IMAGE = `n2d-b-ref-oci-busybox:${process.pid}`;
const NOBODY = 65534;
const dir = fileTempDir("n2d-b-ref-oci-");
const made = {
  containers: new Set<string>(),
  volumes: new Set<string>(),
  images: new Set<string>(),
};

function docker(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("docker", args, { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function mustDocker(args: string[]): string {
  const r = docker(args);
  if (r.status !== 0) throw new Error(`docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let lastProbe = "";

/** Waits until `ok()` holds, failing with `what` and the container's logs after `seconds`. */
async function waitFor(
  what: string,
  seconds: number,
  container: string,
  ok: () => Promise<boolean>,
): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (!(await ok())) {
    if (Date.now() > until) {
      const logs = docker(["logs", container]);
      throw new Error(
        `timed out waiting for ${what}; last probe: ${lastProbe}; logs:\n${logs.stdout}${logs.stderr}`,
      );
    }
    await sleep(250);
  }
}

/**
 * The service's healthcheck, run inside its container as a kubelet's probe would reach it (a
 * probe of the published port from here would be answered by Docker's proxy before the
 * service listens).
 */
function healthy(
  d: EvaluatedDeployment,
  service: EvaluatedService,
  container: string,
): Promise<boolean> {
  const h = service.healthcheck;
  if (!h) return Promise.resolve(true);
  let probe: string[];
  // References resolve as in the images: to service names and container ports.
  const resolve = containerRefResolver(d, (name) => name);
  // containerRefResolver never returns a shell expansion (those are for state directories).
  if (h.type === "exec")
    probe = h.command.map((word) => resolveRefs(word, (r) => String(resolve(r))));
  else {
    const port = service.ports[h.port]?.port as number;
    probe =
      h.type === "tcp"
        ? ["sh", "-c", `nc -w 1 127.0.0.1 ${port} </dev/null`]
        : ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${port}${h.path}`];
  }
  const r = docker(["exec", container, ...probe]);
  lastProbe = `${probe.join(" ")}: exit ${r.status} ${r.stdout}${r.stderr}`;
  return Promise.resolve(r.status === 0);
}

/** `docker run` flags for what an image leaves to its runtime, read from the deployment. */
function runFlags(d: EvaluatedDeployment, name: string, network: string): string[] {
  const s = d.services[name] as EvaluatedService;
  const flags = ["--network", network, "--network-alias", name, "--init"];
  for (const p of Object.values(s.ports)) flags.push("-p", `127.0.0.1:${p.port}:${p.port}`);
  for (const secret of Object.values(s.secrets)) {
    if (secret.fromEnv !== null) flags.push("-e", secret.fromEnv);
  }
  const volume = (owner: string, vname: string) => {
    const v = d.services[owner]?.volumes[vname];
    if (!v?.persistent) return;
    const named = `${NAME}-${owner}-${vname}`;
    made.volumes.add(named);
    flags.push("-v", `${named}:${v.path}`);
  };
  for (const vname of Object.keys(s.volumes)) volume(name, vname);
  const { command, args, env, files, healthcheck, preStart } = s;
  for (const r of refsIn({ command, args, env, files, healthcheck, preStart })) {
    if (r.kind === "volume" && r.service !== name) volume(r.service, r.volume);
  }
  return flags;
}

/** Starts every service in dependency order, waiting for what its dependants wait for. */
async function start(d: EvaluatedDeployment, images: ImagesManifest, network: string) {
  for (const name of dependencyOrder(d)) {
    const s = d.services[name] as EvaluatedService;
    const container = `${NAME}-${name}`;
    docker(["rm", "-f", container]);
    made.containers.add(container);
    const image = images.images[name]?.tags[0] as string;
    mustDocker(["run", "-d", "--name", container, ...runFlags(d, name, network), image]);
    const waits = Object.values(d.services).map((o) => o.dependsOn[name]);
    if (waits.includes("completed")) {
      const code = mustDocker(["wait", container]);
      expect(code, docker(["logs", container]).stderr).toBe("0");
    }
    if (waits.includes("healthy")) {
      await waitFor(`${name} to be healthy`, 120, container, () => healthy(d, s, container));
    }
  }
}

beforeAll(() => {
  requireDocker();
  // `db` runs as nobody: the base image must know the user, and the volume's directory (and
  // the one above, where the launcher marks an init in progress) must be writable for it.
  busyboxImage(BASE_IMAGE, [
    `RUN echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd && echo 'nobody:x:${NOBODY}:${NOBODY}:nobody:/nonexistent:/bin/false' >> /etc/passwd && echo 'root:x:0:' > /etc/group && echo 'nogroup:x:${NOBODY}:' >> /etc/group`,
    `RUN mkdir -p ${REFERENCE_DB_VOLUME} && chown -R ${NOBODY}:${NOBODY} ${REFERENCE_DB_VOLUME}/..`,
  ]);
  process.env[REFERENCE_SECRET_VAR] = REFERENCE_SECRET;
}, 180_000);

afterAll(() => {
  delete process.env[REFERENCE_SECRET_VAR];
  if (made.containers.size) docker(["rm", "-f", ...made.containers]);
  docker(["network", "rm", NAME]);
  if (made.volumes.size) docker(["volume", "rm", "-f", ...made.volumes]);
  if (made.images.size) docker(["rmi", "-f", ...made.images]);
  docker(["rmi", "-f", BASE_IMAGE]);
}, 180_000);

describe("the reference deployment as OCI images on Docker", () => {
  it("builds, starts in order, passes every behaviour check, and keeps its data across a restart", {
    timeout: 600_000,
  }, async () => {
    const ports = { db: await freePort(), api: await freePort(), web: await freePort() };
    const renderer = oci({ baseImage: BASE_IMAGE });
    const { deployment } = evaluateDeployment(
      { ...referenceDeployment(NAME, ports), use: [renderer] },
      { file: join(dir, "nix2dream.config.ts"), root: dir },
    );
    const render = renderer.render(deployment);
    expect(render.diagnostics.filter((x) => x.severity === "error")).toEqual([]);
    const renderDir = join(dir, "oci");
    writeArtifacts(renderDir, render.artifacts);
    const built = await buildImages({ artifactsDir: renderDir });
    for (const b of built) for (const t of b.tags) made.images.add(t);
    expect(built.map((b) => b.service).sort()).toEqual(["api", "db", "seed", "web"]);
    const images = JSON.parse(
      render.artifacts.find((a) => a.path === "images.json")?.content as string,
    ) as ImagesManifest;
    mustDocker(["network", "create", NAME]);
    for (const run of [1, 2]) {
      await start(deployment, images, NAME);
      await waitFor("web to be healthy", 120, `${NAME}-web`, () =>
        healthy(deployment, deployment.services.web as EvaluatedService, `${NAME}-web`),
      );
      await expectReferenceBehaviour(referenceFetch(ports), { run, dbUid: NOBODY });
      // Down: the containers stop (with the image's STOPSIGNAL) and go; the named volumes stay.
      docker(["stop", "-t", "10", ...made.containers]);
      docker(["rm", "-f", ...made.containers]);
    }
  });
});
