/** Building the images of an oci render with the local Docker engine, and listing them. */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { UserError } from "@nix2dream/core";
import { IMAGES_FILE, IMAGES_VERSION, type ImagesManifest } from "@nix2dream/render-oci";

/** An error a user can act on (no engine, no render, unknown service, failed build); `code` is stable. */
export class DockerManagerError extends UserError {
  declare readonly code:
    | "MANAGE_DOCKER_NO_CLI"
    | "MANAGE_DOCKER_NO_ENGINE"
    | "MANAGE_DOCKER_NO_RENDER"
    | "MANAGE_DOCKER_UNKNOWN_SERVICE"
    | "MANAGE_DOCKER_BUILD_FAILED";
  constructor(code: DockerManagerError["code"], message: string) {
    super(code, message, { source: "manager docker" });
    this.name = "DockerManagerError";
  }
}

/** How to reach the engine. */
export interface DockerOptions {
  /** The docker CLI (default `docker` on PATH). */
  docker?: string;
  /** Environment of every docker command (default: this process's); `DOCKER_HOST` picks the engine. */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** What {@link buildImages} reports while it works. */
export type BuildEvent =
  | { type: "start"; service: string; index: number; total: number; tags: string[] }
  | { type: "output"; service: string; line: string }
  | { type: "cached"; service: string; index: number; total: number; tags: string[] }
  | { type: "done"; service: string; index: number; total: number; image: BuiltImage };

/** Options of {@link buildImages}. */
export interface BuildOptions extends DockerOptions {
  /** The oci render directory (holds `images.json`). */
  artifactsDir: string;
  /** Only these services (default: every image of the render). */
  services?: string[];
  /** Build even when the main tag already exists (default false: deterministic tags are reused). */
  force?: boolean;
  onProgress?: (event: BuildEvent) => void;
}

/** One image after {@link buildImages}. */
export interface BuiltImage {
  service: string;
  /** Main tag first. */
  tags: string[];
  /** Image ID (`sha256:…`). */
  id: string;
  /** Seconds the build took (0 when the tag existed). */
  seconds: number;
  /** True when the main tag existed and nothing was built. */
  cached: boolean;
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs docker; `onLine` gets every output line (stdout and stderr) as it comes. */
function docker(
  args: string[],
  o: DockerOptions,
  onLine?: (line: string) => void,
): Promise<Result> {
  const bin = o.docker ?? "docker";
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      env: { ...(o.env ?? process.env), DOCKER_BUILDKIT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
      ...(o.signal ? { signal: o.signal } : {}),
    });
    let stdout = "";
    let stderr = "";
    const lines = (chunk: string, carry: { rest: string }) => {
      if (!onLine) return;
      const parts = (carry.rest + chunk).split(/\r?\n/);
      carry.rest = parts.pop() ?? "";
      for (const p of parts) if (p.trim()) onLine(p);
    };
    const outCarry = { rest: "" };
    const errCarry = { rest: "" };
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      lines(c, outCarry);
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
      lines(c, errCarry);
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") {
        reject(
          new DockerManagerError(
            "MANAGE_DOCKER_NO_CLI",
            `The docker CLI \`${bin}\` was not found. Install it (Debian: apt-get install docker.io).`,
          ),
        );
      } else reject(err);
    });
    child.on("close", (status) => {
      for (const c of [outCarry, errCarry]) if (c.rest.trim() && onLine) onLine(c.rest);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Fails with a clear message when no engine answers; returns the engine's version. */
export async function engineVersion(o: DockerOptions = {}): Promise<string> {
  const r = await docker(["version", "--format", "{{.Server.Version}}"], o);
  if (r.status !== 0 || !r.stdout.trim()) {
    const host = (o.env ?? process.env).DOCKER_HOST ?? "the default socket";
    const why = r.stderr.trim().split("\n").at(-1) ?? "";
    throw new DockerManagerError(
      "MANAGE_DOCKER_NO_ENGINE",
      `No Docker engine answers at ${host}${why ? ` (${why})` : ""}. Start dockerd (Debian: apt-get install docker.io) or set DOCKER_HOST.`,
    );
  }
  return r.stdout.trim();
}

/** Reads and checks `images.json` of an oci render directory. */
export function readManifest(artifactsDir: string): ImagesManifest {
  const file = join(artifactsDir, IMAGES_FILE);
  if (!existsSync(file)) {
    throw new DockerManagerError(
      "MANAGE_DOCKER_NO_RENDER",
      `${file} does not exist; render the deployment with the oci renderer first (nix2dream render oci).`,
    );
  }
  const m = JSON.parse(readFileSync(file, "utf8")) as ImagesManifest;
  if (m.version !== IMAGES_VERSION || typeof m.images !== "object") {
    throw new DockerManagerError(
      "MANAGE_DOCKER_NO_RENDER",
      `${file} is not an images manifest of version ${IMAGES_VERSION}; render again with this version of @nix2dream/render-oci.`,
    );
  }
  return m;
}

function selected(m: ImagesManifest, services: string[] | undefined): string[] {
  const all = Object.keys(m.images).sort();
  if (!services?.length) return all;
  for (const s of services) {
    if (!(s in m.images)) {
      const why = s in m.external ? ` (it runs the ready image ${m.external[s]})` : "";
      throw new DockerManagerError(
        "MANAGE_DOCKER_UNKNOWN_SERVICE",
        `There is no image to build for service ${s}${why}; images: ${all.join(", ") || "none"}.`,
      );
    }
  }
  return services;
}

async function imageId(tag: string, o: DockerOptions): Promise<string | null> {
  const r = await docker(["image", "inspect", "--format", "{{.Id}}", tag], o);
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Builds the images of an oci render on the local engine with the legacy builder
 * (`DOCKER_BUILDKIT=0`), one after the other: tags each with its main tag and extra tags and
 * the manifest's labels. The render's contexts hold copies of `files.*.source` files; for a
 * render made before they did, the files are copied into a temporary copy of the context first. An image whose main tag already exists is not rebuilt (tags are content hashes) unless
 * `force` is set or it has source files (whose contents the tag does not cover).
 * @throws DockerManagerError when no engine answers, the render is missing, or a build fails.
 */
export async function buildImages(opts: BuildOptions): Promise<BuiltImage[]> {
  const m = readManifest(opts.artifactsDir);
  const names = selected(m, opts.services);
  await engineVersion(opts);
  const emit = opts.onProgress ?? (() => {});
  const out: BuiltImage[] = [];
  for (const [i, service] of names.entries()) {
    const img = m.images[service];
    if (!img) continue;
    const index = i + 1;
    const total = names.length;
    const [main] = img.tags;
    if (!main) continue;
    if (!opts.force && img.sources.length === 0) {
      const id = await imageId(main, opts);
      if (id) {
        // Extra tags may be new even when the content is not.
        for (const t of img.tags.slice(1)) await docker(["tag", main, t], opts);
        emit({ type: "cached", service, index, total, tags: img.tags });
        const built = { service, tags: img.tags, id, seconds: 0, cached: true };
        out.push(built);
        emit({ type: "done", service, index, total, image: built });
        continue;
      }
    }
    emit({ type: "start", service, index, total, tags: img.tags });
    let context = join(opts.artifactsDir, img.context);
    let temp: string | null = null;
    try {
      // Renders since the host-file artifacts hold their sources; an older render does not.
      if (img.sources.some((s) => !existsSync(join(context, s.path)))) {
        temp = mkdtempSync(join(tmpdir(), "n2d-docker-context-"));
        cpSync(context, temp, { recursive: true });
        for (const s of img.sources) {
          const dest = join(temp, s.path);
          mkdirSync(dirname(dest), { recursive: true });
          if (!existsSync(s.from)) {
            throw new DockerManagerError(
              "MANAGE_DOCKER_BUILD_FAILED",
              `Service ${service}: the source file ${s.from} does not exist.`,
            );
          }
          cpSync(s.from, dest);
        }
        context = temp;
      }
      const args = ["build", "--force-rm"];
      for (const t of img.tags) args.push("-t", t);
      for (const [k, v] of Object.entries(img.labels)) args.push("--label", `${k}=${v}`);
      args.push(context);
      const start = performance.now();
      const r = await docker(args, opts, (line) => emit({ type: "output", service, line }));
      const seconds = (performance.now() - start) / 1000;
      if (r.status !== 0) {
        const tail = r.stderr.trim().split("\n").slice(-5).join("\n");
        throw new DockerManagerError(
          "MANAGE_DOCKER_BUILD_FAILED",
          `Building the image of service ${service} failed (docker build exited with ${r.status}):\n${tail}`,
        );
      }
      const id = (await imageId(main, opts)) ?? "";
      const built = { service, tags: img.tags, id, seconds, cached: false };
      out.push(built);
      emit({ type: "done", service, index, total, image: built });
    } finally {
      if (temp) rmSync(temp, { recursive: true, force: true });
    }
  }
  return out;
}

/** One row of {@link listImages}. */
export interface ImageRow {
  service: string;
  /** A tag of the service's image (one row per tag), or the external image reference. */
  tag: string;
  /** `built`: from this render; `external`: a ready image (`package.image`). */
  kind: "built" | "external";
  /** Image ID when the engine has the tag, else null. */
  id: string | null;
  /** Bytes, when present. */
  size: number | null;
  created: string | null;
}

/** The images of an oci render as the engine has them (one row per tag, sorted by service). */
export async function listImages(
  opts: DockerOptions & { artifactsDir: string },
): Promise<ImageRow[]> {
  const m = readManifest(opts.artifactsDir);
  await engineVersion(opts);
  const wanted: Array<Omit<ImageRow, "id" | "size" | "created">> = [];
  for (const service of Object.keys(m.images).sort()) {
    for (const tag of m.images[service]?.tags ?? []) wanted.push({ service, tag, kind: "built" });
  }
  for (const service of Object.keys(m.external).sort()) {
    wanted.push({ service, tag: m.external[service] as string, kind: "external" });
  }
  const rows: ImageRow[] = [];
  for (const w of wanted) {
    const r = await docker(
      ["image", "inspect", "--format", "{{json .Id}} {{json .Size}} {{json .Created}}", w.tag],
      opts,
    );
    if (r.status === 0) {
      const [id, size, created] = r.stdout
        .trim()
        .split(" ")
        .map((x) => JSON.parse(x));
      rows.push({ ...w, id, size, created });
    } else {
      rows.push({ ...w, id: null, size: null, created: null });
    }
  }
  return rows;
}
