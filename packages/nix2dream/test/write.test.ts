import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UserError } from "../src/errors.js";
import { MANIFEST_FILE, readManifest, writeArtifacts } from "../src/write.js";

let base: string;
let dir: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "nix2dream-write-"));
  dir = join(base, "out", "shop", "procfile");
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("writeArtifacts", () => {
  it("writes every artifact with its content", async () => {
    await writeArtifacts(dir, [
      { path: "Procfile", content: "api: ./bin/api\n" },
      { path: "bin/api", content: new Uint8Array([35, 33, 10]) },
    ]);
    expect(await readFile(join(dir, "Procfile"), "utf8")).toBe("api: ./bin/api\n");
    expect([...(await readFile(join(dir, "bin/api")))]).toEqual([35, 33, 10]);
  });

  it("sets file modes from Artifact.mode, defaulting to 0644", async () => {
    await writeArtifacts(dir, [
      { path: "run.sh", content: "#!/bin/sh\n", mode: 0o755 },
      { path: "secret", content: "x", mode: 0o600 },
      { path: "plain", content: "x" },
    ]);
    expect((await stat(join(dir, "run.sh"))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dir, "secret"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "plain"))).mode & 0o777).toBe(0o644);
  });

  it("gives every file its exact mode, also the modes the umask filters at creation", async () => {
    // With the usual umask 022, 0666 and 0777 come out as 0644 and 0755 unless chmod'ed.
    const modes = [0o666, 0o777, 0o644, 0o600];
    await writeArtifacts(
      dir,
      Array.from({ length: 40 }, (_, i) => ({ path: `f${i}`, content: "x", mode: modes[i % 4] })),
    );
    for (let i = 0; i < 40; i++) {
      expect((await stat(join(dir, `f${i}`))).mode & 0o777).toBe(modes[i % 4]);
    }
  });

  it("records relative paths, sha256 and modes in the manifest", async () => {
    await writeArtifacts(dir, [{ path: "a/b.txt", content: "hello", mode: 0o640 }]);
    const manifest = await readManifest(dir);
    expect(manifest.files).toEqual({
      "a/b.txt": {
        sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        mode: "0640",
      },
    });
  });

  it("writes and replaces many files in nested directories as one set", async () => {
    // Many files, several levels deep, some replaced, some stale.
    const set = (version: string, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        path: `d${i % 7}/e${i % 3}/f${i}.txt`,
        content: `${version} ${i}\n`,
        mode: i % 2 ? 0o755 : 0o600,
      }));
    await writeArtifacts(dir, set("one", 200));
    const result = await writeArtifacts(dir, set("two", 150));
    expect(result.written).toHaveLength(150);
    expect(result.removed).toEqual(
      set("one", 200)
        .slice(150)
        .map((a) => a.path)
        .sort(),
    );
    for (const a of set("two", 150)) {
      expect(await readFile(join(dir, a.path), "utf8")).toBe(a.content);
      expect((await stat(join(dir, a.path))).mode & 0o777).toBe(a.mode);
    }
    expect(Object.keys((await readManifest(dir)).files)).toHaveLength(150);
    expect((await readdir(join(dir, ".."))).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  it("leaves a file that already holds its content and mode as it was, and replaces the others", async () => {
    await writeArtifacts(dir, [
      { path: "same", content: "unchanged\n" },
      { path: "sized/alike", content: "aaaa" },
      { path: "moded", content: "x", mode: 0o644 },
      { path: "grown", content: "1" },
    ]);
    const before = await stat(join(dir, "same"));
    const result = await writeArtifacts(dir, [
      { path: "same", content: new TextEncoder().encode("unchanged\n") },
      { path: "sized/alike", content: "bbbb" }, // same size, other bytes: read and compared
      { path: "moded", content: "x", mode: 0o600 },
      { path: "grown", content: "12" },
    ]);
    expect(result.written).toEqual(["grown", "moded", "same", "sized/alike"]);
    const after = await stat(join(dir, "same"));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(await readFile(join(dir, "sized/alike"), "utf8")).toBe("bbbb");
    expect((await stat(join(dir, "moded"))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, "grown"), "utf8")).toBe("12");
    expect((await readdir(join(dir, ".."))).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  it("removes a stale file it wrote before, and the directory that held it", async () => {
    await writeArtifacts(dir, [
      { path: "keep", content: "1" },
      { path: "old/gone", content: "2" },
    ]);
    const result = await writeArtifacts(dir, [{ path: "keep", content: "1" }]);
    expect(result.removed).toEqual(["old/gone"]);
    expect((await readdir(dir)).sort()).toEqual([MANIFEST_FILE, "keep"]);
  });

  it("never touches a file it did not write", async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "mine.txt"), "user data");
    await writeArtifacts(dir, [{ path: "a", content: "1" }]);
    await writeArtifacts(dir, [{ path: "b", content: "2" }]);
    expect(await readFile(join(dir, "mine.txt"), "utf8")).toBe("user data");
  });

  it("keeps a stale file that was changed since it was written", async () => {
    await writeArtifacts(dir, [{ path: "edited", content: "generated" }]);
    await writeFile(join(dir, "edited"), "hand-edited");
    const result = await writeArtifacts(dir, []);
    expect(result.kept).toEqual(["edited"]);
    expect(await readFile(join(dir, "edited"), "utf8")).toBe("hand-edited");
  });

  it("leaves no temporary directory behind", async () => {
    await writeArtifacts(dir, [{ path: "a", content: "1" }]);
    expect(await readdir(join(base, "out", "shop"))).toEqual(["procfile"]);
  });

  it.each([
    ["../escape", "escapes the output directory"],
    ["a/../../escape", "escapes the output directory"],
    ["/etc/passwd", "is absolute"],
    ["a//b", "not normalised"],
    ["./a", "not normalised"],
    ["", "empty"],
    [MANIFEST_FILE, "reserved"],
  ])("refuses the artifact path %j, naming the renderer, and writes nothing", async (path, why) => {
    const attempt = writeArtifacts(
      dir,
      [
        { path: "ok", content: "1" },
        { path, content: "x" },
      ],
      {
        owner: "evil",
      },
    );
    await expect(attempt).rejects.toBeInstanceOf(UserError);
    await expect(attempt).rejects.toThrow(/The renderer `evil`/);
    await expect(attempt).rejects.toThrow(why);
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
  });

  it("refuses the same path twice", async () => {
    await expect(
      writeArtifacts(dir, [
        { path: "a", content: "1" },
        { path: "a", content: "2" },
      ]),
    ).rejects.toThrow(/twice/);
  });

  it("refuses to write through a symlinked directory", async () => {
    const elsewhere = join(base, "elsewhere");
    await mkdir(elsewhere);
    await mkdir(dir, { recursive: true });
    await symlink(elsewhere, join(dir, "link"));
    await expect(writeArtifacts(dir, [{ path: "link/x", content: "1" }])).rejects.toThrow(
      /not a directory/,
    );
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it("ignores manifest entries that point outside the directory", async () => {
    await mkdir(dir, { recursive: true });
    const victim = join(base, "victim");
    await writeFile(victim, "precious");
    await writeFile(
      join(dir, MANIFEST_FILE),
      JSON.stringify({ version: 1, files: { "../../../victim": { sha256: "x", mode: "0644" } } }),
    );
    await writeArtifacts(dir, []);
    expect(await readFile(victim, "utf8")).toBe("precious");
  });

  it("replaces a stale file that is in the way of a new directory", async () => {
    await writeArtifacts(dir, [{ path: "bin", content: "was a file" }]);
    await writeArtifacts(dir, [{ path: "bin/api", content: "now a dir" }]);
    expect(await readFile(join(dir, "bin/api"), "utf8")).toBe("now a dir");
  });
});

describe("interrupted writes", () => {
  it("removes a temporary directory left by a writer that no longer runs", async () => {
    const parent = join(base, "out", "shop");
    await mkdir(join(parent, ".procfile.tmp-999999999-abc"), { recursive: true });
    await writeArtifacts(dir, [{ path: "a", content: "1" }]);
    expect(await readdir(parent)).toEqual(["procfile"]);
  });

  it("leaves the temporary directory of a writer that is still running", async () => {
    const parent = join(base, "out", "shop");
    const live = `.procfile.tmp-${process.ppid}-abc`;
    await mkdir(join(parent, live), { recursive: true });
    await writeArtifacts(dir, [{ path: "a", content: "1" }]);
    expect((await readdir(parent)).sort()).toEqual([live, "procfile"]);
  });
});
