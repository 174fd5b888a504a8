import { createHash } from "node:crypto";
// The one default of every container target, core's.
import {
  type Artifact,
  containerRefResolver,
  DEFAULT_BASE_IMAGE,
  type Diagnostic,
  diagnostic,
  type EvaluatedDeployment,
  type EvaluatedService,
  isImageReference,
  literalValue,
  ociBuildContext,
  type RefResolver,
  type RenderResult,
  refReporter,
  SERVICE_DEFAULTS,
} from "@nix2dream/core";
import { deepMerge, stableJson } from "./json.js";
import { imageNix, nixPackageExpr } from "./nix-image.js";
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
/** The default base image (core's `DEFAULT_BASE_IMAGE`, `busybox:stable`). */
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
  /** Host files to copy into the context before building (`files.*.source`). */
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

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const REPO_PATH = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;

/** A repository name component Docker accepts, from any text: lowercase, runs of other characters as `-`. */
export function repositoryName(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") || "x"
  );
}

/** Whether `ref` is a full image reference with a tag (`repo:tag`, `host:5000/a/b:tag`). */
function splitReference(ref: string): { repo: string; tag: string } | undefined {
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon <= slash) return undefined;
  return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

function validRepository(repo: string): boolean {
  // An optional registry host (with a port) then a lowercase path.
  const first = repo.indexOf("/");
  const head = first < 0 ? "" : repo.slice(0, first);
  if (head && /[.:]|^localhost$/.test(head)) {
    return /^[A-Za-z0-9.-]+(:[0-9]+)?$/.test(head) && REPO_PATH.test(repo.slice(first + 1));
  }
  return REPO_PATH.test(repo);
}

/** Warnings for run-time settings an image cannot carry (the manager that runs it applies them). */
function runtimeDiagnostics(s: EvaluatedService, report: Reporter): void {
  const runtime = (option: string, what: string) =>
    report(
      "warning",
      option,
      `${what} is a run-time setting an image cannot carry; the manager that runs the image (Compose, Kubernetes) applies it.`,
    );
  if (s.healthcheck) runtime("healthcheck", "The healthcheck");
  if (Object.keys(s.dependsOn).length) runtime("dependsOn", "`dependsOn`");
  const r = s.restart;
  const d = SERVICE_DEFAULTS.restart;
  if (
    r.policy !== d.policy ||
    r.maxRetries !== d.maxRetries ||
    r.backoff.initial !== d.backoff.initial ||
    r.backoff.factor !== d.backoff.factor ||
    r.backoff.max !== d.backoff.max
  ) {
    runtime("restart", "The restart policy");
  }
  if (s.stop.gracePeriod !== SERVICE_DEFAULTS.stop.gracePeriod) {
    runtime("stop.gracePeriod", "The stop grace period");
  }
  if (s.resources.cpu !== null || s.resources.memory !== null) runtime("resources", "`resources`");
  if (s.replicas !== 1) runtime("replicas", "`replicas`");
  for (const [name, p] of Object.entries(s.ports)) {
    if (p.expose || p.hostPort !== null) runtime(`ports.${name}`, "Publishing a port");
  }
  for (const [name, v] of Object.entries(s.volumes)) {
    // Whether a volume persists is the runner's choice of mount; only an explicit size is lost.
    if (v.size !== null) runtime(`volumes.${name}.size`, "Sizing a volume");
  }
}

type Reporter = (severity: Diagnostic["severity"], option: string, message: string) => void;

