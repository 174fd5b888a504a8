import {
  type DeploymentDefinition,
  evaluateDeployment,
  ref,
  type ServiceDefinition,
} from "@nix2dream/core";
import { artifact } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import k8s, {
  deepMerge,
  type GeneratedObject,
  type K8sOptions,
  type KubernetesObject,
  manifestFiles,
  renderObjects,
  strategicMerge,
} from "../src/index.js";
import { everything, SECRET_VALUE } from "./fixtures/everything.js";
import { kubeletView } from "./kubelet.js";

type Obj = GeneratedObject | KubernetesObject;
// biome-ignore lint/suspicious/noExplicitAny: tests read deep into generated objects
type Any = any;

function evaluate(
  services: Record<string, ServiceDefinition>,
  extra: Partial<DeploymentDefinition> = {},
  opts: K8sOptions = {},
) {
  const definition: DeploymentDefinition = { name: "shop", use: [k8s(opts)], services, ...extra };
  return evaluateDeployment(definition, { file: "nix2dream.config.ts" }).deployment;
}

function render(
  services: Record<string, ServiceDefinition>,
  extra: Partial<DeploymentDefinition> = {},
  opts: K8sOptions = {},
) {
  return renderObjects(evaluate(services, extra, opts), opts);
}

function find(objects: Obj[], kind: string, name: string): Any {
  const o = objects.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!o)
    throw new Error(
      `no ${kind}/${name}; have ${objects.map((x) => `${x.kind}/${x.metadata?.name}`).join(", ")}`,
    );
  return o;
}

const messages = (r: { diagnostics: Array<{ option: string; message: string }> }) =>
  r.diagnostics.map((d) => `${d.option}: ${d.message}`);

describe("workloads", () => {
  it("renders a Deployment for a long-running service, in the deployment's namespace, with the standard labels", () => {
    const { objects } = render({
      api: { package: { image: "api:1" }, command: ["api"], restart: "always" },
    });
    const d = find(objects, "Deployment", "api");
    expect(d.metadata.namespace).toBe("shop");
    expect(d.metadata.labels).toEqual({
      "app.kubernetes.io/name": "api",
      "app.kubernetes.io/instance": "shop",
      "app.kubernetes.io/part-of": "shop",
      "app.kubernetes.io/managed-by": "nix2dream",
    });
    expect(d.spec.selector.matchLabels).toEqual({
      "app.kubernetes.io/name": "api",
      "app.kubernetes.io/instance": "shop",
    });
    expect(d.spec.template.spec.containers[0]).toMatchObject({
      name: "api",
      image: "api:1",
      command: ["api"],
    });
    expect(find(objects, "Namespace", "shop").metadata.labels["app.kubernetes.io/part-of"]).toBe(
      "shop",
    );
  });

  it("renders a StatefulSet with volumeClaimTemplates for a service with a persistent volume", () => {
    const { objects } = render({
      db: {
        package: { image: "pg" },
        ports: { pg: 5432 },
        volumes: { data: { path: "/data", persistent: true, size: "5Gi" } },
      },
    });
    const s = find(objects, "StatefulSet", "db");
    expect(s.spec.serviceName).toBe("db");
    expect(s.spec.volumeClaimTemplates[0]).toMatchObject({
      metadata: { name: "vol-data" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } },
    });
    expect(s.spec.template.spec.containers[0].volumeMounts).toEqual([
      { name: "vol-data", mountPath: "/data" },
    ]);
    expect(s.spec.template.spec.volumes).toBeUndefined();
  });

  it("renders a headless Service for a StatefulSet without ports", () => {
    const { objects } = render({
      q: { package: { image: "q" }, volumes: { d: { path: "/d", persistent: true } } },
    });
    expect(find(objects, "Service", "q").spec).toEqual({
      selector: { "app.kubernetes.io/name": "q", "app.kubernetes.io/instance": "shop" },
      clusterIP: "None",
    });
  });

  it("renders a Job that is never restarted for a service with restart `no`", () => {
    const { objects } = render({
      once: { package: { image: "x" }, command: ["x"], restart: "no" },
    });
    const j = find(objects, "Job", "once");
    expect(j.spec.backoffLimit).toBe(0);
    expect(j.spec.template.spec.restartPolicy).toBe("Never");
  });

  it("renders a Job retried on failure for a service another one waits for with `completed`", () => {
    const r = render({
      migrate: { package: { image: "m" }, restart: { policy: "on-failure", maxRetries: 4 } },
      api: { package: { image: "a" }, dependsOn: { migrate: "completed" } },
    });
    const j = find(r.objects, "Job", "migrate");
    expect(j.spec).toMatchObject({
      backoffLimit: 4,
      template: { spec: { restartPolicy: "OnFailure" } },
    });
    expect(messages(r)).toContainEqual(
      expect.stringContaining(
        "services.api.dependsOn.migrate: A pod cannot wait for the Job `migrate`",
      ),
    );
  });

  it("gives a Job with the default restart settings Kubernetes' backoffLimit without a warning", () => {
    const r = render({
      seed: { package: { image: "s" } },
      api: { package: { image: "a" }, dependsOn: { seed: "completed" } },
    });
    expect(find(r.objects, "Job", "seed").spec).toMatchObject({
      backoffLimit: 6,
      template: { spec: { restartPolicy: "OnFailure" } },
    });
    expect(r.diagnostics.filter((d) => d.service === "seed")).toEqual([]);
  });

  it("renders replicas as the workload's replicas and as a Job's completions", () => {
    const { objects } = render({
      web: { package: { image: "w" }, replicas: 4 },
      batch: { package: { image: "b" }, restart: "no", replicas: 3 },
    });
    expect(find(objects, "Deployment", "web").spec.replicas).toBe(4);
    expect(find(objects, "Job", "batch").spec).toMatchObject({ completions: 3, parallelism: 3 });
  });

  it("honours an explicit workload kind, recreating a Deployment's pods when they hold a claim", () => {
    const { objects } = render({
      db: {
        package: { image: "pg" },
        volumes: { d: { path: "/d", persistent: true } },
        renderers: { k8s: { workload: "Deployment" } },
      },
    });
    const d = find(objects, "Deployment", "db");
    expect(d.spec.template.spec.volumes).toEqual([
      { name: "vol-d", persistentVolumeClaim: { claimName: "db-vol-d" } },
    ]);
    expect(find(objects, "PersistentVolumeClaim", "db-vol-d").spec.resources.requests.storage).toBe(
      "1Gi",
    );
    expect(d.spec.strategy).toEqual({ type: "Recreate" });
  });

  it("renders non-persistent volumes as emptyDir with the size as sizeLimit", () => {
    const { objects } = render({
      a: {
        package: { image: "a" },
        volumes: { tmp: { path: "/tmp/x", persistent: false, size: "64Mi" } },
      },
    });
    expect(find(objects, "Deployment", "a").spec.template.spec.volumes).toEqual([
      { name: "vol-tmp", emptyDir: { sizeLimit: "64Mi" } },
    ]);
  });

  it("runs volume init and check scripts in an init container with the volume mounted", () => {
    const { objects } = render({
      db: {
        package: { image: "pg" },
        env: { A: "1" },
        volumes: {
          data: { path: "/data", persistent: true, init: "initdb .", check: "test -f x" },
        },
      },
    });
    const init = find(objects, "StatefulSet", "db").spec.template.spec.initContainers[0];
    expect(init).toMatchObject({
      name: "init-vol-data",
      image: "pg",
      volumeMounts: [{ name: "vol-data", mountPath: "/data" }],
      env: [{ name: "A", value: "1" }],
    });
    expect(init.command.slice(3)).toEqual(["sh", "/data", "initdb .", "test -f x"]);
  });
});

