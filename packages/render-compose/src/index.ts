/**
 * `@nix2dream/render-compose`: a nix2dream deployment as a Docker Compose file (Compose
 * Specification), with a build context per service that has no `package.image`.
 */
import { defineRenderer, type EvaluatedDeployment, type Renderer } from "@nix2dream/core";
import { composeDeploymentModule, composeServiceModule, DEFAULT_BASE_IMAGE } from "./options.js";
import { type BuildContextFactory, renderCompose } from "./render.js";

export type {
  ComposeDeploymentOptions,
  ComposeServiceOptions,
  ProbeTool,
} from "./options.js";
export { composeDeploymentModule, composeServiceModule, DEFAULT_BASE_IMAGE } from "./options.js";
export type { BuildContext, BuildContextFactory } from "./render.js";
export {
  BUILD_DIR,
  COMPOSE_FILE,
  composeDuration,
  FILES_DIR,
  quantityBytes,
} from "./render.js";
export { deepMerge, literal, toYaml } from "./yaml.js";

/** Options of the {@link compose} renderer factory. */
export interface ComposeOptions {
  /** Default of `renderers.compose.baseImage`: the base of images built for services without `package.image`. */
  baseImage?: string;
  /** Makes the build context of a service without `package.image`; default core's `ociBuildContext` (a Dockerfile and the service's launcher). */
  buildContext?: BuildContextFactory;
}

/**
 * The Docker Compose renderer. `render` writes `compose.yaml`, `build/<svc>/` (a Dockerfile and
 * the service's launcher) for each service without `package.image`, and `files/<svc>/<path>`
 * for the files bind-mounted into containers; everything the target cannot express is a
 * diagnostic. Output is byte-for-byte deterministic.
 */
export default function compose(opts: ComposeOptions = {}): Renderer<"compose"> {
  const { buildContext, baseImage = DEFAULT_BASE_IMAGE } = opts;
  return defineRenderer({
    name: "compose",
    serviceModule: composeServiceModule,
    deploymentModule: composeDeploymentModule(baseImage),
    // `baseImage` again for a deployment evaluated without this renderer in `use`.
    render: (deployment: EvaluatedDeployment) =>
      renderCompose(deployment, buildContext ? { buildContext, baseImage } : { baseImage }),
  });
}

export { compose };
