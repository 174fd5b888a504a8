/**
 * Host-file artifacts (`files.*.source`): the writer copies them into the render, so a render
 * directory is self-contained — moved to another directory (or machine), it still runs. Checked
 * with the programmatic writer, with the CLI, and on the real Docker engine with docker-compose.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Artifact } from "@nix2dream/core";
import { busyboxImage, fileTempDir, requireDocker } from "@nix2dream/testkit";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { UserError } from "../src/errors.js";
import { checkHostFiles, readManifest, writeArtifacts } from "../src/write.js";
import { cleanProjects, cli, config, project, put, requireBuild } from "./helpers.js";

/** Bytes no text round-trip would keep: NUL, CR, invalid UTF-8, non-ASCII, no final newline. */
const BYTES = Buffer.concat([
  Buffer.from("a=1\r\n$(x) 'q' \"d\" ✓\n"),
  Buffer.from([0, 0xff, 0xfe, 0x80]),
  Buffer.from("end"),
]);

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "nix2dream-hostfile-"));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const origin = { option: 'services.api.files."/etc/app.conf".source', files: ["/p/mod.ts"] };

describe("writeArtifacts with host files", () => {
  it("copies a host file byte for byte, with the artifact's mode", async () => {
    const src = join(base, "app.conf");
    await writeFile(src, BYTES, { mode: 0o755 });
    const dir = join(base, "out");
    await writeArtifacts(dir, [{ path: "files/app.conf", source: src, mode: 0o600, origin }]);
    expect(Buffer.compare(await readFile(join(dir, "files/app.conf")), BYTES)).toBe(0);
    expect((await stat(join(dir, "files/app.conf"))).mode & 0o777).toBe(0o600);
    const manifest = await readManifest(dir);
    expect(manifest.files["files/app.conf"]?.mode).toBe("0600");
  });

  it("refuses a missing source naming the option and its file, and writes nothing", async () => {
    const dir = join(base, "out");
    await writeArtifacts(dir, [{ path: "old.txt", content: "previous render\n" }]);
    const artifacts: Artifact[] = [
      { path: "new.txt", content: "x" },
      { path: "files/app.conf", source: join(base, "missing.conf"), origin },
    ];
    const err = await writeArtifacts(dir, artifacts, { owner: "compose" }).catch((e) => e);
    expect(UserError.is(err)).toBe(true);
    expect(err.code).toBe("HOST_FILE");
    expect(err.message).toBe(
      `Cannot copy ${JSON.stringify(join(base, "missing.conf"))} into the render by the renderer \`compose\`: no such file. It is named by the option \`services.api.files."/etc/app.conf".source\` (defined in /p/mod.ts). Nothing was written.`,
    );
    expect(await readFile(join(dir, "old.txt"), "utf8")).toBe("previous render\n");
    expect(existsSync(join(dir, "new.txt"))).toBe(false);
  });

  it.each([
    ["a directory", (d: string) => d, "it is not a file"],
    ["a relative path", () => "app.conf", "the path is not absolute"],
  ])("refuses %s as a source", async (_label, source, why) => {
    const err = await writeArtifacts(join(base, "out"), [
      { path: "x", source: source(base), origin },
    ]).catch((e) => e);
    expect(err.code).toBe("HOST_FILE");
    expect(err.message).toContain(why);
  });
});

describe("checkHostFiles", () => {
  it("passes readable files and gives the writer's error for a missing one, reading nothing", async () => {
    const src = join(base, "app.conf");
    await writeFile(src, BYTES);
    await expect(
      checkHostFiles([
        { path: "a", content: "x" },
        { path: "files/app.conf", source: src, origin },
      ]),
    ).resolves.toBeUndefined();
    const missing: Artifact[] = [
      { path: "files/app.conf", source: join(base, "missing.conf"), origin },
    ];
    const checked = await checkHostFiles(missing, "compose").catch((e) => e);
    const written = await writeArtifacts(join(base, "out"), missing, { owner: "compose" }).catch(
      (e) => e,
    );
    expect(checked.code).toBe("HOST_FILE");
    expect(checked.message).toBe(written.message);
    expect(existsSync(join(base, "out"))).toBe(false);
  });

  it.each([
    ["a directory", (d: string) => d, "it is not a file"],
    ["a relative path", () => "app.conf", "the path is not absolute"],
  ])("refuses %s as a source", async (_label, source, why) => {
    const err = await checkHostFiles([{ path: "x", source: source(base), origin }]).catch((e) => e);
    expect(err.code).toBe("HOST_FILE");
    expect(err.message).toContain(why);
  });
});