describe("Services and ports", () => {
  it("renders a ClusterIP Service with named ports targeting the container's named ports", () => {
    const { objects } = render({
      api: {
        package: { image: "a" },
        ports: { http: 8080, grpc: { port: 9000 }, dns: { port: 53, protocol: "udp" } },
      },
    });
    const s = find(objects, "Service", "api");
    expect(s.spec.type).toBe("ClusterIP");
    expect(s.spec.ports).toEqual([
      { name: "dns", port: 53, targetPort: "dns", protocol: "UDP" },
      { name: "grpc", port: 9000, targetPort: "grpc", protocol: "TCP" },
      { name: "http", port: 8080, targetPort: "http", protocol: "TCP" },
    ]);
    expect(
      find(objects, "Deployment", "api").spec.template.spec.containers[0].ports,
    ).toContainEqual({ name: "http", containerPort: 8080, protocol: "TCP" });
  });

  it("publishes exposed ports in a NodePort Service, with hostPort as nodePort when it is in range", () => {
    const r = render({
      api: {
        package: { image: "a" },
        ports: {
          http: { port: 8080, expose: true, hostPort: 30080 },
          admin: { port: 9000 },
          x: { port: 81, hostPort: 8081 },
        },
      },
    });
    const pub = find(r.objects, "Service", "api-public");
    expect(pub.spec.type).toBe("NodePort");
    expect(pub.spec.ports).toEqual([
      { name: "http", port: 8080, targetPort: "http", protocol: "TCP", nodePort: 30080 },
      { name: "x", port: 81, targetPort: "x", protocol: "TCP" },
    ]);
    expect(messages(r)).toContainEqual(
      expect.stringContaining("services.api.ports.x.hostPort: A NodePort must be in 30000-32767"),
    );
  });

  it("publishes exposed ports through a LoadBalancer on hostPort when asked to", () => {
    const { objects } = render({
      api: {
        package: { image: "a" },
        ports: { http: { port: 8080, hostPort: 80 } },
        renderers: { k8s: { exposeAs: "LoadBalancer" } },
      },
    });
    expect(find(objects, "Service", "api-public").spec).toMatchObject({
      type: "LoadBalancer",
      ports: [{ name: "http", port: 80, targetPort: "http" }],
    });
  });

  it("turns port names Kubernetes rejects into valid ones, with a warning", () => {
    const r = render({
      api: {
        package: { image: "a" },
        ports: { metrics_port: 9090, "123": 8123, "a-very-long-port-name": 7000 },
      },
    });
    expect(find(r.objects, "Service", "api").spec.ports.map((p: Any) => p.name)).toEqual([
      "p8123",
      "p7000",
      "metrics-port",
    ]);
    expect(r.diagnostics.filter((d) => d.option.startsWith("services.api.ports.")).length).toBe(3);
  });
});

