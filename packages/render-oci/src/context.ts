/**
 * What the aspect functions of render-oci read: the deployment, its `renderers.oci` options with
 * the factory's defaults, and one list of diagnostics made with core's `diagnostic()`; plus the
 * manifest (`images.json`) they fill.
 */
import {
  DEFAULT_BASE_IMAGE,
  type Diagnostic,
  diagnostic,
  type EvaluatedDeployment,
  type EvaluatedService,
} from "@nix2dream/core";
import type { OciDeploymentOptions, OciServiceOptions } from "./options.js";

/** Options of the {@link oci} renderer factory; the deployment's `renderers.oci.*` win. */
export interface OciOptions {
  /** Default base image (default `busybox:stable`); it must have `/bin/sh` and the programs. */
  baseImage?: string;
  /** Default prefix of every image repository, e.g. `registry.local:5000/team/`. */
  repository?: string;
}

/** The manifest managers read, written as `images.json`. */
export const IMAGES_FILE = "images.json";
export const IMAGES_VERSION = 1;
/** The default base image (core's `DEFAULT_BASE_IMAGE`, `busybox:stable`: one for every container target). */
export { DEFAULT_BASE_IMAGE };
/** Labels every built image carries (besides the service's `labels`). */
export const LABEL_DEPLOYMENT = "org.nix2dream.deployment";
export const LABEL_SERVICE = "org.nix2dream.service";

/** One image to build, in `images.json`. Paths are relative to the render directory. */
export interface ImageEntry {
  /** Build context directory (`<svc>`). */
  context: string;
  /** Main tag first, then the extra tags. */
  tags: string[];
  baseImage: string;
  /** Labels passed to the build (`docker build --label`), sorted by key. */
  labels: Record<string, string>;
  /**
   * Host files (`files.*.source`) whose copies the context holds at `path` (copied when the
   * render is written), with the host path they were copied `from`. The main tag cannot cover
   * their contents, so a manager rebuilds such images every time.
   */
  sources: Array<{ from: string; path: string }>;
  /** sha256 of the context and labels; its first 12 digits are the main tag. */
  hash: string;
  /** `<svc>/image.nix` when `package.nix` is set, else null. */
  nix: string | null;
}

/** The content of `images.json`. */
export interface ImagesManifest {
  version: typeof IMAGES_VERSION;
  deployment: string;
  /** Images to build, by service name (sorted). */
  images: Record<string, ImageEntry>;
  /** Services that run a ready image (`package.image`): service → image reference. */
  external: Record<string, string>;
}

/** Reports on `services.<svc>.<option>` (the service itself when `option` is empty). */
export type Reporter = (severity: Diagnostic["severity"], option: string, message: string) => void;

/** The render-wide context of the OCI target. */
export interface OciContext {
  deployment: EvaluatedDeployment;
  /** `renderers.oci` as the user set it. */
  dep: Partial<OciDeploymentOptions>;
  /** The base image of a service that sets none. */
  defaultBase: string;
  /** The prefix of every image repository ("" for none). */
  prefix: string;
  diagnostics: Diagnostic[];
}

/** The context of a render of `d`; a repository prefix that cannot start a name is an error. */
export function ociContextFor(d: EvaluatedDeployment, opts: OciOptions): OciContext {
  const diagnostics: Diagnostic[] = [];
  const dep: Partial<OciDeploymentOptions> = d.renderers.oci ?? {};
  let prefix = dep.repository ?? opts.repository ?? "";
  if (prefix && !/^[A-Za-z0-9.:/_-]*$/.test(prefix)) {
    diagnostics.push(
      diagnostic(d, {
        severity: "error",
        option: "renderers.oci.repository",
        message: `The repository prefix ${JSON.stringify(prefix)} cannot start an image name; images are not prefixed.`,
      }),
    );
    prefix = "";
  }
  return {
    deployment: d,
    dep,
    defaultBase: dep.baseImage ?? opts.baseImage ?? DEFAULT_BASE_IMAGE,
    prefix,
    diagnostics,
  };
}

/** One service's view: its options and a reporter on its options. */
export interface ServiceContext extends OciContext {
  service: EvaluatedService;
  name: string;
  /** `services.<svc>.renderers.oci` as the user set it. */
  own: Partial<OciServiceOptions>;
  report: Reporter;
}

/** The context of `service`. */
export function serviceContextFor(ctx: OciContext, service: EvaluatedService): ServiceContext {
  const name = service.name;
  // Field by field: V8 copies a spread with fields added after it (`{ ...ctx, service }`) slowly.
  return {
    deployment: ctx.deployment,
    dep: ctx.dep,
    defaultBase: ctx.defaultBase,
    prefix: ctx.prefix,
    diagnostics: ctx.diagnostics,
    service,
    name,
    own: service.renderers.oci ?? {},
    report: (severity, option, message) => {
      const full = `services.${name}${option ? `.${option}` : ""}`;
      ctx.diagnostics.push(
        diagnostic(ctx.deployment, { severity, option: full, service: name, message }),
      );
    },
  };
}
