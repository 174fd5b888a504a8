/** The kubectl manager: apply / diff / delete / status / logs over render-k8s's output. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ActionResult,
  defineManager,
  type Manager,
  type ManagerContext,
} from "@nix2dream/core";
import { defineModule, mkOption, types } from "@nix2dream/modules";
import { ALL_FILE, dnsLabel, LABELS, MANAGED_BY } from "@nix2dream/render-k8s";
import { parseAllDocuments } from "yaml";
import { KubectlError, type KubectlInvocation, runKubectl } from "./kubectl.js";

/** Field manager of every server-side apply. */
export const FIELD_MANAGER = "nix2dream";

/** Options of {@link kubectl}; `managers.kubectl.*` in the config wins where set. */
export interface KubectlManagerOptions {
  /** The kubectl program; default `kubectl` on PATH. */
  kubectl?: string;
  /** kubeconfig context; default the current context. `--context` wins. */
  context?: string;
  /** Extra environment for kubectl (e.g. `{ KUBECONFIG: "/path" }`). */
  env?: NodeJS.ProcessEnv;
  /** How long `status --wait` and `delete` wait, as kubectl reads it; default `120s`. */
  timeout?: string;
}

/** `managers.kubectl.*`: the kubectl manager's options in the config. */
export interface KubectlManagerSettings {
  kubectl: string | null;
  context: string | null;
  timeout: string | null;
}

/** @deprecated Use {@link KubectlManagerSettings}; this name goes in the next minor. */
export type KubectlManagerConfig = KubectlManagerSettings;

declare module "@nix2dream/core" {
  interface DeploymentManagers {
    kubectl: KubectlManagerSettings;
  }
}

/** The option module of `managers.kubectl`. */
export const kubectlManagerModule = defineModule(import.meta.url, {
  options: {
    kubectl: mkOption({
      type: types.nullOr(types.str),
      default: null,
      description: "The kubectl program; null: the manager's option, else `kubectl` on PATH.",
    }),
    context: mkOption({
      type: types.nullOr(types.str),
      default: null,
      description: "kubeconfig context; null: the current context. `--context` wins.",
    }),
    timeout: mkOption({
      type: types.nullOr(types.str),
      default: null,
      description: "How long `status --wait` and `delete` wait (kubectl duration); null: 120s.",
    }),
  },
});

/** One object of the render, as the manager needs it. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | null;
  labels: Record<string, string>;
}

/** The objects of the render in `artifactsDir` (its `all.yaml`), in order. */
export function readRender(artifactsDir: string): RenderedObject[] {
  const file = join(artifactsDir, ALL_FILE);
  if (!existsSync(file)) {
    throw new KubectlError(
      "NO_RENDER",
      `There is no ${ALL_FILE} in ${artifactsDir}: render the deployment with render-k8s first (\`nix2dream render k8s\`).`,
    );
  }
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => d.toJSON() as Record<string, unknown> | null)
    .filter((o): o is Record<string, unknown> => o !== null && typeof o === "object")
    .map((o) => {
      const meta = (o.metadata ?? {}) as {
        name?: string;
        namespace?: string;
        labels?: Record<string, string>;
      };
      return {
        apiVersion: String(o.apiVersion),
        kind: String(o.kind),
        name: String(meta.name),
        namespace: meta.namespace ?? null,
        labels: meta.labels ?? {},
      };
    });
}

/** kubectl's fully qualified resource for an object: `deployment.v1.apps/api`, `service/api`. */
export function resourceOf(o: Pick<RenderedObject, "apiVersion" | "kind" | "name">): string {
  const [group, version] = o.apiVersion.includes("/")
    ? o.apiVersion.split("/")
    : ["", o.apiVersion];
  const type = group ? `${o.kind.toLowerCase()}.${version}.${group}` : o.kind.toLowerCase();
  return `${type}/${o.name}`;
}

/** `app.kubernetes.io/part-of=<deployment>,app.kubernetes.io/managed-by=nix2dream`. */
export function deploymentSelector(deployment: string): string {
  return `${LABELS.partOf}=${dnsLabel(deployment)},${LABELS.managedBy}=${MANAGED_BY}`;
}

/** `group/version/Kind` for `--prune-allowlist` (`core/v1/Service`). */
function allowlistEntry(o: RenderedObject): string {
  return o.apiVersion.includes("/")
    ? `${o.apiVersion}/${o.kind}`
    : `core/${o.apiVersion}/${o.kind}`;
}

/** Kinds always considered for pruning, so a kind the deployment stops rendering is pruned too. */
const PRUNE_KINDS = [
  "core/v1/ConfigMap",
  "core/v1/PersistentVolumeClaim",
  "core/v1/Secret",
  "core/v1/Service",
  "apps/v1/Deployment",
  "apps/v1/StatefulSet",
  "batch/v1/Job",
];