describe("files and secrets", () => {
  it("renders files into a ConfigMap mounted at their paths with subPath and their modes", () => {
    const { objects } = render({
      api: {
        package: { image: "a" },
        files: { "/etc/app/conf.json": "{}", "/etc/app/key": { text: "k", mode: "0600" } },
      },
    });
    expect(find(objects, "ConfigMap", "api-files").data).toEqual({
      "etc_app_conf.json": "{}",
      etc_app_key: "k",
    });
    const pod = find(objects, "Deployment", "api").spec.template.spec;
    expect(pod.containers[0].volumeMounts).toEqual([
      {
        name: "files",
        mountPath: "/etc/app/conf.json",
        subPath: "etc_app_conf.json",
        readOnly: true,
      },
      { name: "files", mountPath: "/etc/app/key", subPath: "etc_app_key", readOnly: true },
    ]);
    expect(pod.volumes[0].configMap.items).toEqual([
      { key: "etc_app_conf.json", path: "etc_app_conf.json", mode: 0o644 },
      { key: "etc_app_key", path: "etc_app_key", mode: 0o600 },
    ]);
  });

  it("reports a file given by `source` instead of dropping it silently", () => {
    const r = render({
      api: { package: { image: "a" }, files: { "/etc/x": { source: "x.txt" } } },
    });
    expect(r.objects.some((o) => o.kind === "ConfigMap")).toBe(false);
    expect(messages(r)).toContainEqual(
      expect.stringContaining("is not rendered: a renderer reads no files"),
    );
  });

  it("takes secrets from the deployment's default Secret by secretKeyRef, optional when not required", () => {
    const { objects } = render({
      api: {
        package: { image: "a" },
        secrets: { TOKEN: { required: false }, KEY: { required: true } },
      },
    });
    expect(find(objects, "Deployment", "api").spec.template.spec.containers[0].env).toEqual([
      { name: "KEY", valueFrom: { secretKeyRef: { name: "shop-secrets", key: "KEY" } } },
      {
        name: "TOKEN",
        valueFrom: { secretKeyRef: { name: "shop-secrets", key: "TOKEN", optional: true } },
      },
    ]);
    expect(objects.some((o) => o.kind === "Secret")).toBe(false);
  });

  it("takes a secret from the Secret and key the user names", () => {
    const { objects } = render({
      api: {
        package: { image: "a" },
        secrets: { TOKEN: {} },
        renderers: { k8s: { secrets: { TOKEN: { name: "vault-sync", key: "api.token" } } } },
      },
    });
    expect(find(objects, "Deployment", "api").spec.template.spec.containers[0].env).toEqual([
      { name: "TOKEN", valueFrom: { secretKeyRef: { name: "vault-sync", key: "api.token" } } },
    ]);
  });

  it("renders a Secret only for a value the user supplies, and never writes that value in clear", () => {
    const { deployment } = evaluateDeployment(everything, { file: "nix2dream.config.ts" });
    const { artifacts, diagnostics } = k8s({ namespace: "shop-ns" }).render(deployment);
    const secret = parse(artifact(artifacts, "secret-api-secrets.yaml"));
    expect(Buffer.from(secret.data.INLINE, "base64").toString("utf8")).toBe(SECRET_VALUE);
    for (const a of artifacts) expect(String(a.content)).not.toContain("s3cr3t");
    expect(JSON.stringify(diagnostics)).not.toContain("s3cr3t");
    const configMaps = artifacts
      .filter((a) => a.path.startsWith("configmap-"))
      .map((a) => String(a.content));
    for (const c of configMaps) expect(c).not.toContain(secret.data.INLINE);
  });

  it("rejects Secret names and keys Kubernetes would refuse, naming the option", () => {
    const r = render({
      api: {
        package: { image: "a" },
        secrets: { A: {}, B: {} },
        renderers: { k8s: { secrets: { A: { name: "Bad_Name" }, B: { key: "a/b" } } } },
      },
    });
    expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.option)).toEqual([
      "services.api.renderers.k8s.secrets.A.name",
      "services.api.renderers.k8s.secrets.B.key",
    ]);
    expect(
      find(r.objects, "Deployment", "api").spec.template.spec.containers[0].env,
    ).toBeUndefined();
  });

  it("renders one Secret per name for explicit values, and none for a value it rejects", () => {
    const r = render({
      api: {
        package: { image: "a" },
        secrets: { A: {}, B: {}, C: {} },
        renderers: {
          k8s: {
            secrets: {
              A: { value: "1" },
              B: { value: "2", name: "extra" },
              C: { value: "3", key: "c/d" },
            },
          },
        },
      },
    });
    const secrets = r.objects.filter((o) => o.kind === "Secret") as Any[];
    expect(secrets.map((o) => [o.metadata.name, o.data])).toEqual([
      ["api-secrets", { A: "MQ==" }],
      ["extra", { B: "Mg==" }],
    ]);
  });

  it("takes secrets named like Object.prototype members as secrets, and refuses such options no secret declares", () => {
    const r = render({
      api: {
        package: { image: "a" },
        secrets: { constructor: {}, toString: {} },
        renderers: { k8s: { secrets: { toString: { name: "own" }, valueOf: { name: "x" } } } },
      },
    });
    expect(find(r.objects, "Deployment", "api").spec.template.spec.containers[0].env).toEqual([
      {
        name: "constructor",
        valueFrom: { secretKeyRef: { name: "shop-secrets", key: "constructor" } },
      },
      { name: "toString", valueFrom: { secretKeyRef: { name: "own", key: "toString" } } },
    ]);
    expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.option)).toEqual([
      "services.api.renderers.k8s.secrets.valueOf",
    ]);
  });

  it("rejects renderer secret options for variables the service does not declare", () => {
    const r = render({
      api: { package: { image: "a" }, renderers: { k8s: { secrets: { NOPE: { name: "x" } } } } },
    });
    expect(r.diagnostics).toContainEqual(
      expect.objectContaining({
        severity: "error",
        option: "services.api.renderers.k8s.secrets.NOPE",
      }),
    );
  });
});

