import { describe, expect, it } from "vitest";
import {
  cpuQuantity,
  dnsLabel,
  labelsFor,
  namespaceFor,
  portName,
  probesFor,
  resourcesFor,
  securityContextFor,
  selectorFor,
  serviceDnsName,
  waitContainerFor,
} from "../src/index.js";
import { schemaProblems } from "./validate.js";

describe("builders", () => {
  it("dnsLabel makes a DNS-1123 label of any name, unicode and hostile characters included", () => {
    expect(dnsLabel("Api_Server.v2")).toBe("api-server-v2");
    expect(dnsLabel("--ünï'$(x)--")).toBe("n-x");
    expect(dnsLabel("!!!")).toBe("x");
    expect(dnsLabel("a".repeat(80))).toHaveLength(63);
  });

  it("portName keeps valid port names and falls back to p<port>", () => {
    expect(portName("http", 80)).toBe("http");
    expect(portName("Metrics_Port", 9090)).toBe("metrics-port");
    expect(portName("1234", 1234)).toBe("p1234");
    expect(portName("much-too-long-a-name", 7)).toBe("p7");
  });

  it("labelsFor and selectorFor give the standard labels, the selector a subset of them", () => {
    expect(labelsFor("Shop", "api")).toEqual({
      "app.kubernetes.io/name": "api",
      "app.kubernetes.io/instance": "shop",
      "app.kubernetes.io/part-of": "shop",
      "app.kubernetes.io/managed-by": "nix2dream",
    });
    expect(labelsFor("Shop", "api")).toMatchObject(selectorFor("Shop", "api"));
  });

  it("serviceDnsName is the cluster DNS name of a Service", () => {
    expect(serviceDnsName("db", "prod")).toBe("db.prod.svc.cluster.local");
  });

  it("probesFor turns a TCP healthcheck into readiness, liveness and startup probes", () => {
    const hc = {
      type: "tcp" as const,
      port: "pg",
      interval: 2.5,
      timeout: 0.2,
      retries: 0,
      startPeriod: 12,
    };
    expect(probesFor(hc, { liveness: true })).toEqual({
      readinessProbe: {
        tcpSocket: { port: "pg" },
        periodSeconds: 3,
        timeoutSeconds: 1,
        failureThreshold: 1,
      },
      livenessProbe: {
        tcpSocket: { port: "pg" },
        periodSeconds: 3,
        timeoutSeconds: 1,
        failureThreshold: 1,
      },
      startupProbe: {
        tcpSocket: { port: "pg" },
        periodSeconds: 3,
        timeoutSeconds: 1,
        failureThreshold: 5,
      },
    });
  });

  it("resourcesFor and cpuQuantity write Kubernetes quantities", () => {
    expect(cpuQuantity(0.1)).toBe("100m");
    expect(cpuQuantity(3)).toBe("3");
    expect(resourcesFor({ cpu: null, memory: null })).toBeUndefined();
    expect(resourcesFor({ cpu: 0.75, memory: "1Gi" })).toEqual({
      limits: { cpu: "750m", memory: "1Gi" },
    });
  });

  it("securityContextFor takes numeric ids only", () => {
    expect(securityContextFor("1000", "app")).toEqual({ runAsUser: 1000 });
    expect(securityContextFor("app", null)).toBeUndefined();
  });

  it("builds objects and containers that validate against the Kubernetes schema", () => {
    expect(schemaProblems(namespaceFor("shop", "shop"))).toEqual([]);
    const container = waitContainerFor({
      name: "wait-db",
      host: "db",
      port: 5432,
      url: "http://db:5432/x",
    });
    expect(container.command?.[2]).toContain("wget");
    const pod = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "a" },
      spec: {
        selector: { matchLabels: selectorFor("shop", "a") },
        template: {
          metadata: { labels: labelsFor("shop", "a") },
          spec: {
            securityContext: securityContextFor("1", "2"),
            initContainers: [container],
            containers: [
              {
                name: "a",
                image: "a",
                resources: resourcesFor({ cpu: 1, memory: "1Mi" }),
                ...probesFor(
                  {
                    type: "http",
                    port: "http",
                    path: "/",
                    scheme: "https",
                    interval: 1,
                    timeout: 1,
                    retries: 1,
                    startPeriod: 1,
                  },
                  { liveness: true },
                ),
              },
            ],
          },
        },
      },
    };
    expect(schemaProblems(pod)).toEqual([]);
  });
});