interface Settings {
  inv: KubectlInvocation;
  namespace: string | null;
  timeout: string;
}

function settings(ctx: ManagerContext, opts: KubectlManagerOptions): Settings {
  const m = ctx.deployment.managers.kubectl ?? { kubectl: null, context: null, timeout: null };
  const flag = (name: string) => {
    const v = ctx.flags[name];
    if (v === true || v === "") {
      // `--context` with no value (the CLI parses the value of a declared flag).
      throw new KubectlError(
        "BAD_ARGS",
        `\`--${name}\` needs a value: write \`--${name} <value>\`.`,
      );
    }
    return typeof v === "string" ? v : null;
  };
  const context = flag("context") ?? m.context ?? opts.context ?? null;
  return {
    inv: {
      kubectl: m.kubectl ?? opts.kubectl ?? "kubectl",
      global: context ? ["--context", context] : [],
      env: opts.env,
      signal: ctx.signal,
    },
    namespace: flag("namespace"),
    timeout: flag("timeout") ?? m.timeout ?? opts.timeout ?? "120s",
  };
}

function nsArgs(s: Settings, o?: { namespace: string | null }): string[] {
  const ns = s.namespace ?? o?.namespace ?? null;
  return ns ? ["--namespace", ns] : [];
}

async function apply(ctx: ManagerContext, opts: KubectlManagerOptions): Promise<ActionResult> {
  const s = settings(ctx, opts);
  const objects = readRender(ctx.artifactsDir);
  const args = [
    "apply",
    "--server-side",
    `--field-manager=${FIELD_MANAGER}`,
    ...(ctx.flags["force-conflicts"] ? ["--force-conflicts"] : []),
    ...(s.namespace ? ["--namespace", s.namespace] : []),
    "-f",
    join(ctx.artifactsDir, ALL_FILE),
  ];
  if (ctx.flags.prune !== false && ctx.flags["no-prune"] !== true) {
    const kinds = new Set(PRUNE_KINDS);
    for (const o of objects) if (o.kind !== "Namespace") kinds.add(allowlistEntry(o));
    args.push("--prune", "-l", deploymentSelector(ctx.deployment.name));
    for (const k of [...kinds].sort()) args.push(`--prune-allowlist=${k}`);
  }
  const run = await runKubectl(s.inv, args, { stdout: ctx.stdout, stderr: ctx.stderr });
  return { exitCode: run.code === 0 ? 0 : 1, data: { objects: objects.length } };
}

async function diff(ctx: ManagerContext, opts: KubectlManagerOptions): Promise<ActionResult> {
  const s = settings(ctx, opts);
  readRender(ctx.artifactsDir);
  const run = await runKubectl(
    s.inv,
    [
      "diff",
      "--server-side",
      `--field-manager=${FIELD_MANAGER}`,
      ...nsArgs(s),
      "-f",
      join(ctx.artifactsDir, ALL_FILE),
    ],
    { stdout: ctx.stdout, stderr: ctx.stderr },
  );
  // kubectl diff: 0 no differences, 1 differences, >1 an error.
  if (run.code === 0) ctx.stdout.write("No differences: the cluster matches the render.\n");
  return { exitCode: run.code, data: { changed: run.code === 1 } };
}