describe("pod settings", () => {
  it("renders an HTTP healthcheck as a readinessProbe on the named port", () => {
    const { objects } = render({
      api: {
        package: { image: "a" },
        ports: { http: 80 },
        healthcheck: { port: "http", path: "/h", interval: "10s", timeout: "3s", retries: 4 },
      },
    });
    const c = find(objects, "Deployment", "api").spec.template.spec.containers[0];
    expect(c.readinessProbe).toEqual({
      httpGet: { path: "/h", port: "http", scheme: "HTTP" },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 4,
    });
    expect(c.livenessProbe).toBeUndefined();
  });

  it("adds a livenessProbe and a startupProbe covering startPeriod when liveness is on", () => {
    const { objects } = render({
      api: {
        package: { image: "a" },
        ports: { t: 81 },
        healthcheck: { port: "t", interval: "5s", startPeriod: "60s", retries: 3 },
        renderers: { k8s: { liveness: true } },
      },
    });
    const c = find(objects, "Deployment", "api").spec.template.spec.containers[0];
    expect(c.livenessProbe).toEqual(c.readinessProbe);
    expect(c.startupProbe).toEqual({
      tcpSocket: { port: "t" },
      periodSeconds: 5,
      timeoutSeconds: 5,
      failureThreshold: 15,
    });
  });

  it("renders an exec healthcheck with references resolved", () => {
    const { objects } = render({
      db: {
        package: { image: "a" },
        ports: { pg: 5432 },
        healthcheck: { command: ["pg_isready", "-p", ref.db?.ports.pg as string] },
      },
    });
    expect(
      find(objects, "Deployment", "db").spec.template.spec.containers[0].readinessProbe.exec,
    ).toEqual({ command: ["pg_isready", "-p", "5432"] });
  });

  it("renders resources as limits with CPU in millicores", () => {
    const { objects } = render({
      api: { package: { image: "a" }, resources: { cpu: 0.5, memory: "512Mi" } },
      b: { package: { image: "b" }, resources: { cpu: 2 } },
    });
    expect(find(objects, "Deployment", "api").spec.template.spec.containers[0].resources).toEqual({
      limits: { cpu: "500m", memory: "512Mi" },
    });
    expect(find(objects, "Deployment", "b").spec.template.spec.containers[0].resources).toEqual({
      limits: { cpu: "2" },
    });
  });

  it("renders numeric user and group as the pod's securityContext and reports names", () => {
    const ok = render({ a: { package: { image: "a" }, user: "1000", group: "2000" } });
    expect(find(ok.objects, "Deployment", "a").spec.template.spec.securityContext).toEqual({
      runAsUser: 1000,
      runAsGroup: 2000,
      fsGroup: 2000,
    });
    const named = render({ a: { package: { image: "a" }, user: "postgres", group: "postgres" } });
    expect(
      find(named.objects, "Deployment", "a").spec.template.spec.securityContext,
    ).toBeUndefined();
    expect(named.diagnostics.map((d) => d.option)).toEqual(
      expect.arrayContaining(["services.a.user", "services.a.group"]),
    );
  });

  it("renders the stop grace period and a preStop hook for another signal", () => {
    const { objects } = render({
      a: { package: { image: "a" }, stop: { signal: "SIGINT", gracePeriod: "45s" } },
    });
    const pod = find(objects, "Deployment", "a").spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(45);
    expect(pod.containers[0].lifecycle).toEqual({
      preStop: { exec: { command: ["/bin/sh", "-c", "kill -s INT 1"] } },
    });
  });

  it("reports a stop signal it does not deliver when the preStop hook is off", () => {
    const r = render({
      a: {
        package: { image: "a" },
        stop: { signal: "SIGQUIT" },
        renderers: { k8s: { signalViaPreStop: false } },
      },
    });
    expect(
      find(r.objects, "Deployment", "a").spec.template.spec.containers[0].lifecycle,
    ).toBeUndefined();
    expect(messages(r)).toContainEqual(
      expect.stringContaining("services.a.stop.signal: Kubernetes stops containers with SIGTERM"),
    );
  });

  it("reports the restart settings Kubernetes cannot express", () => {
    const r = render({
      a: {
        package: { image: "a" },
        restart: { policy: "on-failure", maxRetries: 3, backoff: { max: "2m" } },
      },
    });
    expect(r.diagnostics.map((d) => d.option)).toEqual(
      expect.arrayContaining([
        "services.a.restart.policy",
        "services.a.restart.maxRetries",
        "services.a.restart.backoff",
      ]),
    );
  });

  it("does not report the default restart policy the user never set", () => {
    const r = render({ a: { package: { image: "a" } } });
    expect(r.diagnostics.filter((d) => d.option.startsWith("services.a.restart"))).toEqual([]);
  });

  it("does not take a service named `a.restart` for a definition of `a`'s restart", () => {
    // Both make the dotted path `services.a.restart`; `a` leaves its restart policy unset.
    const r = render({ a: { package: { image: "a" } }, "a.restart": { package: { image: "b" } } });
    expect(r.diagnostics.filter((d) => d.option === "services.a.restart.policy")).toEqual([]);
  });

  it("runs preStart in the container's shell before exec'ing the program", () => {
    const { objects } = render({
      a: {
        package: { image: "a" },
        command: ["app", "--x"],
        args: ["y"],
        preStart: "mkdir -p /run/a",
      },
    });
    const container = find(objects, "Deployment", "a").spec.template.spec.containers[0];
    expect(kubeletView(container).command).toEqual([
      "/bin/sh",
      "-ec",
      'eval "$1"; shift; exec "$@"',
      "sh",
      "mkdir -p /run/a",
      "app",
      "--x",
      "y",
    ]);
  });

  it("passes args alone so that the image's entrypoint is kept", () => {
    const { objects } = render({ a: { package: { image: "redis:7" }, args: ["--port", "7000"] } });
    const c = find(objects, "Deployment", "a").spec.template.spec.containers[0];
    expect(c.command).toBeUndefined();
    expect(c.args).toEqual(["--port", "7000"]);
  });

  it("uses a derived image name and reports it when the service has no image", () => {
    const r = render({ a: { package: { nix: "nixpkgs#hello" }, command: ["hello"] } });
    expect(find(r.objects, "Deployment", "a").spec.template.spec.containers[0].image).toBe(
      "shop/a:latest",
    );
    expect(messages(r)).toContainEqual(
      expect.stringContaining("services.a.package: The Nix package `nixpkgs#hello` is not built"),
    );
  });
});

