/**
 * The manager's behaviour against a FAKE kubectl (`fixtures/fake-kubectl.mjs`), because no
 * Kubernetes API server can run on these machines: the fake records the exact argv and replays
 * scripted answers. `real-kubectl.test.ts` runs the same argv through the real kubectl client.
 */
import { evaluateDeployment } from "@nix2dream/core";
import k8s from "@nix2dream/render-k8s";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import kubectl from "../src/index.js";
import {
  context,
  FAKE_KUBECTL,
  type FakeRule,
  fail,
  fakeSession,
  run,
  tempDir,
} from "./helpers.js";
import { writeRender } from "./render.js";

const temps: Array<() => void> = [];
afterAll(() => {
  for (const r of temps) r();
});

let dir = "";
let renderDir = "";
let deployment: ReturnType<typeof evaluateDeployment>["deployment"];
beforeAll(() => {
  const t = tempDir("manager");
  temps.push(t.remove);
  dir = t.dir;
  ({ deployment, renderDir } = writeRender(dir));
});

function setup(rules: FakeRule[] = [], opts: Parameters<typeof kubectl>[0] = {}) {
  const t = tempDir("fake");
  temps.push(t.remove);
  const session = fakeSession(t.dir, rules);
  const manager = kubectl({ kubectl: FAKE_KUBECTL, env: session.env, ...opts });
  return { manager, session };
}

const ALL = () => `${renderDir}/all.yaml`;

describe("apply", () => {
  it("applies server-side as field manager nix2dream and prunes by the deployment's labels", async () => {
    const { manager, session } = setup([
      { match: ["apply"], stdout: "deployment.apps/api serverside-applied\n" },
    ]);
    const r = await run(manager.actions.apply, context(deployment, renderDir));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("deployment.apps/api serverside-applied\n");
    expect(session.calls()).toEqual([
      [
        "apply",
        "--server-side",
        "--field-manager=nix2dream",
        "-f",
        ALL(),
        "--prune",
        "-l",
        "app.kubernetes.io/part-of=shop,app.kubernetes.io/managed-by=nix2dream",
        "--prune-allowlist=apps/v1/Deployment",
        "--prune-allowlist=apps/v1/StatefulSet",
        "--prune-allowlist=batch/v1/Job",
        "--prune-allowlist=core/v1/ConfigMap",
        "--prune-allowlist=core/v1/PersistentVolumeClaim",
        "--prune-allowlist=core/v1/Secret",
        "--prune-allowlist=core/v1/Service",
        "--prune-allowlist=core/v1/ServiceAccount",
      ],
    ]);
  });

  it("is what up does", async () => {
    const { manager, session } = setup();
    await run(manager.actions.up, context(deployment, renderDir));
    expect(session.calls()[0]?.slice(0, 3)).toEqual([
      "apply",
      "--server-side",
      "--field-manager=nix2dream",
    ]);
  });

  it("passes --context and --namespace, and skips pruning with --no-prune", async () => {
    const { manager, session } = setup();
    await run(
      manager.actions.apply,
      context(deployment, renderDir, [], {
        context: "prod",
        namespace: "other",
        "no-prune": true,
        "force-conflicts": true,
      }),
    );
    expect(session.calls()).toEqual([
      [
        "--context",
        "prod",
        "apply",
        "--server-side",
        "--field-manager=nix2dream",
        "--force-conflicts",
        "--namespace",
        "other",
        "-f",
        ALL(),
      ],
    ]);
  });

  it("takes the context from the manager options when no flag is given", async () => {
    const { manager, session } = setup([], { context: "staging" });
    await run(manager.actions.apply, context(deployment, renderDir));
    expect(session.calls()[0]?.slice(0, 3)).toEqual(["--context", "staging", "apply"]);
  });

  it("fails with kubectl's message when the apply fails", async () => {
    const { manager } = setup([
      {
        match: ["apply"],
        stderr: 'Error from server (Forbidden): deployments.apps "api" is forbidden\n',
        code: 1,
      },
    ]);
    const r = await run(manager.actions.apply, context(deployment, renderDir));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("is forbidden");
  });

  it("says so clearly when no cluster answers", async () => {
    const { manager } = setup([
      {
        match: ["apply"],
        stderr:
          "The connection to the server localhost:8080 was refused - did you specify the right host or port?\n",
        code: 1,
      },
    ]);
    const r = await fail(
      manager.actions.apply,
      context(deployment, renderDir, [], { context: "kind-dev" }),
    );
    expect(r.error).toMatchObject({ code: "NO_CLUSTER", source: "manager kubectl" });
    expect(r.error.message).toBe(
      "No Kubernetes cluster answered for context `kind-dev`: The connection to the server localhost:8080 was refused - did you specify the right host or port? Check `kubectl config current-context`, KUBECONFIG, and that the cluster is running; choose another with --context.",
    );
    expect(r.stderr).toBe("");
  });

  it("says so clearly when there is no render to apply", async () => {
    const { manager, session } = setup();
    const empty = tempDir("empty");
    temps.push(empty.remove);
    const r = await fail(manager.actions.apply, context(deployment, empty.dir));
    expect(r.error.code).toBe("NO_RENDER");
    expect(r.error.message).toContain("render the deployment with render-k8s first");
    expect(session.calls()).toEqual([]);
  });
});

