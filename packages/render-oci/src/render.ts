/**
 * The OCI renderer's core: a build context per service (`image.ts`, composed from aspect
 * functions over core's `ociBuildContext`) and `images.json`. Pure and deterministic.
 */
import type {
  Artifact,
  EvaluatedDeployment,
  EvaluatedService,
  RenderResult,
} from "@nix2dream/core";
import {
  IMAGES_FILE,
  IMAGES_VERSION,
  type ImagesManifest,
  type OciOptions,
  ociContextFor,
  serviceContextFor,
} from "./context.js";
import { imageOf } from "./image.js";
import { stableJson } from "./json.js";

export {
  DEFAULT_BASE_IMAGE,
  IMAGES_FILE,
  IMAGES_VERSION,
  type ImageEntry,
  type ImagesManifest,
  LABEL_DEPLOYMENT,
  LABEL_SERVICE,
  type OciOptions,
} from "./context.js";
export { repositoryName } from "./image.js";

/** Renders every service without `package.image` to a build context; pure. */
export function renderOci(d: EvaluatedDeployment, opts: OciOptions = {}): RenderResult {
  const ctx = ociContextFor(d, opts);
  const artifacts: Artifact[] = [];
  const manifest: ImagesManifest = {
    version: IMAGES_VERSION,
    deployment: d.name,
    images: {},
    external: {},
  };
  for (const name of Object.keys(d.services).sort()) {
    const s = d.services[name] as EvaluatedService;
    if (!s.enable) continue;
    if (s.package.image !== null) {
      manifest.external[name] = s.package.image;
    } else if (name.includes("/") || name === "." || name === "..") {
      serviceContextFor(ctx, s).report(
        "error",
        "",
        `The service name ${JSON.stringify(name)} cannot be a directory name; it is not rendered.`,
      );
    } else {
      const image = imageOf(s, ctx);
      artifacts.push(...image.artifacts);
      manifest.images[name] = image.entry;
    }
  }
  artifacts.push({ path: IMAGES_FILE, content: stableJson(manifest) });
  return { artifacts, diagnostics: ctx.diagnostics };
}