describe("references and dependencies", () => {
  it("resolves references to Service DNS names and Service ports", () => {
    const { objects } = render(
      {
        db: { package: { image: "pg" }, ports: { pg: 5432 } },
        api: {
          package: { image: "a" },
          env: {
            URL: `postgres://${ref.db?.host}:${ref.db?.ports.pg}/x`,
            ADDR: ref.db?.address.pg as string,
          },
          args: [ref.db?.host as string],
        },
      },
      {},
      { namespace: "prod" },
    );
    const c = find(objects, "Deployment", "api").spec.template.spec.containers[0];
    expect(c.env).toEqual([
      { name: "ADDR", value: "db.prod.svc.cluster.local:5432" },
      { name: "URL", value: "postgres://db.prod.svc.cluster.local:5432/x" },
    ]);
    expect(c.args).toEqual(["db.prod.svc.cluster.local"]);
  });

  it("warns that another service's volume is not shared on Kubernetes", () => {
    const r = render({
      api: { package: { image: "a" }, volumes: { data: { path: "/data" } } },
      job: { package: { image: "j" }, env: { DIR: ref.api?.volumes.data as string } },
    });
    expect(find(r.objects, "Deployment", "job").spec.template.spec.containers[0].env).toEqual([
      { name: "DIR", value: "/data" },
    ]);
    expect(messages(r)).toContainEqual(expect.stringContaining("do not share that volume"));
  });

  it("waits for dependencies with init containers: TCP for started, HTTP for healthy HTTP healthchecks", () => {
    const { objects } = render({
      db: { package: { image: "pg" }, ports: { pg: 5432 } },
      web: {
        package: { image: "w" },
        ports: { http: 80 },
        healthcheck: { port: "http", path: "/ready" },
      },
      api: { package: { image: "a" }, dependsOn: { db: "started", web: "healthy" } },
    });
    const init = find(objects, "Deployment", "api").spec.template.spec.initContainers;
    expect(init.map((c: Any) => [c.name, c.image, c.env])).toEqual([
      [
        "wait-db",
        "busybox:1.36",
        [
          { name: "WAIT_HOST", value: "db.shop.svc.cluster.local" },
          { name: "WAIT_PORT", value: "5432" },
          { name: "WAIT_URL", value: "" },
        ],
      ],
      [
        "wait-web",
        "busybox:1.36",
        [
          { name: "WAIT_HOST", value: "web.shop.svc.cluster.local" },
          { name: "WAIT_PORT", value: "80" },
          { name: "WAIT_URL", value: "http://web.shop.svc.cluster.local:80/ready" },
        ],
      ],
    ]);
    expect(init[0].command[2]).toContain("nc -w 2");
    expect(init[1].command[2]).toContain("wget");
  });

  it("uses the configured wait image and command", () => {
    const { objects } = render(
      {
        db: { package: { image: "pg" }, ports: { pg: 5432 } },
        api: { package: { image: "a" }, dependsOn: ["db"] },
      },
      { renderers: { k8s: { waitImage: "mirror/busybox", waitCommand: ["/wait", "--tcp"] } } },
    );
    expect(find(objects, "Deployment", "api").spec.template.spec.initContainers[0]).toMatchObject({
      image: "mirror/busybox",
      command: ["/wait", "--tcp"],
    });
  });

  it("renders no wait init containers and warns when waiting is off", () => {
    const r = render(
      {
        db: { package: { image: "pg" }, ports: { pg: 5432 } },
        api: { package: { image: "a" }, dependsOn: ["db"] },
      },
      {},
      { waitForDependencies: false },
    );
    expect(find(r.objects, "Deployment", "api").spec.template.spec.initContainers).toBeUndefined();
    expect(messages(r)).toContainEqual(
      expect.stringContaining("services.api.dependsOn: Kubernetes starts pods in any order"),
    );
  });
});