describe("diff", () => {
  it("runs a server-side diff and passes on its exit code 1 for differences", async () => {
    const { manager, session } = setup([
      { match: ["diff"], stdout: "-  replicas: 1\n+  replicas: 3\n", code: 1 },
    ]);
    const r = await run(manager.actions.diff, context(deployment, renderDir));
    expect(r.exitCode).toBe(1);
    expect(r.data).toEqual({ changed: true });
    expect(r.stdout).toContain("+  replicas: 3");
    expect(session.calls()).toEqual([
      ["diff", "--server-side", "--field-manager=nix2dream", "-f", ALL()],
    ]);
  });

  it("says that nothing differs when kubectl diff exits 0", async () => {
    const { manager } = setup();
    const r = await run(manager.actions.diff, context(deployment, renderDir));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("No differences: the cluster matches the render.\n");
  });
});

describe("delete", () => {
  it("deletes the rendered objects per namespace but keeps claims and the namespace", async () => {
    const { manager, session } = setup();
    const r = await run(manager.actions.delete, context(deployment, renderDir));
    expect(r.exitCode).toBe(0);
    expect(session.calls()).toEqual([
      // The extra manifest has no namespace: it lives in kubectl's current one, as on apply.
      ["delete", "--ignore-not-found", "--wait=true", "--timeout=120s", "serviceaccount/runner"],
      [
        "delete",
        "--namespace",
        "shop",
        "--ignore-not-found",
        "--wait=true",
        "--timeout=120s",
        "secret/api-secrets",
        "configmap/api-files",
        "service/api",
        "service/api-public",
        "service/db",
        "deployment.v1.apps/api",
        "statefulset.v1.apps/db",
        "job.v1.batch/migrate",
      ],
    ]);
    expect(r.stdout).toContain("Kept Namespace/shop, PersistentVolumeClaim/migrate-vol-out");
  });

  it("also deletes claims, including those of StatefulSets, with --volumes, and the namespace with --delete-namespace", async () => {
    const { manager, session } = setup();
    await run(
      manager.actions.down,
      context(deployment, renderDir, [], {
        volumes: true,
        "delete-namespace": true,
        timeout: "30s",
      }),
    );
    const calls = session.calls();
    expect(calls[1]).toContain("persistentvolumeclaim/migrate-vol-out");
    expect(calls[2]).toEqual([
      "delete",
      "persistentvolumeclaims",
      "--namespace",
      "shop",
      "-l",
      "app.kubernetes.io/part-of=shop,app.kubernetes.io/managed-by=nix2dream",
      "--ignore-not-found",
      "--wait=true",
      "--timeout=30s",
    ]);
    expect(calls[3]).toEqual([
      "delete",
      "--ignore-not-found",
      "--wait=true",
      "--timeout=30s",
      "namespace/shop",
    ]);
    expect(calls.length).toBe(4);
  });
});

