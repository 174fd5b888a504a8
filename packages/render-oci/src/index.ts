/**
 * `@nix2dream/render-oci`: a nix2dream deployment as OCI image build contexts — one directory per
 * service with a `Dockerfile` and its launcher — plus `images.json` for managers, and a Nix
 * `dockerTools.buildLayeredImage` expression for services whose program is a Nix package.
 */
import { defineRenderer, type EvaluatedDeployment, type Renderer } from "@nix2dream/core";
import { ociDeploymentModule, ociServiceModule } from "./options.js";
import { type OciOptions, renderOci } from "./render.js";

export type { OciDeploymentOptions, OciServiceOptions } from "./options.js";
export { ociDeploymentModule, ociServiceModule } from "./options.js";
export type { ImageEntry, ImagesManifest, OciOptions } from "./render.js";
export {
  DEFAULT_BASE_IMAGE,
  IMAGES_FILE,
  IMAGES_VERSION,
  LABEL_DEPLOYMENT,
  LABEL_SERVICE,
  repositoryName,
} from "./render.js";

/**
 * The OCI renderer. For every enabled service without `package.image`, `render` writes
 * `<svc>/Dockerfile` and `<svc>/entrypoint.sh` (see core's `ociBuildContext`), `<svc>/image.nix`
 * when `package.nix` is set, and `images.json` (the {@link ImagesManifest}: context, tags,
 * labels and sources per service). References resolve to service names and container ports
 * (containers on one network, reachable by service name). Run-time settings an image cannot
 * carry (healthcheck, restart, published ports, …) come back as warnings.
 */
export default function oci(opts: OciOptions = {}): Renderer<"oci"> {
  return defineRenderer({
    name: "oci",
    serviceModule: ociServiceModule,
    deploymentModule: ociDeploymentModule,
    render: (deployment: EvaluatedDeployment) => renderOci(deployment, opts),
  });
}

export { oci };