describe("escape hatches", () => {
  it("deep-merges a per-service override by kind, merging named list items by name", () => {
    const { objects } = render({
      api: {
        package: { image: "a" },
        ports: { http: 80 },
        renderers: {
          k8s: {
            override: {
              Deployment: {
                spec: {
                  template: {
                    spec: {
                      containers: [{ name: "api", imagePullPolicy: "Never" }],
                      nodeSelector: { disk: "ssd" },
                    },
                  },
                },
              },
              Service: { spec: { type: null } },
            },
          },
        },
      },
    });
    const pod = find(objects, "Deployment", "api").spec.template.spec;
    expect(pod.containers[0]).toMatchObject({ name: "api", image: "a", imagePullPolicy: "Never" });
    expect(pod.nodeSelector).toEqual({ disk: "ssd" });
    expect(find(objects, "Service", "api").spec.type).toBeUndefined();
  });

  it("deep-merges a per-service override by kind and name into that object only, and reports one that matches nothing", () => {
    const r = render({
      api: {
        package: { image: "a" },
        ports: { http: { port: 80, expose: true } },
        renderers: {
          k8s: {
            override: {
              "Service/api-public": { spec: { externalTrafficPolicy: "Local" } },
              "Job/api": { spec: {} },
            },
          },
        },
      },
    });
    expect(find(r.objects, "Service", "api-public").spec.externalTrafficPolicy).toBe("Local");
    expect(find(r.objects, "Service", "api").spec.externalTrafficPolicy).toBeUndefined();
    expect(messages(r)).toContainEqual(
      "services.api.renderers.k8s.override.Job/api: `api` has no Job/api; this override is not used.",
    );
  });

  it("deep-merges deployment-wide overrides by kind and by kind/name, and reports one that matches nothing", () => {
    const r = render(
      { a: { package: { image: "a" } }, b: { package: { image: "b" } } },
      {
        renderers: {
          k8s: {
            override: {
              Deployment: { spec: { revisionHistoryLimit: 1 } },
              "Deployment/b": { spec: { paused: true } },
              "Job/none": { spec: {} },
            },
          },
        },
      },
    );
    expect(find(r.objects, "Deployment", "a").spec).toMatchObject({ revisionHistoryLimit: 1 });
    expect(find(r.objects, "Deployment", "a").spec.paused).toBeUndefined();
    expect(find(r.objects, "Deployment", "b").spec).toMatchObject({
      revisionHistoryLimit: 1,
      paused: true,
    });
    expect(messages(r)).toContainEqual(
      "renderers.k8s.override.Job/none: No rendered object matches `Job/none`; this override is not used.",
    );
  });

  it("renders extra manifests after the generated objects, labelled as part of the deployment, and reports malformed ones", () => {
    const r = render(
      { a: { package: { image: "a" } } },
      {
        renderers: {
          k8s: {
            manifests: [
              { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "runner" } },
              { kind: "Broken" },
            ],
          },
        },
      },
    );
    expect(r.objects.at(-1)).toEqual({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: {
        name: "runner",
        labels: {
          "app.kubernetes.io/part-of": "shop",
          "app.kubernetes.io/managed-by": "nix2dream",
        },
      },
    });
    expect(r.diagnostics).toContainEqual(
      expect.objectContaining({ severity: "error", option: "renderers.k8s.manifests" }),
    );
  });

  it("strategicMerge is what the deprecated deepMerge alias names", () => {
    expect(deepMerge).toBe(strategicMerge);
  });

  it("strategicMerge leaves its inputs unchanged", () => {
    const base = { a: { b: [1, 2] }, c: [{ name: "x", v: 1 }] };
    const patch = { a: { b: [3] }, c: [{ name: "x", v: 2 }, { name: "y" }] };
    const merged = strategicMerge(base, patch);
    expect(merged).toEqual({ a: { b: [3] }, c: [{ name: "x", v: 2 }, { name: "y" }] });
    expect(base).toEqual({ a: { b: [1, 2] }, c: [{ name: "x", v: 1 }] });
  });
});

