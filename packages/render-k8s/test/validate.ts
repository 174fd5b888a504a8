/**
 * Offline Kubernetes schema checks (no API server can run here):
 * - `kubernetes-models`: the OpenAPI schema of each kind (types, required fields, enums,
 *   formats); it lets unknown fields through, so
 * - an unknown-field walk over `@kubernetes/client-node`'s generated type metadata
 *   (`attributeTypeMap` of every API type) rejects any field the API does not define.
 */
import * as clientModels from "@kubernetes/client-node/dist/gen/models/all.js";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import {
  ConfigMap,
  Namespace,
  PersistentVolumeClaim,
  Secret,
  Service,
  ServiceAccount,
} from "kubernetes-models/v1";

// biome-ignore lint/suspicious/noExplicitAny: model classes of different kinds
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "batch/v1/Job": Job,
};

interface Attribute {
  name: string;
  baseName: string;
  type: string;
}
type ModelClass = { getAttributeTypeMap(): Attribute[] };
const classes = clientModels as unknown as Record<string, ModelClass | undefined>;

/** The client-node type name of a kind: `apps/v1` `Deployment` → `V1Deployment`. */
function typeNameOf(apiVersion: string, kind: string): string {
  const version = apiVersion.split("/").pop() ?? "v1";
  return `${version[0]?.toUpperCase()}${version.slice(1)}${kind}`;
}

/** Paths of fields the Kubernetes API does not define, under `value` of type `type`. */
export function unknownFields(value: unknown, type: string, path = ""): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) return [`${path}: expected a list`];
    return value.flatMap((v, i) => unknownFields(v, array[1] as string, `${path}[${i}]`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== "object" || Array.isArray(value)) return [`${path}: expected a map`];
    return Object.entries(value).flatMap(([k, v]) =>
      unknownFields(v, map[1] as string, `${path}.${k}`),
    );
  }
  const cls = classes[type];
  if (!cls || typeof cls.getAttributeTypeMap !== "function") return [];
  if (typeof value !== "object" || Array.isArray(value)) return [`${path}: expected an object`];
  const attrs = cls.getAttributeTypeMap();
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const a = attrs.find((x) => x.baseName === k);
    if (!a) out.push(`${path}.${k}: unknown field of ${type}`);
    else out.push(...unknownFields(v, a.type, `${path}.${k}`));
  }
  return out;
}

/** Problems of one object against the Kubernetes schemas; empty when it is valid. */
export function schemaProblems(object: { apiVersion?: string; kind?: string }): string[] {
  const id = `${object.apiVersion}/${object.kind}`;
  const Model = MODELS[id];
  if (!Model) return [`no schema known for ${id}`];
  const problems: string[] = [];
  try {
    new Model(structuredClone(object)).validate();
  } catch (e) {
    problems.push(`${id}: ${(e as Error).message}`);
  }
  const type = typeNameOf(object.apiVersion ?? "", object.kind ?? "");
  if (!classes[type]) problems.push(`no client-node type ${type}`);
  problems.push(...unknownFields(object, type).map((p) => `${id}${p}`));
  return problems;
}