describe("status", () => {
  it("reports rollout status per workload and Job completion, without waiting by default", async () => {
    const { manager, session } = setup([
      {
        match: ["rollout", "deployment.v1.apps/api"],
        stdout: 'deployment "api" successfully rolled out\n',
      },
      {
        match: ["rollout", "statefulset.v1.apps/db"],
        stdout: "Waiting for 1 pods to be ready...\n",
      },
      {
        match: ["wait", "job.v1.batch/migrate"],
        stderr: "error: timed out waiting for the condition on jobs/migrate\n",
        code: 1,
      },
    ]);
    const r = await run(manager.actions.status, context(deployment, renderDir));
    expect(session.calls()).toEqual([
      [
        "rollout",
        "status",
        "--namespace",
        "shop",
        "--watch=false",
        "--timeout=120s",
        "deployment.v1.apps/api",
      ],
      [
        "rollout",
        "status",
        "--namespace",
        "shop",
        "--watch=false",
        "--timeout=120s",
        "statefulset.v1.apps/db",
      ],
      [
        "wait",
        "--namespace",
        "shop",
        "--for=condition=complete",
        "--timeout=0s",
        "job.v1.batch/migrate",
      ],
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.data).toEqual([
      {
        kind: "Deployment",
        name: "api",
        namespace: "shop",
        ready: true,
        message: 'deployment "api" successfully rolled out',
      },
      {
        kind: "StatefulSet",
        name: "db",
        namespace: "shop",
        ready: false,
        message: "Waiting for 1 pods to be ready...",
      },
      {
        kind: "Job",
        name: "migrate",
        namespace: "shop",
        ready: false,
        message: "timed out waiting for the condition on jobs/migrate",
      },
    ]);
    expect(r.stdout.split("\n")[0]).toBe(
      'ready    Deployment/api  deployment "api" successfully rolled out',
    );
  });

  it("waits up to --timeout with --wait, for the named services only, and exits 0 when all are ready", async () => {
    const { manager, session } = setup([
      { match: ["wait"], stdout: "job.batch/migrate condition met\n" },
    ]);
    const r = await run(
      manager.actions.ps,
      context(deployment, renderDir, ["migrate"], { wait: true, timeout: "5m" }),
    );
    expect(session.calls()).toEqual([
      [
        "wait",
        "--namespace",
        "shop",
        "--for=condition=complete",
        "--timeout=5m",
        "job.v1.batch/migrate",
      ],
    ]);
    expect(r.exitCode).toBe(0);
  });
});

describe("logs", () => {
  it("reads the logs of every pod of the deployment by label", async () => {
    const { manager, session } = setup([{ match: ["logs"], stdout: "[pod/api-1/api] hello\n" }]);
    const r = await run(manager.actions.logs, context(deployment, renderDir, [], { tail: "20" }));
    expect(r.stdout).toBe("[pod/api-1/api] hello\n");
    expect(session.calls()).toEqual([
      [
        "logs",
        "--namespace",
        "shop",
        "-l",
        "app.kubernetes.io/part-of=shop,app.kubernetes.io/managed-by=nix2dream",
        "--all-containers=true",
        "--prefix=true",
        "--tail=20",
        "--max-log-requests=50",
      ],
    ]);
  });

  it("selects the named services and follows with --follow", async () => {
    const { manager, session } = setup();
    await run(
      manager.actions.logs,
      context(deployment, renderDir, ["api", "db"], { follow: true, timestamps: true }),
    );
    expect(session.calls()[0]).toEqual([
      "logs",
      "--namespace",
      "shop",
      "-l",
      "app.kubernetes.io/instance=shop,app.kubernetes.io/name in (api,db)",
      "--all-containers=true",
      "--prefix=true",
      "--tail=-1",
      "--max-log-requests=50",
      "--follow=true",
      "--timestamps=true",
    ]);
  });

  it("rejects a service that is not in the render", async () => {
    const { manager, session } = setup();
    const r = await fail(manager.actions.logs, context(deployment, renderDir, ["nope"]));
    expect(r.error.code).toBe("BAD_ARGS");
    expect(r.error.message).toBe("No workload named nope in the render (have api, db, migrate).");
    expect(session.calls()).toEqual([]);
  });
});

describe("restart", () => {
  it("rolls out a restart of each Deployment and StatefulSet, not of the Job", async () => {
    const { manager, session } = setup();
    const r = await run(manager.actions.restart, context(deployment, renderDir));
    expect(r.exitCode).toBe(0);
    expect(session.calls()).toEqual([
      ["rollout", "restart", "--namespace", "shop", "deployment.v1.apps/api"],
      ["rollout", "restart", "--namespace", "shop", "statefulset.v1.apps/db"],
    ]);
  });

  it("restarts only the named service, and names an unknown one", async () => {
    const { manager, session } = setup();
    await run(manager.actions.restart, context(deployment, renderDir, ["db"]));
    expect(session.calls()).toEqual([
      ["rollout", "restart", "--namespace", "shop", "statefulset.v1.apps/db"],
    ]);
    const r = await fail(manager.actions.restart, context(deployment, renderDir, ["nope"]));
    expect(r.error.message).toBe("No workload named nope in the render (have api, db, migrate).");
  });
});

describe("stop", () => {
  it("is refused with the reason and what to do instead, without calling kubectl", async () => {
    const { manager, session } = setup();
    const r = await fail(manager.actions.stop, context(deployment, renderDir, ["api"]));
    expect(r.error).toMatchObject({ code: "UNSUPPORTED", source: "manager kubectl" });
    expect(r.error.message).toMatch(/^Kubernetes has no stopped state for a workload/);
    expect(r.error.hint).toContain("`replicas: 0`");
    expect(session.calls()).toEqual([]);
  });
});

describe("kubectl itself", () => {
  it("says clearly that kubectl is missing", async () => {
    const manager = kubectl({ kubectl: "/nonexistent/kubectl" });
    const r = await fail(manager.actions.status, context(deployment, renderDir));
    expect(r.error.code).toBe("KUBECTL_MISSING");
    expect(r.error.message).toBe(
      "kubectl was not found (`/nonexistent/kubectl` is not on PATH). Install kubectl (https://kubernetes.io/docs/tasks/tools/) or set `managers.kubectl.kubectl` to its path.",
    );
  });

  it("takes kubectl and the context from managers.kubectl in the config", async () => {
    const t = tempDir("config");
    temps.push(t.remove);
    const session = fakeSession(t.dir);
    const manager = kubectl({ env: session.env });
    const { deployment: d } = evaluateDeployment({
      name: "shop",
      use: [k8s(), manager],
      services: {},
      managers: { kubectl: { kubectl: FAKE_KUBECTL, context: "from-config" } },
    });
    await run(manager.actions.diff, context(d, renderDir));
    expect(session.calls()[0]?.slice(0, 3)).toEqual(["--context", "from-config", "diff"]);
  });
});

describe("arguments", () => {
  it("rejects a value flag given without a value", async () => {
    const { manager, session } = setup();
    const r = await fail(
      manager.actions.apply,
      context(deployment, renderDir, ["prod"], { context: true }),
    );
    expect(r.error.code).toBe("BAD_ARGS");
    expect(r.error.message).toBe("`--context` needs a value: write `--context <value>`.");
    expect(session.calls()).toEqual([]);
  });

  it("rejects status for a service that is not in the render", async () => {
    const { manager, session } = setup();
    const r = await fail(manager.actions.status, context(deployment, renderDir, ["3s"]));
    expect(r.error.code).toBe("BAD_ARGS");
    expect(r.error.message).toBe("No workload named 3s in the render (have api, db, migrate).");
    expect(session.calls()).toEqual([]);
  });
});
