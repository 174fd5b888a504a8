/**
 * Typed builders for the pieces render-k8s puts together, usable on their own (e.g. to build an
 * extra manifest that looks like the generated ones). Pure functions of their arguments.
 */
import type { Healthcheck, Resources } from "@nix2dream/core";
import { emptyRecord, packedMap } from "@nix2dream/core/record";
import type {
  Container,
  Namespace,
  PodSecurityContext,
  Probe,
  ResourceRequirements,
} from "kubernetes-types/core/v1.js";

/** Label keys render-k8s puts on every object. */
export const LABELS = {
  name: "app.kubernetes.io/name",
  instance: "app.kubernetes.io/instance",
  partOf: "app.kubernetes.io/part-of",
  managedBy: "app.kubernetes.io/managed-by",
} as const;
/** Value of `app.kubernetes.io/managed-by`. */
export const MANAGED_BY = "nix2dream";

/** Default image of the init containers that wait for dependencies. */
export const DEFAULT_WAIT_IMAGE = "busybox:1.36";
/** Default wait loop for TCP: connects until the dependency's Service answers. */
export const WAIT_TCP_SCRIPT =
  'until nc -w 2 "$WAIT_HOST" "$WAIT_PORT" </dev/null >/dev/null 2>&1; do echo "waiting for $WAIT_HOST:$WAIT_PORT"; sleep 2; done';
/** Default wait loop for HTTP healthchecks: fetches `WAIT_URL` until it succeeds. */
export const WAIT_HTTP_SCRIPT =
  'until wget -q -O /dev/null "$WAIT_URL"; do echo "waiting for $WAIT_URL"; sleep 2; done';

/** A DNS-1123 label made from `name`: lower case, other characters as `-`, at most 63 long. */
export function dnsLabel(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return s || "x";
}

/** A Kubernetes port name (IANA_SVC_NAME: at most 15, lower case, a letter, no `--`) for `name`, or `p<port>`. */
export function portName(name: string, port: number): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
  if (s.length > 0 && s.length <= 15 && /[a-z]/.test(s)) return s;
  return `p${port}`.slice(0, 15);
}

/** `<service>.<namespace>.svc.cluster.local`, the name other pods reach a Service at. */
export function serviceDnsName(service: string, namespace: string): string {
  return `${dnsLabel(service)}.${namespace}.svc.cluster.local`;
}

/** The selector labels of a service's pods: `app.kubernetes.io/name` and `instance`. */
export function selectorFor(deployment: string, service: string): Record<string, string> {
  // Computed keys in a literal are added one by one: from an emptyRecord (core's record.ts).
  const selector = emptyRecord<string>();
  selector[LABELS.name] = dnsLabel(service);
  selector[LABELS.instance] = dnsLabel(deployment);
  return selector;
}

/** Every standard label of a service's objects: the selector plus `part-of` and `managed-by`. */
export function labelsFor(deployment: string, service: string): Record<string, string> {
  const labels = Object.assign(emptyRecord<string>(), selectorFor(deployment, service));
  labels[LABELS.partOf] = dnsLabel(deployment);
  labels[LABELS.managedBy] = MANAGED_BY;
  return labels;
}

/** The Namespace object of a deployment, labelled as part of it. */
export function namespaceFor(
  deployment: string,
  namespace: string,
): Namespace & { apiVersion: "v1"; kind: "Namespace" } {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: namespace,
      labels: { [LABELS.partOf]: dnsLabel(deployment), [LABELS.managedBy]: MANAGED_BY },
    },
  };
}

/** Whole seconds, at least 1, as probe fields need them. */
export function probeSeconds(seconds: number): number {
  return Math.max(1, Math.ceil(seconds));
}

/** How {@link probesFor} names ports and resolves references in exec commands. */
export interface ProbeOptions {
  /** Also a livenessProbe, and a startupProbe allowing `startPeriod`. */
  liveness?: boolean;
  /** The Kubernetes port name of a service port name; default: the name itself. */
  portName?: (name: string) => string;
  /** Resolves references in exec commands; default: none. */
  resolve?: (value: string) => string;
}

