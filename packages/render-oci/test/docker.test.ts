// @module-tag docker
/**
 * The rendered build contexts built and run on the real Docker engine (legacy builder), with a
 * base image made FROM scratch with Debian's busybox-static (no registry is reachable here).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  artifact,
  busyboxImage,
  fileTempDir,
  HOSTILE,
  requireDocker,
  writeArtifacts,
} from "@nix2dream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IMAGES_FILE, type ImagesManifest } from "../src/index.js";
import { render, run } from "./helpers.js";

const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const BASE = `n2d-oci-busybox:test-${RUN_ID}`;
const VOLUME = `n2d-oci-vol-${RUN_ID}`;
const CONTAINER = `n2d-oci-sig-${RUN_ID}`;
const root = fileTempDir("n2d-oci-docker-");
const built = new Set<string>();

const hostileEnv = Object.fromEntries(HOSTILE.map((h, i) => [`V${i}`, h]));
// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion that must stay literal
const FILE_TEXT = "a'b\"c\n$(touch /tmp/pwned) `id` ${HOME}\nünï 🙂\n";
const SECRET = `s3cr3t-${RUN_ID} 'q' "$(no)" \`no\``;

const printer = {
  command: [
    "/bin/sh",
    "-c",
    [
      `printf '%s\\0' "$@" @@ ${HOSTILE.map((_, i) => `"$V${i}"`).join(" ")} "$TOKEN" "$$" "$(cat /etc/app/prestart)" "$(stat -c %a /etc/app/conf.txt)"`,
      "cat /etc/app/conf.txt",
    ].join("\n"),
    "sh",
  ],
  args: HOSTILE,
  env: hostileEnv,
  secrets: { TOKEN: {} },
  files: { "/etc/app/conf.txt": { text: FILE_TEXT, mode: "0640" } },
  preStart: "echo prestart-ran > /etc/app/prestart",
};
const volume = (check: string) => ({
  command: ["/bin/sh", "-c", "wc -l < /data/count; ls -A /data"],
  volumes: {
    data: { path: "/data", init: "echo init >> count", check, clear: "echo clearing; ls -A" },
  },
});
const HOSTILE_PATH = "/etc/app/it's $(x) `y`/ü n.conf";
const definition = {
  name: "n2d-oci-test",
  renderers: { oci: { baseImage: BASE } },
  services: {
    printer,
    vol: volume("test -s count"),
    badvol: volume("echo checking; exit 3"),
    filesecret: {
      command: ["/bin/sh", "-c", 'printf "%s|" "$TOKEN"; cat "$0"', HOSTILE_PATH],
      secrets: { TOKEN: { fromFile: "/run/secrets/token" } },
      files: { [HOSTILE_PATH]: { text: "at a hostile path\n" } },
    },
    sig: {
      command: [
        "/bin/sh",
        "-c",
        'trap "echo got TERM; exit 42" TERM; echo ready; while :; do sleep 0.2; done',
      ],
    },
  },
};

let dir = "";
let manifest: ImagesManifest;
const tagOf = (svc: string) => manifest.images[svc]?.tags[0] as string;

/** `docker build` of one context with the manifest's labels, as a manager does; returns the seconds it took. */
function build(context: string, tag: string, labels: Record<string, string> = {}): number {
  const start = performance.now();
  const flags = Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
  const r = run(["docker", "build", "-q", ...flags, "-t", tag, context]);
  if (r.status !== 0) throw new Error(`docker build ${tag} failed:\n${r.stderr}`);
  built.add(tag);
  return (performance.now() - start) / 1000;
}

beforeAll(() => {
  requireDocker();
  busyboxImage(BASE);
  const r = render(definition);
  expect(r.diagnostics).toEqual([]);
  dir = join(root, "render");
  writeArtifacts(dir, r.artifacts);
  manifest = JSON.parse(artifact(r.artifacts, IMAGES_FILE));
  const times = Object.entries(manifest.images).map(
    ([svc, img]) => `${svc} ${build(join(dir, img.context), tagOf(svc), img.labels).toFixed(2)} s`,
  );
  console.log(`render-oci: docker build (legacy builder) per image: ${times.join(", ")}`);
}, 180_000);

afterAll(() => {
  run(["docker", "rm", "-f", CONTAINER]);
  run(["docker", "volume", "rm", "-f", VOLUME]);
  if (built.size) run(["docker", "image", "rm", "-f", ...built]);
  run(["docker", "image", "rm", "-f", BASE]);
});