describe("names, options and output", () => {
  it("names objects of services whose names are not DNS labels with converted names, and reports collisions", () => {
    const r = render({
      Api_Server: { package: { image: "a" } },
      "api.server": { package: { image: "b" } },
    });
    expect(r.objects.filter((o) => o.kind === "Deployment").map((o) => o.metadata?.name)).toEqual([
      "api-server",
    ]);
    expect(r.diagnostics).toContainEqual(
      expect.objectContaining({ severity: "error", option: "services.api.server" }),
    );
  });

  it("lets renderers.k8s options win over the factory options", () => {
    const { namespace, objects } = render(
      { a: { package: { image: "a" } } },
      { renderers: { k8s: { namespace: "from-config", createNamespace: false } } },
      { namespace: "from-factory" },
    );
    expect(namespace).toBe("from-config");
    expect(objects.some((o) => o.kind === "Namespace")).toBe(false);
  });

  it("writes all.yaml, one file per object and a kustomization listing those files", () => {
    const d = evaluate({ api: { package: { image: "a" }, ports: { http: 80 } } });
    const { artifacts } = k8s().render(d);
    expect(artifacts.map((a) => a.path)).toEqual([
      "all.yaml",
      "namespace-shop.yaml",
      "service-api.yaml",
      "deployment-api.yaml",
      "kustomization.yaml",
    ]);
    expect(parse(artifact(artifacts, "kustomization.yaml"))).toEqual({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: ["namespace-shop.yaml", "service-api.yaml", "deployment-api.yaml"],
    });
    expect(artifact(artifacts, "all.yaml")).toBe(
      [
        artifact(artifacts, "namespace-shop.yaml"),
        artifact(artifacts, "service-api.yaml"),
        artifact(artifacts, "deployment-api.yaml"),
      ].join("---\n"),
    );
  });

  it("renders byte-identical output for the same deployment, whatever order services were defined in", () => {
    const { deployment } = evaluateDeployment(everything, { file: "nix2dream.config.ts" });
    const reversed = {
      ...everything,
      services: Object.fromEntries(Object.entries(everything.services).reverse()),
    };
    const again = evaluateDeployment(reversed, { file: "nix2dream.config.ts" }).deployment;
    const a = k8s().render(deployment);
    const b = k8s().render(again);
    expect(b.artifacts).toEqual(a.artifacts);
    expect(b.diagnostics).toEqual(a.diagnostics);
  });

  it("writes the files of renderObjects' objects, with and without deployment-wide overrides", () => {
    // Without an override each object is written as soon as it is made; with one, at the end.
    const { override: _, ...noOverride } = everything.renderers.k8s;
    for (const def of [everything, { ...everything, renderers: { k8s: noOverride } }]) {
      const { deployment } = evaluateDeployment(def, { file: "nix2dream.config.ts" });
      const { objects, diagnostics } = renderObjects(deployment);
      const rendered = k8s().render(deployment);
      expect(rendered.artifacts).toEqual(manifestFiles(objects));
      expect(rendered.diagnostics).toEqual(diagnostics);
    }
  });

  it("is usable without the CLI: evaluateDeployment then renderObjects gives typed objects", () => {
    const { deployment } = evaluateDeployment({
      name: "lib",
      use: [k8s()],
      services: { a: { package: { image: "a" }, replicas: 2 } },
    });
    const { objects } = renderObjects(deployment);
    const d = objects.find(
      (o): o is Extract<GeneratedObject, { kind: "Deployment" }> => o.kind === "Deployment",
    );
    expect(d?.spec?.replicas).toBe(2);
  });
});

