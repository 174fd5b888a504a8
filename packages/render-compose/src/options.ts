/**
 * The options the compose renderer adds: `services.<svc>.renderers.compose.*` and
 * `renderers.compose.*`.
 */
import { defineModule, mkOption, types } from "@nix2dream/modules";

/** Programs a healthcheck command may use inside a container. */
export type ProbeTool = "wget" | "curl" | "nc";

/** `services.<svc>.renderers.compose`: per-service options of the compose renderer. */
export interface ComposeServiceOptions {
  /** Base image of the image built for this service (no `package.image`); null: the deployment's. */
  baseImage: string | null;
  /**
   * Programs the service's image has for http/tcp healthchecks; null: the deployment's
   * `baseImageTools` for built images, unknown for `package.image`.
   */
  probeTools: ProbeTool[] | null;
  /** Deep-merged into this service's entry under `services:` (null deletes a key). */
  override: Record<string, unknown>;
}

/** `renderers.compose`: deployment-wide options of the compose renderer. */
export interface ComposeDeploymentOptions {
  /** Base image of the images built for services without `package.image`. */
  baseImage: string;
  /** Programs the base image has, for http/tcp healthchecks. */
  baseImageTools: ProbeTool[];
  /** Deep-merged into the whole compose file (null deletes a key). */
  override: Record<string, unknown>;
}

declare module "@nix2dream/core" {
  interface ServiceRenderers {
    compose: ComposeServiceOptions;
  }
  interface DeploymentRenderers {
    compose: ComposeDeploymentOptions;
  }
}

const probeTool = types.enum(["wget", "curl", "nc"]);

/** Default base image when neither the factory nor the deployment names one. */
export const DEFAULT_BASE_IMAGE = "busybox:stable";

/** Declares `services.<svc>.renderers.compose.*`. */
export const composeServiceModule = defineModule(import.meta.url, {
  options: {
    baseImage: mkOption({
      type: types.nullOr(types.str),
      default: null,
      defaultText: "`renderers.compose.baseImage`",
      example: "debian:12-slim",
      description:
        "Base image of the image built for this service when it has no `package.image`; it needs `/bin/sh`.",
    }),
    probeTools: mkOption({
      type: types.nullOr(types.listOf(probeTool)),
      default: null,
      defaultText:
        "`renderers.compose.baseImageTools` for built images; unknown for `package.image`",
      example: ["curl"],
      description:
        "Programs the service's image provides for http (`wget` or `curl`) and tcp (`nc`) healthchecks.",
    }),
    override: mkOption({
      type: types.attrsOf(types.anything),
      default: {},
      example: { cap_add: ["NET_ADMIN"] },
      description:
        "Compose fields deep-merged into this service's entry, as written (Compose interpolates `$`: write `$$` for a literal one); `null` deletes a generated key.",
    }),
  },
});

/** Declares `renderers.compose.*`; `baseImage` defaults to the factory's option. */
export function composeDeploymentModule(baseImage: string) {
  return defineModule(import.meta.url, {
    options: {
      baseImage: mkOption({
        type: types.str,
        default: baseImage,
        example: "busybox:stable",
        description:
          "Base image of the images built for services without `package.image`; it needs `/bin/sh`.",
      }),
      baseImageTools: mkOption({
        type: types.listOf(probeTool),
        default: ["wget", "nc"],
        description:
          "Programs the base image provides, used to turn http/tcp healthchecks into commands.",
      }),
      override: mkOption({
        type: types.attrsOf(types.anything),
        default: {},
        example: { networks: { default: { name: "shop-net" } } },
        description:
          "Compose fields deep-merged into the whole file, as written; `null` deletes a generated key.",
      }),
    },
  });
}