/** Renders every service without `package.image` to a build context; pure. */
export function renderOci(d: EvaluatedDeployment, opts: OciOptions = {}): RenderResult {
  const diagnostics: Diagnostic[] = [];
  const artifacts: Artifact[] = [];
  const dep: Partial<OciDeploymentOptions> = d.renderers.oci ?? {};
  const defaultBase = dep.baseImage ?? opts.baseImage ?? DEFAULT_BASE_IMAGE;
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

  const manifest: ImagesManifest = {
    version: IMAGES_VERSION,
    deployment: d.name,
    images: {},
    external: {},
  };
  for (const name of Object.keys(d.services).sort()) {
    const s = d.services[name] as EvaluatedService;
    if (!s.enable) continue;
    const report: Reporter = (severity, option, message) => {
      const full = `services.${name}${option ? `.${option}` : ""}`;
      diagnostics.push(diagnostic(d, { severity, option: full, service: name, message }));
    };
    if (s.package.image !== null) {
      manifest.external[name] = s.package.image;
      continue;
    }
    if (name.includes("/") || name === "." || name === "..") {
      report(
        "error",
        "",
        `The service name ${JSON.stringify(name)} cannot be a directory name; it is not rendered.`,
      );
      continue;
    }
    const own: Partial<OciServiceOptions> = s.renderers.oci ?? {};
    const resolve: RefResolver = containerRefResolver(
      d,
      (svc) => svc,
      refReporter(name, diagnostics, d.definitionFiles),
    );
    const ctx = ociBuildContext(s, d, { baseImage: own.baseImage ?? defaultBase, resolve });
    diagnostics.push(...ctx.diagnostics);
    runtimeDiagnostics(s, report);
    for (const a of ctx.artifacts) artifacts.push({ ...a, path: `${name}/${a.path}` });

    const labels: Record<string, string> = {};
    for (const key of Object.keys(s.labels).sort()) {
      const value = literalValue(s.labels[key] ?? "", resolve);
      if (value === undefined) {
        report("error", `labels.${key}`, "A label of an image must be a literal value.");
        continue;
      }
      labels[key] = value;
    }
    labels[LABEL_DEPLOYMENT] = d.name;
    labels[LABEL_SERVICE] = name;

    const hash = createHash("sha256")
      .update(`${ctx.contentHash}\n${stableJson(labels)}`)
      .digest("hex");
    const rawRepo = `${prefix}${d.name}-${name}`;
    let repo = `${prefix}${repositoryName(d.name)}-${repositoryName(name)}`;
    if (!validRepository(repo)) {
      report(
        "error",
        "",
        `\`${repo}\` is not a valid image repository; check \`renderers.oci.repository\`.`,
      );
      repo = `${repositoryName(d.name)}-${repositoryName(name)}`;
    } else if (repo !== rawRepo) {
      report(
        "warning",
        "",
        `Image repositories are lowercase letters, digits and separators; the image is named \`${repo}\`.`,
      );
    }
    const tags = [`${repo}:${hash.slice(0, 12)}`];
    (own.extraImageTags ?? []).forEach((t, i) => {
      const full = splitReference(t);
      const tag = full ? full.tag : t;
      const target = full ? full.repo : repo;
      if (!TAG.test(tag) || !validRepository(target) || !isImageReference(`${target}:${tag}`)) {
        report(
          "error",
          `renderers.oci.extraImageTags.${i}`,
          `${JSON.stringify(t)} is neither a tag (letters, digits, \`_\`, \`.\`, \`-\`) nor an image reference with a tag; it is not applied.`,
        );
        return;
      }
      const ref = `${target}:${tag}`;
      if (!tags.includes(ref)) tags.push(ref);
    });

    let nix: string | null = null;
    if (s.package.nix !== null) {
      const pkg = nixPackageExpr(s.package.nix);
      if (pkg === undefined) {
        report(
          "error",
          "package.nix",
          `${JSON.stringify(s.package.nix)} is not a nixpkgs attribute path (\`nixpkgs#redis\`, \`pkgs.redis\`, \`redis\`); no image.nix is written.`,
        );
      } else {
        const img = imageNix(s, {
          deployment: d.name,
          repository: repo,
          tag: hash.slice(0, 12),
          packageExpr: pkg,
          labels,
          resolve,
          sources: ctx.sources,
          override: deepMerge(dep.nixOverride ?? {}, own.nixOverride ?? {}),
        });
        diagnostics.push(...img.diagnostics.map((x) => diagnostic(d, { ...x, service: name })));
        nix = `${name}/image.nix`;
        artifacts.push({ path: nix, content: img.content });
      }
    }

    const entry: ImageEntry = {
      context: name,
      tags,
      baseImage: own.baseImage ?? defaultBase,
      labels,
      sources: ctx.sources,
      hash,
      nix,
    };
    manifest.images[name] = deepMerge(
      deepMerge(entry, dep.override ?? {}),
      own.override ?? {},
    ) as unknown as ImageEntry;
  }
  artifacts.push({ path: IMAGES_FILE, content: stableJson(manifest) });
  return { artifacts, diagnostics };
}