describe("diagnostics name the file that defined the option", () => {
  it("names the module file for a nested option such as services.api.restart.policy", () => {
    const deployment = evaluateDeployment(
      {
        name: "shop",
        use: [k8s()],
        services: { api: { package: { image: "api:1" }, command: ["api"] } },
        modules: [
          { file: "modules/restart.ts", config: { services: { api: { restart: "on-failure" } } } },
        ],
      },
      { file: "nix2dream.config.ts" },
    ).deployment;
    const d = renderObjects(deployment).diagnostics.find(
      (x) => x.option === "services.api.restart.policy",
    );
    expect(d?.files).toEqual(["modules/restart.ts"]);
  });
});

describe("Kubernetes' own limits", () => {
  it("refuses a ConfigMap over 1 MiB with an error naming the file option and its file", () => {
    const { diagnostics } = render({
      api: {
        package: { image: "api:1" },
        files: { "/etc/small": "x", "/etc/big": "y".repeat(1024 * 1024) },
      },
    });
    const errors = diagnostics.filter((d) => d.severity === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      option: "services.api.files./etc/big",
      files: ["nix2dream.config.ts"],
    });
    expect(errors[0]?.message).toContain("1048577 bytes");
  });

  it("accepts a ConfigMap of exactly 1 MiB", () => {
    const { diagnostics } = render({
      api: { package: { image: "api:1" }, files: { "/etc/big": "y".repeat(1024 * 1024) } },
    });
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });

  it("refuses a Secret whose configured values are over 1 MiB", () => {
    const { diagnostics } = render(
      { api: { package: { image: "api:1" }, secrets: { BIG: {} } } },
      {
        modules: [
          {
            file: "modules/secret.ts",
            config: {
              services: {
                api: { renderers: { k8s: { secrets: { BIG: { value: "s".repeat(1048577) } } } } },
              },
            },
          },
        ],
      },
    );
    const error = diagnostics.find((d) => d.severity === "error");
    expect(error?.option).toBe("services.api.renderers.k8s.secrets");
    expect(error?.files).toEqual(["modules/secret.ts"]);
  });

  it("refuses a StatefulSet name over 52 characters, whose pods' controller-revision-hash label would be over 63", () => {
    const volumes = { data: { path: "/data", persistent: true } };
    const ok = `a${"b".repeat(51)}`;
    const long = `a${"b".repeat(52)}`;
    const { diagnostics } = render({
      [ok]: { package: { image: "db:1" }, volumes },
      [long]: { package: { image: "db:1" }, volumes },
    });
    const errors = diagnostics.filter((d) => d.severity === "error");
    expect(errors.map((d) => [d.option, d.files])).toEqual([
      [`services.${long}`, ["nix2dream.config.ts"]],
    ]);
    expect(errors[0]?.message).toContain("controller-revision-hash");
    expect(errors[0]?.message).toContain("at most 52 characters");
  });

  it("refuses a Service name over 63 characters (the public Service of a 60-character service)", () => {
    const name = `a${"b".repeat(59)}`;
    const { diagnostics } = render({
      [name]: { package: { image: "api:1" }, ports: { http: { port: 80, expose: true } } },
    });
    const errors = diagnostics.filter((d) => d.severity === "error");
    expect(errors.map((d) => d.option)).toEqual([`services.${name}`]);
    expect(errors[0]?.message).toContain(`${name}-public`);
  });
});
