/** Docker engine helpers for tests that run images on the local engine (Debian `docker.io`). */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Fails loudly, naming the apt package, when no Docker engine answers. */
export function requireDocker(): void {
  const r = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], {
    encoding: "utf8",
  });
  if (r.error || r.status !== 0) {
    throw new Error(
      `No Docker engine answers (apt-get install -y docker.io, then start dockerd): ${(r.stderr || r.error?.message || "").trim()}`,
    );
  }
}

/**
 * Builds the image `tag` FROM scratch with Debian's busybox-static (no registry is reachable
 * here): `/bin/busybox` with its applets linked into `/bin`, so `/bin/sh` exists. Uses the legacy
 * builder (`DOCKER_BUILDKIT=0`); fails loudly naming the apt package when busybox or docker is
 * missing. The caller owns the tag (prefix it) and removes the image after its tests.
 * `extra` lines are appended to the Dockerfile (e.g. `RUN` lines that add a user).
 */
export function busyboxImage(tag: string, extra: string[] = []): void {
  if (!existsSync("/bin/busybox")) {
    throw new Error("/bin/busybox is missing: apt-get install -y busybox-static");
  }
  const dir = mkdtempSync(join(tmpdir(), "n2d-busybox-base-"));
  try {
    copyFileSync("/bin/busybox", join(dir, "busybox"));
    writeFileSync(
      join(dir, "Dockerfile"),
      [
        "FROM scratch",
        "COPY busybox /bin/busybox",
        'RUN ["/bin/busybox","--install","-s","/bin"]',
        ...extra,
        "",
      ].join("\n"),
    );
    const r = spawnSync("docker", ["build", "-q", "-t", tag, dir], {
      encoding: "utf8",
      env: { ...process.env, DOCKER_BUILDKIT: "0" },
    });
    if (r.error) {
      throw new Error(`docker is missing: apt-get install -y docker.io (${r.error.message})`);
    }
    if (r.status !== 0) throw new Error(`building ${tag} failed: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