describe("rendered images on a real Docker engine", () => {
  it("passes argv, hostile env, a run-time secret, preStart and a file with its mode, with the program as PID 1", () => {
    const r = run(["docker", "run", "--rm", "-e", `TOKEN=${SECRET}`, tagOf("printer")]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const fields = r.raw.toString("utf8").split("\0");
    const file = fields.pop();
    const at = fields.indexOf("@@");
    expect(fields.slice(0, at)).toEqual(HOSTILE);
    const [token, pid, prestart, mode, ...rest] = fields.slice(at + 1 + HOSTILE.length);
    expect(fields.slice(at + 1, at + 1 + HOSTILE.length)).toEqual(HOSTILE);
    expect({ token, pid, prestart, mode, rest }).toEqual({
      token: SECRET,
      pid: "1",
      prestart: "prestart-ran",
      mode: "640",
      rest: [],
    });
    expect(file).toBe(FILE_TEXT);
  });

  it("refuses to start without the required secret, naming it", () => {
    const r = run(["docker", "run", "--rm", tagOf("printer")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("secret TOKEN is missing");
  });

  it("keeps the secret out of every rendered file, the image config and its history", () => {
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((f) =>
        statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)],
      );
    for (const f of walk(dir)) expect(readFileSync(f, "utf8")).not.toContain("s3cr3t");
    const inspect = run(["docker", "image", "inspect", tagOf("printer")]);
    const history = run(["docker", "history", "--no-trunc", tagOf("printer")]);
    expect(inspect.status).toBe(0);
    expect(history.status).toBe(0);
    expect(inspect.stdout + history.stdout).not.toContain("s3cr3t");
    const config = JSON.parse(inspect.stdout)[0].Config;
    expect(config.Env ?? []).not.toContainEqual(expect.stringMatching(/^TOKEN=/));
    expect(config.Entrypoint).toEqual(["/bin/sh", "/nix2dream/entrypoint.sh"]);
    expect(config.Labels).toMatchObject({ "org.nix2dream.service": "printer" });
  });

  it("runs a volume's init once on an empty volume and its check on every start", () => {
    const once = () => run(["docker", "run", "--rm", "-v", `${VOLUME}:/data`, tagOf("vol")]);
    const first = once();
    const second = once();
    expect(first.stderr).toBe("");
    expect([first.stdout, second.stdout]).toEqual(["1\ncount\n", "1\ncount\n"]);
  });

  it("runs the volumes' clear scripts and empties them with --clear", () => {
    expect(run(["docker", "run", "--rm", "-v", `${VOLUME}:/data`, tagOf("vol")]).status).toBe(0);
    const clear = run(["docker", "run", "--rm", "-v", `${VOLUME}:/data`, tagOf("vol"), "--clear"]);
    expect(clear.stderr).toBe("");
    expect(clear.stdout).toBe("clearing\ncount\n");
    const ls = run([
      "docker",
      "run",
      "--rm",
      "-v",
      `${VOLUME}:/data`,
      tagOf("vol"),
      "--exec",
      "ls",
      "-A",
      "/data",
    ]);
    expect(ls.stdout).toBe("");
  });

  it("reads a secret from a file mounted at run time and writes a file at a hostile path", () => {
    const secretDir = mkdtempSync(join(root, "secret-"));
    writeFileSync(join(secretDir, "token"), `${SECRET}\n\n`);
    const r = run([
      "docker",
      "run",
      "--rm",
      "-v",
      `${join(secretDir, "token")}:/run/secrets/token:ro`,
      tagOf("filesecret"),
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`${SECRET}|at a hostile path\n`);
  });

  it("stops the start when a volume's check fails", () => {
    const r = run(["docker", "run", "--rm", tagOf("badvol")]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("checking\n");
    expect(r.stderr).toContain("volume data: check failed");
  });

  it("delivers docker stop's SIGTERM to the program itself, which exits with its own code", async () => {
    const started = run(["docker", "run", "-d", "--name", CONTAINER, tagOf("sig")]);
    expect(started.status).toBe(0);
    await new Promise<void>((resolve, reject) => {
      const logs = spawn("docker", ["logs", "-f", CONTAINER]);
      const timer = setTimeout(() => {
        logs.kill();
        reject(new Error("the container did not print ready within 60 s"));
      }, 60_000);
      logs.stdout.on("data", (b: Buffer) => {
        if (b.toString().includes("ready")) {
          clearTimeout(timer);
          logs.kill();
          resolve();
        }
      });
    });
    // The entrypoint forwards the stop signal: the program's own exit code (42, not 137 from a
    // SIGKILL after the 60 s) and its log line say it got SIGTERM.
    const stop = run(["docker", "stop", "-t", "60", CONTAINER]);
    expect(stop.status).toBe(0);
    const code = run(["docker", "inspect", "-f", "{{.State.ExitCode}}", CONTAINER]);
    expect(code.stdout.trim()).toBe("42");
    expect(run(["docker", "logs", CONTAINER]).stdout).toBe("ready\ngot TERM\n");
  }, 120_000);

  it("keeps the tag when the content is the same and changes it when the content changes", () => {
    const again: ImagesManifest = JSON.parse(artifact(render(definition).artifacts, IMAGES_FILE));
    expect(again.images.vol?.tags).toEqual(manifest.images.vol?.tags);
    const changed = render({
      ...definition,
      services: { ...definition.services, vol: { ...definition.services.vol, env: { X: "1" } } },
    });
    const other: ImagesManifest = JSON.parse(artifact(changed.artifacts, IMAGES_FILE));
    const tag = other.images.vol?.tags[0] as string;
    expect(tag).not.toBe(tagOf("vol"));
    expect(other.images.printer?.tags).toEqual(manifest.images.printer?.tags);
    const dir2 = join(root, "changed");
    writeArtifacts(dir2, changed.artifacts);
    build(join(dir2, "vol"), tag);
    const ids = [tag, tagOf("vol")].map(
      (t) => run(["docker", "image", "inspect", "-f", "{{.Id}}", t]).stdout,
    );
    expect(ids[0]).not.toBe(ids[1]);
  }, 60_000);
});
