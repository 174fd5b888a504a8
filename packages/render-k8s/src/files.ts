/** Kubernetes objects as files: `all.yaml`, one file per object and `kustomization.yaml`. */
import type { Artifact } from "@nix2dream/core";
import { stringify } from "yaml";

/** The multi-document file holding every object. */
export const ALL_FILE = "all.yaml";
/** The kustomization listing the per-object files. */
export const KUSTOMIZATION_FILE = "kustomization.yaml";

interface Named {
  kind: string;
  metadata?: { name?: string } | undefined;
}

/**
 * One object as YAML. YAML 1.1 quoting, because kubectl reads manifests with a YAML 1.1 parser:
 * `yes`, `on`, `0644`, `~` stay strings. No line folding and no anchors/aliases: each object
 * is written out in full.
 */
export function toYaml(object: unknown): string {
  return stringify(object, {
    version: "1.1",
    lineWidth: 0,
    minContentWidth: 0,
    aliasDuplicateObjects: false,
  });
}

/** Every object as one multi-document YAML stream (`---` between documents). */
export function toYamlStream(objects: readonly unknown[]): string {
  return objects.map(toYaml).join("---\n");
}

/** `<kind>-<name>.yaml`, lower case, made unique against `taken`. */
function fileNameOf(o: Named, taken: Set<string>): string {
  const base = `${o.kind}-${o.metadata?.name ?? "unnamed"}`
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-");
  let name = `${base}.yaml`;
  for (let i = 2; taken.has(name) || name === ALL_FILE || name === KUSTOMIZATION_FILE; i++) {
    name = `${base}-${i}.yaml`;
  }
  taken.add(name);
  return name;
}

/** The artifacts of a set of objects: `all.yaml`, `<kind>-<name>.yaml` each, `kustomization.yaml`. */
export function manifestFiles(objects: readonly Named[]): Artifact[] {
  const taken = new Set<string>();
  const each: Artifact[] = objects.map((o) => ({ path: fileNameOf(o, taken), content: toYaml(o) }));
  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: each.map((a) => a.path),
  };
  return [
    { path: ALL_FILE, content: toYamlStream(objects) },
    ...each,
    { path: KUSTOMIZATION_FILE, content: toYaml(kustomization) },
  ];
}