async function remove(ctx: ManagerContext, opts: KubectlManagerOptions): Promise<ActionResult> {
  const s = settings(ctx, opts);
  const objects = readRender(ctx.artifactsDir);
  const volumes = ctx.flags.volumes === true || ctx.flags.v === true;
  const withNamespace = ctx.flags["delete-namespace"] === true;
  const kept = objects.filter((o) =>
    o.kind === "Namespace" ? !withNamespace : o.kind === "PersistentVolumeClaim" && !volumes,
  );
  const gone = objects.filter((o) => !kept.includes(o) && o.kind !== "Namespace");
  const byNs = new Map<string, RenderedObject[]>();
  for (const o of gone) {
    const ns = s.namespace ?? o.namespace ?? "";
    byNs.set(ns, [...(byNs.get(ns) ?? []), o]);
  }
  let failed = false;
  for (const [ns, list] of [...byNs].sort(([a], [b]) => a.localeCompare(b))) {
    const run = await runKubectl(
      s.inv,
      [
        "delete",
        ...(ns ? ["--namespace", ns] : []),
        "--ignore-not-found",
        "--wait=true",
        `--timeout=${s.timeout}`,
        ...list.map(resourceOf),
      ],
      { stdout: ctx.stdout, stderr: ctx.stderr },
    );
    failed ||= run.code !== 0;
  }
  if (volumes) {
    // Claims made from StatefulSet volumeClaimTemplates are not in the render; they carry its labels.
    const namespaces = [
      ...new Set(
        objects
          .filter((o) => o.kind === "StatefulSet")
          .map((o) => s.namespace ?? o.namespace ?? ""),
      ),
    ].sort();
    for (const ns of namespaces) {
      const run = await runKubectl(
        s.inv,
        [
          "delete",
          "persistentvolumeclaims",
          ...(ns ? ["--namespace", ns] : []),
          "-l",
          deploymentSelector(ctx.deployment.name),
          "--ignore-not-found",
          "--wait=true",
          `--timeout=${s.timeout}`,
        ],
        { stdout: ctx.stdout, stderr: ctx.stderr },
      );
      failed ||= run.code !== 0;
    }
  }
  if (withNamespace) {
    for (const o of objects.filter((x) => x.kind === "Namespace")) {
      const run = await runKubectl(
        s.inv,
        ["delete", "--ignore-not-found", "--wait=true", `--timeout=${s.timeout}`, resourceOf(o)],
        {
          stdout: ctx.stdout,
          stderr: ctx.stderr,
        },
      );
      failed ||= run.code !== 0;
    }
  }
  const keptText = kept.filter((o) => o.kind !== "Namespace" || !withNamespace);
  if (keptText.length > 0) {
    ctx.stdout.write(
      `Kept ${keptText.map((o) => `${o.kind}/${o.name}`).join(", ")} (${volumes ? "" : "--volumes deletes claims; "}--delete-namespace deletes the namespace).\n`,
    );
  }
  return { exitCode: failed ? 1 : 0, data: { deleted: gone.map((o) => `${o.kind}/${o.name}`) } };
}

/** The workloads of a render; throws when `names` (service names) has one that is not there. */
function workloadsOf(objects: RenderedObject[], names: string[]): RenderedObject[] {
  const workloads = objects.filter((o) => ["Deployment", "StatefulSet", "Job"].includes(o.kind));
  const unknown = names.filter((n) => !workloads.some((w) => w.name === dnsLabel(n)));
  if (unknown.length > 0) {
    throw new KubectlError(
      "BAD_ARGS",
      `No workload named ${unknown.join(", ")} in the render (have ${workloads.map((w) => w.name).join(", ") || "none"}).`,
    );
  }
  return workloads;
}

/**
 * `restart [service…]`: `kubectl rollout restart` of each Deployment and StatefulSet (every one,
 * or the named services'), which replaces their pods as a rollout does. A Job runs to
 * completion and is not restarted.
 */
async function restart(ctx: ManagerContext, opts: KubectlManagerOptions): Promise<ActionResult> {
  const s = settings(ctx, opts);
  const wanted = new Set(ctx.args.map(dnsLabel));
  const targets = workloadsOf(readRender(ctx.artifactsDir), ctx.args).filter(
    (o) => o.kind !== "Job" && (wanted.size === 0 || wanted.has(o.name)),
  );
  for (const o of targets) {
    const run = await runKubectl(s.inv, ["rollout", "restart", ...nsArgs(s, o), resourceOf(o)], {
      stdout: ctx.stdout,
      stderr: ctx.stderr,
    });
    if (run.code !== 0) return { exitCode: 1 };
  }
  return { exitCode: 0, data: { restarted: targets.map((o) => `${o.kind}/${o.name}`) } };
}

/** The state of one workload, as `status` reports it. */
export interface WorkloadStatus {
  kind: string;
  name: string;
  namespace: string | null;
  ready: boolean;
  message: string;
}

async function status(ctx: ManagerContext, opts: KubectlManagerOptions): Promise<ActionResult> {
  const s = settings(ctx, opts);
  const wait = ctx.flags.wait === true || ctx.flags.w === true;
  const wanted = new Set(ctx.args.map(dnsLabel));
  const all = workloadsOf(readRender(ctx.artifactsDir), ctx.args);
  const workloads = all.filter((o) => wanted.size === 0 || wanted.has(o.name));
  if (workloads.length === 0) ctx.stdout.write("The render has no workloads.\n");
  const rows: WorkloadStatus[] = [];
  for (const o of workloads) {
    const args =
      o.kind === "Job"
        ? [
            "wait",
            ...nsArgs(s, o),
            "--for=condition=complete",
            `--timeout=${wait ? s.timeout : "0s"}`,
            resourceOf(o),
          ]
        : [
            "rollout",
            "status",
            ...nsArgs(s, o),
            `--watch=${wait}`,
            `--timeout=${s.timeout}`,
            resourceOf(o),
          ];
    const run = await runKubectl(s.inv, args);
    const text =
      (run.code === 0 ? run.stdout : run.stderr || run.stdout).trim().split("\n").at(-1) ?? "";
    const ready = run.code === 0 && !/Waiting for/i.test(run.stdout);
    const message = o.kind === "Job" && run.code === 0 ? "complete" : text.replace(/^error: /, "");
    rows.push({
      kind: o.kind,
      name: o.name,
      namespace: s.namespace ?? o.namespace,
      ready,
      message,
    });
    ctx.stdout.write(`${ready ? "ready  " : "pending"}  ${o.kind}/${o.name}  ${message}\n`);
  }
  return { exitCode: rows.every((r) => r.ready) ? 0 : 1, data: rows };
}

