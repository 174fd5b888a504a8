/**
 * `@nix2dream/manage-docker`: builds the images of the oci render on the local Docker engine
 * and lists them. The build function is exported for other managers and scripts.
 */
import { type Manager, type ManagerContext, textTable } from "@nix2dream/core";
import { type BuildEvent, buildImages, type ImageRow, listImages } from "./build.js";

export {
  type BuildEvent,
  type BuildOptions,
  type BuiltImage,
  buildImages,
  DockerManagerError,
  type DockerOptions,
  engineVersion,
  type ImageRow,
  listImages,
  readManifest,
} from "./build.js";

/** Options of the {@link docker} manager factory. */
export interface DockerManagerOptions {
  /** The docker CLI (default `docker` on PATH). */
  docker?: string;
  /** Environment of the docker commands (default: the CLI's); `DOCKER_HOST` picks the engine. */
  env?: NodeJS.ProcessEnv;
}

function flag(ctx: ManagerContext, ...names: string[]): string | boolean | undefined {
  for (const n of names) if (ctx.flags[n] !== undefined) return ctx.flags[n];
  return undefined;
}

/** Progress lines for a terminal: one line per image event, docker's `Step` lines indented. */
export function progressLine(e: BuildEvent, verbose = false): string | null {
  switch (e.type) {
    case "start": {
      const extra = e.tags.length > 1 ? ` (+ ${e.tags.slice(1).join(", ")})` : "";
      return `[${e.index}/${e.total}] ${e.service}: building ${e.tags[0]}${extra}`;
    }
    case "output":
      return verbose || /^Step \d+\/\d+ :/.test(e.line) ? `  ${e.service} | ${e.line}` : null;
    case "cached":
      return `[${e.index}/${e.total}] ${e.service}: up to date (${e.tags[0]})`;
    case "done":
      return e.image.cached
        ? null
        : `[${e.index}/${e.total}] ${e.service}: built in ${e.image.seconds.toFixed(2)} s, ${e.image.id.slice(0, 19)}`;
  }
}

/** The rows of `images` as an aligned table. */
export function imagesTable(rows: ImageRow[]): string {
  const head = ["SERVICE", "TAG", "IMAGE ID", "SIZE", "KIND"];
  const body = rows.map((r) => [
    r.service,
    r.tag,
    r.id ? r.id.replace(/^sha256:/, "").slice(0, 12) : "(not built)",
    r.size === null ? "-" : `${(r.size / 1e6).toFixed(1)} MB`,
    r.kind,
  ]);
  return textTable([head, ...body]);
}

/**
 * The docker manager: acts on the `oci` render. `build [SERVICE...]` builds and tags the images
 * (`--force` rebuilds existing tags, `--verbose` shows all of docker's output); `images` lists
 * them with their IDs (`--json` for data).
 */
export default function docker(opts: DockerManagerOptions = {}): Manager<"docker"> {
  const base = (ctx: ManagerContext) => ({
    artifactsDir: ctx.artifactsDir,
    signal: ctx.signal,
    ...(opts.docker ? { docker: opts.docker } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
  return {
    name: "docker",
    renderer: "oci",
    descriptions: {
      build:
        "Build and tag the images of the oci render on the local engine (--force rebuilds, --verbose shows docker's output).",
      images: "List the deployment's images with their tags and IDs (--json for data).",
    },
    actions: {
      build: async (ctx) => {
        const verbose = Boolean(flag(ctx, "verbose", "v"));
        const json = Boolean(flag(ctx, "json"));
        const built = await buildImages({
          ...base(ctx),
          services: ctx.args,
          force: Boolean(flag(ctx, "force")),
          onProgress: (e) => {
            const line = json ? null : progressLine(e, verbose);
            if (line !== null) ctx.stdout.write(`${line}\n`);
          },
        });
        return { exitCode: 0, data: built };
      },
      images: async (ctx) => {
        const rows = await listImages(base(ctx));
        if (!flag(ctx, "json")) ctx.stdout.write(`${imagesTable(rows)}\n`);
        return { exitCode: 0, data: rows };
      },
    },
  };
}

export { docker };
