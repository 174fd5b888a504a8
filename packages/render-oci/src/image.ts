/**
 * One service's image, composed from one function per aspect: the build context (core's
 * `ociBuildContext`), run-time settings an image cannot carry, labels, repository and tags, and
 * the optional Nix image.
 */
import { createHash } from "node:crypto";
import {
  type Artifact,
  containerRefResolver,
  definitionFilesView,
  diagnostic,
  type EvaluatedService,
  type RefResolver,
  refReporter,
  SERVICE_DEFAULTS,
} from "@nix2dream/core";
import { isImageReference, type OciContextSource, ociBuildContext } from "@nix2dream/core/oci";
import { literalValue } from "@nix2dream/core/shell";
import {
  type ImageEntry,
  LABEL_DEPLOYMENT,
  LABEL_SERVICE,
  type OciContext,
  type Reporter,
  type ServiceContext,
  serviceContextFor,
} from "./context.js";
import { deepMerge, stableJson } from "./json.js";
import { imageNix, nixPackageExpr } from "./nix-image.js";

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

/** Renders every service without `package.image` to a build context; pure. */

/** What one service adds to the render: files and its entry in `images.json`. */
export interface ServiceImage {
  artifacts: Artifact[];
  entry: ImageEntry;
}

/** The image of `s`, a service without `package.image` whose name can be a directory. */
export function imageOf(s: EvaluatedService, ctx: OciContext): ServiceImage {
  const sc = serviceContextFor(ctx, s);
  const { name, own, deployment: d } = sc;
  const resolve: RefResolver = containerRefResolver(
    d,
    (svc) => svc,
    refReporter(name, sc.diagnostics, definitionFilesView(d)),
  );
  const baseImage = own.baseImage ?? sc.defaultBase;
  const built = ociBuildContext(s, d, { baseImage, resolve });
  sc.diagnostics.push(...built.diagnostics);
  runtimeDiagnostics(s, sc.report);
  const artifacts = built.artifacts.map((a) => ({ ...a, path: `${name}/${a.path}` }));
  const labels = labelsOf(sc, resolve);
  const hash = createHash("sha256")
    .update(`${built.contentHash}\n${stableJson(labels)}`)
    .digest("hex");
  const repo = repositoryOf(sc);
  const tags = tagsOf(sc, repo, hash);
  const nix = nixImageOf(sc, { repo, hash, labels, resolve, sources: built.sources });
  if (nix) artifacts.push(nix);
  const entry: ImageEntry = {
    context: name,
    tags,
    baseImage,
    labels,
    sources: built.sources,
    hash,
    nix: nix ? nix.path : null,
  };
  return {
    artifacts,
    entry: deepMerge(
      deepMerge(entry, sc.dep.override ?? {}),
      own.override ?? {},
    ) as unknown as ImageEntry,
  };
}

/** The image's labels: the service's (literal values only), then the deployment and service. */
function labelsOf(sc: ServiceContext, resolve: RefResolver): Record<string, string> {
  const s = sc.service;
  const labels: Record<string, string> = {};
  for (const key of Object.keys(s.labels).sort()) {
    const value = literalValue(s.labels[key] ?? "", resolve);
    if (value === undefined) {
      sc.report("error", `labels.${key}`, "A label of an image must be a literal value.");
      continue;
    }
    labels[key] = value;
  }
  labels[LABEL_DEPLOYMENT] = sc.deployment.name;
  labels[LABEL_SERVICE] = sc.name;
  return labels;
}

/** `<prefix><deployment>-<service>`, lowercased for Docker (reported when it had to change). */
function repositoryOf(sc: ServiceContext): string {
  const d = sc.deployment;
  const rawRepo = `${sc.prefix}${d.name}-${sc.name}`;
  const repo = `${sc.prefix}${repositoryName(d.name)}-${repositoryName(sc.name)}`;
  if (!validRepository(repo)) {
    sc.report(
      "error",
      "",
      `\`${repo}\` is not a valid image repository; check \`renderers.oci.repository\`.`,
    );
    return `${repositoryName(d.name)}-${repositoryName(sc.name)}`;
  }
  if (repo !== rawRepo) {
    sc.report(
      "warning",
      "",
      `Image repositories are lowercase letters, digits and separators; the image is named \`${repo}\`.`,
    );
  }
  return repo;
}

/** The main tag (the hash's first 12 digits), then `extraImageTags` (tags or full references). */
function tagsOf(sc: ServiceContext, repo: string, hash: string): string[] {
  const tags = [`${repo}:${hash.slice(0, 12)}`];
  (sc.own.extraImageTags ?? []).forEach((t, i) => {
    const full = splitReference(t);
    const tag = full ? full.tag : t;
    const target = full ? full.repo : repo;
    if (!TAG.test(tag) || !validRepository(target) || !isImageReference(`${target}:${tag}`)) {
      sc.report(
        "error",
        `renderers.oci.extraImageTags.${i}`,
        `${JSON.stringify(t)} is neither a tag (letters, digits, \`_\`, \`.\`, \`-\`) nor an image reference with a tag; it is not applied.`,
      );
      return;
    }
    const ref = `${target}:${tag}`;
    if (!tags.includes(ref)) tags.push(ref);
  });
  return tags;
}

/** `<svc>/image.nix` when `package.nix` is set (and a nixpkgs attribute path), else null. */
function nixImageOf(
  sc: ServiceContext,
  image: {
    repo: string;
    hash: string;
    labels: Record<string, string>;
    resolve: RefResolver;
    sources: OciContextSource[];
  },
): Artifact | null {
  const s = sc.service;
  if (s.package.nix === null) return null;
  const pkg = nixPackageExpr(s.package.nix);
  if (pkg === undefined) {
    sc.report(
      "error",
      "package.nix",
      `${JSON.stringify(s.package.nix)} is not a nixpkgs attribute path (\`nixpkgs#redis\`, \`pkgs.redis\`, \`redis\`); no image.nix is written.`,
    );
    return null;
  }
  const img = imageNix(s, {
    deployment: sc.deployment.name,
    repository: image.repo,
    tag: image.hash.slice(0, 12),
    packageExpr: pkg,
    labels: image.labels,
    resolve: image.resolve,
    sources: image.sources,
    override: deepMerge(sc.dep.nixOverride ?? {}, sc.own.nixOverride ?? {}),
  });
  for (const w of img.diagnostics) {
    sc.diagnostics.push(diagnostic(sc.deployment, { severity: "warning", service: sc.name, ...w }));
  }
  return { path: `${sc.name}/image.nix`, content: img.content };
}