async function logs(ctx: ManagerContext, opts: KubectlManagerOptions): Promise<ActionResult> {
  const s = settings(ctx, opts);
  const objects = readRender(ctx.artifactsDir);
  const workloads = workloadsOf(objects, ctx.args);
  const names = ctx.args.length > 0 ? ctx.args.map(dnsLabel) : null;
  const selector = names
    ? `${LABELS.instance}=${dnsLabel(ctx.deployment.name)},${LABELS.name} in (${names.join(",")})`
    : deploymentSelector(ctx.deployment.name);
  const tail = ctx.flags.tail;
  const follow = ctx.flags.follow === true || ctx.flags.f === true;
  const ns = s.namespace ?? workloads[0]?.namespace ?? null;
  const args = [
    "logs",
    ...(ns ? ["--namespace", ns] : []),
    "-l",
    selector,
    "--all-containers=true",
    "--prefix=true",
    `--tail=${typeof tail === "string" ? tail : "-1"}`,
    "--max-log-requests=50",
    ...(follow ? ["--follow=true"] : []),
    ...(ctx.flags.timestamps === true || ctx.flags.t === true ? ["--timestamps=true"] : []),
  ];
  const run = await runKubectl(s.inv, args, { stdout: ctx.stdout, stderr: ctx.stderr });
  return { exitCode: run.code === 130 ? 0 : run.code === 0 ? 0 : 1 };
}

/**
 * The kubectl manager, for `use: [k8s(), kubectl()]`. Acts on render-k8s's `all.yaml` with the
 * current kubeconfig (or `--context`): `apply`/`up` (server-side apply as field manager
 * `nix2dream`, pruning this deployment's objects that are no longer rendered), `diff`,
 * `delete`/`down` (keeps claims and the namespace unless asked), `status`/`ps` (rollout status
 * per workload, Job completion) and `logs`.
 */
export default function kubectl(opts: KubectlManagerOptions = {}): Manager<"kubectl"> {
  // A KubectlError reaches the CLI, which prints it as `error: manager kubectl: …`.
  const a =
    (f: (ctx: ManagerContext, o: KubectlManagerOptions) => Promise<ActionResult>) =>
    (ctx: ManagerContext) =>
      f(ctx, opts);
  return defineManager({
    name: "kubectl",
    renderer: "k8s",
    module: kubectlManagerModule,
    flags: {
      context: { type: "string", description: "kubeconfig context (default: the current one)" },
      namespace: { type: "string", description: "namespace (default: the rendered one)" },
      timeout: { type: "string", description: "how long status --wait waits, e.g. 5m" },
    },
    descriptions: {
      apply:
        "Server-side apply of the render (field manager nix2dream), pruning what this deployment no longer renders (--no-prune to keep; --force-conflicts).",
      up: "Same as apply.",
      diff: "Show what apply would change (kubectl diff --server-side); exit 1 when something differs.",
      delete:
        "Delete the rendered objects; keeps volume claims (--volumes deletes them) and the namespace (--delete-namespace).",
      down: "Same as delete.",
      status:
        "Rollout status of each Deployment/StatefulSet and completion of each Job (--wait to wait up to --timeout).",
      ps: "Same as status.",
      logs: "Logs of every pod of the deployment or of the named services (--follow, --tail N, --timestamps).",
      restart:
        "kubectl rollout restart of every Deployment and StatefulSet, or of the named services' (Jobs are not restarted).",
      stop: "Not available: Kubernetes has no stopped workload (set `replicas: 0` and `up` instead).",
    },
    actions: {
      apply: a(apply),
      up: a(apply),
      diff: a(diff),
      delete: a(remove),
      down: a(remove),
      status: a(status),
      ps: a(status),
      logs: a(logs),
      restart: a(restart),
      stop: async () => {
        throw new KubectlError(
          "UNSUPPORTED",
          "Kubernetes has no stopped state for a workload: a Deployment or StatefulSet keeps its replicas running.",
          {
            hint: "Set the service's `replicas: 0` and run `nix2dream up`, or `nix2dream down` to remove it.",
          },
        );
      },
    },
  });
}

export { kubectl };

/** @deprecated Use {@link kubectl} (the same function); this name goes in the next minor. */
export const kubectlManager = kubectl;
