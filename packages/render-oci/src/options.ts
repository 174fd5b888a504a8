/** The options render-oci adds: `services.<svc>.renderers.oci.*` and `renderers.oci.*`. */
import { defineModule, mkOption, types } from "@nix2dream/modules";

/** `services.<svc>.renderers.oci`. */
export interface OciServiceOptions {
  /** Base image of this service's image; null: the deployment's `renderers.oci.baseImage`. */
  baseImage: string | null;
  /**
   * More tags for the image, as in the original nix2dream: a bare tag (`latest`, `v1.2`) is a
   * tag on the main repository; a full reference (`registry:5000/team/api:v1`) is used as is.
   */
  extraImageTags: string[];
  /** Deep-merged into this service's entry of `images.json` (escape hatch). */
  override: Record<string, unknown>;
  /** Deep-merged into the arguments of `dockerTools.buildLayeredImage` in `image.nix` (escape hatch). */
  nixOverride: Record<string, unknown>;
}

/** `renderers.oci`. */
export interface OciDeploymentOptions {
  /** Base image of every image; null: the renderer's option, else `busybox:stable`. */
  baseImage: string | null;
  /** Prefix of every image repository (`registry:5000/team/`); null: the renderer's option, else none. */
  repository: string | null;
  /** Deep-merged into every service's entry of `images.json` (escape hatch). */
  override: Record<string, unknown>;
  /** Deep-merged into every `buildLayeredImage` call (escape hatch). */
  nixOverride: Record<string, unknown>;
}

declare module "@nix2dream/core" {
  interface ServiceRenderers {
    oci: OciServiceOptions;
  }
  interface DeploymentRenderers {
    oci: OciDeploymentOptions;
  }
}

/** Declares `services.<svc>.renderers.oci.*`. */
export const ociServiceModule = defineModule(import.meta.url, {
  options: {
    baseImage: mkOption({
      type: types.nullOr(types.str),
      default: null,
      description:
        "Base image of this service's image (it needs /bin/sh and the program); null: `renderers.oci.baseImage`.",
    }),
    extraImageTags: mkOption({
      type: types.listOf(types.str),
      default: [],
      example: ["latest", "registry.local:5000/shop/api:v1"],
      description:
        "More tags for the image: a bare tag is put on the main repository, a full reference is used as is.",
    }),
    override: mkOption({
      type: types.attrsOf(types.anything),
      default: {},
      description: "Deep-merged into this service's entry of `images.json`.",
    }),
    nixOverride: mkOption({
      type: types.attrsOf(types.anything),
      default: {},
      description:
        "Deep-merged into the arguments of `dockerTools.buildLayeredImage` in `<svc>/image.nix`; strings are Nix strings, `nixExpr(code)` is Nix source.",
    }),
  },
});

/** Declares `renderers.oci.*`. */
export const ociDeploymentModule = defineModule(import.meta.url, {
  options: {
    baseImage: mkOption({
      type: types.nullOr(types.str),
      default: null,
      description:
        "Base image of every service's image; null: the renderer's `baseImage`, else `busybox:stable`.",
    }),
    repository: mkOption({
      type: types.nullOr(types.str),
      default: null,
      example: "registry.local:5000/team/",
      description:
        "Prefix of every image repository; the main tag is `<repository><deployment>-<service>:<hash>`.",
    }),
    override: mkOption({
      type: types.attrsOf(types.anything),
      default: {},
      description: "Deep-merged into every entry of `images.json`.",
    }),
    nixOverride: mkOption({
      type: types.attrsOf(types.anything),
      default: {},
      description: "Deep-merged into every `buildLayeredImage` call.",
    }),
  },
});