const composeDist = new URL("../../render-compose/dist/index.js", import.meta.url).href;
const composeConfig = (baseImage = "busybox:stable") =>
  config(
    `{
  name: "shop",
  use: [compose({ baseImage: ${JSON.stringify(baseImage)} })],
  services: {
    api: {
      command: ["sh", "-c", "echo \\"sum=$(sha256sum /etc/app.conf) mode=$(stat -c %a /etc/app.conf)\\""],
      files: { "/etc/app.conf": { source: "./conf/app.conf", mode: "0640" } },
    },
  },
}`,
    `import compose from ${JSON.stringify(composeDist)};`,
  );

describe("nix2dream render with a Compose file source", () => {
  beforeAll(() => requireBuild());
  afterAll(cleanProjects);

  it("copies the source into the render and mounts it by a relative path", async () => {
    const dir = await project({ "nix2dream.config.ts": composeConfig() });
    await put(dir, "conf/app.conf", "listen 8080\n");
    const r = cli(dir, ["render"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = join(dir, ".nix2dream", "shop", "compose");
    expect(readFileSync(join(out, "files/api/etc/app.conf"), "utf8")).toBe("listen 8080\n");
    expect(statSync(join(out, "files/api/etc/app.conf")).mode & 0o777).toBe(0o640);
    const yaml = readFileSync(join(out, "compose.yaml"), "utf8");
    expect(yaml).toContain("source: ./files/api/etc/app.conf");
    expect(yaml).not.toContain(dir);
  });

  it("reports a missing source in one paragraph naming the option and the config, writing nothing", async () => {
    const dir = await project({ "nix2dream.config.ts": composeConfig() });
    await put(dir, "conf/app.conf", "v1\n");
    expect(cli(dir, ["render"]).code).toBe(0);
    rmSync(join(dir, "conf/app.conf"));
    const r = cli(dir, ["render"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('services.api.files."/etc/app.conf".source');
    expect(r.stderr).toContain("nix2dream.config.ts");
    expect(r.stderr).toContain("no such file");
    expect(r.stderr.trim().split("\n").length).toBeLessThanOrEqual(2); // error + optional hint
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const out = join(dir, ".nix2dream", "shop", "compose");
    expect(readFileSync(join(out, "files/api/etc/app.conf"), "utf8")).toBe("v1\n");
  });

  it("fails `check` on a missing source the same way, and passes once it is there", async () => {
    const dir = await project({ "nix2dream.config.ts": composeConfig() });
    const r = cli(dir, ["check"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('services.api.files."/etc/app.conf".source');
    expect(r.stderr).toContain("nix2dream.config.ts");
    expect(r.stderr).toContain("no such file");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const json = cli(dir, ["check", "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).ok).toBe(false);
    expect(existsSync(join(dir, ".nix2dream"))).toBe(false);
    await put(dir, "conf/app.conf", "v1\n");
    const ok = cli(dir, ["check"]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok shop: 1 service/);
  });
});

describe("a Compose render moved away from its sources, on Docker", () => {
  const tmp = fileTempDir("n2d-B-hostfile-docker-");
  const tag = `n2d-b-hostfile-base:${process.pid}`;
  const projectName = `n2db-hostfile-${process.pid}`;
  beforeAll(() => {
    requireBuild();
    requireDocker();
    busyboxImage(tag);
  }, 180_000);
  afterAll(() => {
    const moved = join(tmp, "moved");
    if (existsSync(moved)) {
      spawnSync("docker-compose", ["-p", projectName, "down", "--rmi", "all", "-t", "1"], {
        cwd: moved,
      });
    }
    spawnSync("docker", ["rmi", "-f", tag]);
    return cleanProjects();
  }, 120_000);

  it("runs with the file intact after the render is copied elsewhere and the source deleted", {
    tags: ["docker"],
    timeout: 300_000,
  }, async () => {
    const dir = await project({ "nix2dream.config.ts": composeConfig(tag) });
    await put(dir, "conf/app.conf", "");
    writeFileSync(join(dir, "conf/app.conf"), BYTES);
    const expected = execFileSync("sha256sum", [join(dir, "conf/app.conf")], {
      encoding: "utf8",
    }).split(" ")[0] as string;
    const r = cli(dir, ["render"]);
    expect(r.code, r.stderr).toBe(0);
    const moved = join(tmp, "moved");
    cpSync(join(dir, ".nix2dream", "shop", "compose"), moved, { recursive: true });
    rmSync(dir, { recursive: true, force: true }); // the source and the original render are gone
    const up = spawnSync(
      "docker-compose",
      ["-p", projectName, "up", "--build", "--abort-on-container-exit", "--no-color"],
      { cwd: moved, encoding: "utf8", env: { ...process.env, DOCKER_BUILDKIT: "0" } },
    );
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toMatch(new RegExp(`sum=${expected}  /etc/app.conf mode=640`));
  });
});