/**
 * The probes of a healthcheck: a readinessProbe (exec, httpGet or tcpSocket on the named port;
 * `interval`/`timeout` in whole seconds, `retries` as `failureThreshold`); with `liveness`, the
 * same as livenessProbe plus a startupProbe covering `startPeriod`.
 */
export function probesFor(
  hc: Healthcheck,
  opts: ProbeOptions = {},
): Partial<Pick<Container, "readinessProbe" | "livenessProbe" | "startupProbe">> {
  const port = opts.portName ?? ((n: string) => n);
  const resolve = opts.resolve ?? ((v: string) => v);
  const action: Probe =
    hc.type === "exec"
      ? { exec: { command: packedMap(hc.command, resolve) } }
      : hc.type === "http"
        ? {
            httpGet: {
              path: hc.path,
              port: port(hc.port),
              scheme: hc.scheme === "https" ? "HTTPS" : "HTTP",
            },
          }
        : { tcpSocket: { port: port(hc.port) } };
  const timing = {
    periodSeconds: probeSeconds(hc.interval),
    timeoutSeconds: probeSeconds(hc.timeout),
    failureThreshold: Math.max(1, hc.retries),
  };
  const out: ReturnType<typeof probesFor> = { readinessProbe: { ...action, ...timing } };
  if (opts.liveness) {
    out.livenessProbe = { ...action, ...timing };
    if (hc.startPeriod > 0) {
      out.startupProbe = {
        ...action,
        periodSeconds: timing.periodSeconds,
        timeoutSeconds: timing.timeoutSeconds,
        failureThreshold:
          Math.ceil(hc.startPeriod / timing.periodSeconds) + timing.failureThreshold,
      };
    }
  }
  return out;
}

/** A CPU count as a Kubernetes quantity: `2`, `500m`. */
export function cpuQuantity(cpu: number): string {
  return Number.isInteger(cpu) ? String(cpu) : `${Math.round(cpu * 1000)}m`;
}

/** Resource limits of a service (Kubernetes sets requests to the limits); undefined when none. */
export function resourcesFor(resources: Resources): ResourceRequirements | undefined {
  const limits = emptyRecord<string>();
  if (resources.cpu !== null) limits.cpu = cpuQuantity(resources.cpu);
  if (resources.memory !== null) limits.memory = String(resources.memory);
  return Object.keys(limits).length > 0 ? { limits } : undefined;
}

/**
 * The pod security context of numeric `user`/`group` ids (`runAsUser`, `runAsGroup`, `fsGroup`);
 * names are left out (Kubernetes takes ids only), undefined when nothing is set.
 */
export function securityContextFor(
  user: string | null,
  group: string | null,
): PodSecurityContext | undefined {
  const out = emptyRecord<number>() as PodSecurityContext;
  if (user !== null && /^\d+$/.test(user)) out.runAsUser = Number(user);
  if (group !== null && /^\d+$/.test(group)) {
    out.runAsGroup = Number(group);
    out.fsGroup = Number(group);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** What a wait init container waits for. */
export interface WaitTarget {
  /** Container name, e.g. `wait-db`. */
  name: string;
  host: string;
  port: number;
  /** An HTTP URL to fetch instead of a TCP connect; empty for TCP. */
  url?: string;
  image?: string;
  /** argv instead of the default loop; it gets `WAIT_HOST`, `WAIT_PORT`, `WAIT_URL`. */
  command?: string[] | null;
}

/** An init container that blocks until `host:port` accepts connections (or `url` answers 2xx). */
export function waitContainerFor(t: WaitTarget): Container {
  const url = t.url ?? "";
  return {
    name: t.name,
    image: t.image ?? DEFAULT_WAIT_IMAGE,
    command: t.command ?? ["/bin/sh", "-c", url ? WAIT_HTTP_SCRIPT : WAIT_TCP_SCRIPT],
    env: [
      { name: "WAIT_HOST", value: t.host },
      { name: "WAIT_PORT", value: String(t.port) },
      { name: "WAIT_URL", value: url },
    ],
  };
}
