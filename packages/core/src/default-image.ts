/**
 * The one default base image of every container target (render-oci's images, render-compose's
 * built services): `busybox:stable`, a tag that moves only with busybox's stable releases, where
 * `latest` follows every release. A deployment picks its own with `renderers.<target>.baseImage`.
 */
export const DEFAULT_BASE_IMAGE = "busybox:stable";
