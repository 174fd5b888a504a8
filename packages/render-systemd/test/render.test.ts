import { type DeploymentDefinition, evaluateDeployment, serviceRef } from "@nix2dream/core";
import { artifact } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import systemd, { serviceUnitName, targetUnitName } from "../src/index.js";
import { unitValues } from "./helpers.js";

function render(
  services: DeploymentDefinition["services"],
  extra: Partial<DeploymentDefinition> = {},
) {
  const definition = { name: "t", use: [systemd()], services, ...extra } as DeploymentDefinition;
  const { deployment } = evaluateDeployment(definition, {
    file: "/x/nix2dream.config.ts",
    root: "/x",
  });
  return systemd().render(deployment);
}

const unit = (r: ReturnType<typeof render>, svc: string) =>
  artifact(r.artifacts, serviceUnitName("t", svc));

describe("render-systemd", () => {
  it("writes one service unit per service and a target that wants them all", () => {
    const r = render({ a: { command: ["/bin/true"] }, b: { command: ["/bin/true"] } });
    expect(r.artifacts.map((a) => a.path)).toEqual(["t-a.service", "t-b.service", "t.target"]);
    const target = artifact(r.artifacts, targetUnitName("t"));
    expect(unitValues(target, "Unit", "Wants")).toEqual(["t-a.service", "t-b.service"]);
    expect(unitValues(target, "Install", "WantedBy")).toEqual(["default.target"]);
    expect(unitValues(unit(r, "a"), "Unit", "PartOf")).toEqual(["t.target"]);
    expect(unitValues(unit(r, "a"), "Install", "WantedBy")).toEqual(["t.target"]);
  });

  it("maps started dependencies to Wants and After, healthy and completed ones to Requires and After", () => {
    const r = render({
      db: { command: ["/bin/true"], ports: { pg: 5432 }, healthcheck: { port: "pg" } },
      cache: { command: ["/bin/true"] },
      migrate: { command: ["/bin/true"], restart: { policy: "on-failure" } },
      api: {
        command: ["/bin/true"],
        dependsOn: { db: "healthy", cache: "started", migrate: "completed" },
      },
    });
    const api = unit(r, "api");
    expect(unitValues(api, "Unit", "Wants")).toEqual(["t-cache.service"]);
    expect(unitValues(api, "Unit", "Requires")).toEqual(["t-db.service", "t-migrate.service"]);
    expect(unitValues(api, "Unit", "After")).toEqual([
      "t-cache.service",
      "t-db.service",
      "t-migrate.service",
    ]);
    expect(unitValues(unit(r, "migrate"), "Service", "Type")).toEqual(["oneshot"]);
    expect(unitValues(unit(r, "migrate"), "Service", "RemainAfterExit")).toEqual(["yes"]);
    expect(unitValues(unit(r, "db"), "Service", "ExecStartPost")).toHaveLength(1);
    expect(unitValues(unit(r, "db"), "Service", "Type")).toEqual(["exec"]);
  });

  it("maps restart, stop and resources onto their systemd settings", () => {
    const r = render({
      a: {
        command: ["/bin/true"],
        restart: { policy: "always", maxRetries: 4, backoff: { initial: 2, factor: 1, max: 2 } },
        stop: { signal: "SIGINT", gracePeriod: "1m30s" },
        resources: { cpu: 0.25, memory: "256Mi" },
      },
    });
    const a = unit(r, "a");
    expect(unitValues(a, "Service", "Restart")).toEqual(["always"]);
    expect(unitValues(a, "Service", "RestartSec")).toEqual(["2s"]);
    expect(unitValues(a, "Unit", "StartLimitBurst")).toEqual(["5"]);
    // 5 starts of under 10 s each, with up to 2 s of backoff between them.
    expect(unitValues(a, "Unit", "StartLimitIntervalSec")).toEqual(["58s"]);
    expect(unitValues(a, "Service", "KillSignal")).toEqual(["SIGINT"]);
    expect(unitValues(a, "Service", "TimeoutStopSec")).toEqual(["90s"]);
    expect(unitValues(a, "Service", "CPUQuota")).toEqual(["25%"]);
    expect(unitValues(a, "Service", "MemoryMax")).toEqual(["256M"]);
    expect(r.diagnostics).toEqual([]);
  });

  it("writes RestartSteps for an exponential backoff only when asked to", () => {
    const services: DeploymentDefinition["services"] = {
      a: {
        command: ["/bin/true"],
        restart: { policy: "on-failure", backoff: { initial: 1, factor: 2, max: 16 } },
      },
    };
    const plain = render(services);
    expect(plain.diagnostics.map((d) => d.option)).toEqual(["services.a.restart.backoff"]);
    const definition = { name: "t", use: [systemd()], services } as DeploymentDefinition;
    const { deployment } = evaluateDeployment(definition, { file: "/x/c.ts", root: "/x" });
    const steps = systemd({ restartSteps: true }).render(deployment);
    const a = artifact(steps.artifacts, "t-a.service");
    expect(unitValues(a, "Service", "RestartSteps")).toEqual(["4"]);
    expect(unitValues(a, "Service", "RestartMaxDelaySec")).toEqual(["16s"]);
    expect(steps.diagnostics).toEqual([]);
  });

  it("uses User/Group, or DynamicUser when asked", () => {
    const r = render({
      a: { command: ["/bin/true"], user: "app", group: "web" },
      b: { command: ["/bin/true"], renderers: { systemd: { dynamicUser: true } } },
    });
    expect(unitValues(unit(r, "a"), "Service", "User")).toEqual(["app"]);
    expect(unitValues(unit(r, "a"), "Service", "Group")).toEqual(["web"]);
    expect(unitValues(unit(r, "b"), "Service", "DynamicUser")).toEqual(["yes"]);
    expect(unitValues(unit(r, "b"), "Service", "User")).toEqual([]);
  });

  it("runs in the config file's directory unless workingDir says otherwise", () => {
    const r = render({
      a: { command: ["/bin/true"] },
      b: { command: ["./bin/server"], workingDir: "srv" },
    });
    expect(unitValues(unit(r, "a"), "Service", "WorkingDirectory")).toEqual(["/x"]);
    expect(unitValues(unit(r, "b"), "Service", "WorkingDirectory")).toEqual(["/x/srv"]);
    expect(unitValues(unit(r, "b"), "Service", "ExecStart")).toEqual(["/x/srv/bin/server"]);
  });

  it("keeps persistent volumes in StateDirectory and others in RuntimeDirectory", () => {
    const r = render({
      a: {
        command: ["/bin/true"],
        volumes: { data: { path: "/data" }, tmp: { path: "/tmp", persistent: false } },
      },
    });
    expect(unitValues(unit(r, "a"), "Service", "StateDirectory")).toEqual(["t/a/data"]);
    expect(unitValues(unit(r, "a"), "Service", "RuntimeDirectory")).toEqual(["t/a/tmp"]);
  });

  it("merges the deployment-wide then the per-service override into the unit", () => {
    const r = render(
      {
        a: {
          command: ["/bin/true"],
          renderers: {
            systemd: {
              override: {
                Service: {
                  Restart: "always",
                  KillSignal: null,
                  ExecStartPre: ["/bin/true", "/bin/true"],
                },
                "X-Extra": { Note: "kept" },
              },
            },
          },
        },
        b: { command: ["/bin/true"] },
      },
      {
        renderers: {
          systemd: {
            override: { Service: { ProtectSystem: "strict", Restart: "no" } },
            targetOverride: { Unit: { Description: "Shop" } },
          },
        },
      },
    );
    const a = unit(r, "a");
    expect(unitValues(a, "Service", "Restart")).toEqual(["always"]);
    expect(unitValues(a, "Service", "KillSignal")).toEqual([]);
    expect(unitValues(a, "Service", "ExecStartPre")).toEqual(["/bin/true", "/bin/true"]);
    expect(unitValues(a, "Service", "ProtectSystem")).toEqual(["strict"]);
    expect(unitValues(a, "X-Extra", "Note")).toEqual(["kept"]);
    expect(unitValues(unit(r, "b"), "Service", "Restart")).toEqual(["no"]);
    expect(unitValues(artifact(r.artifacts, "t.target"), "Unit", "Description")).toEqual(["Shop"]);
  });

  it("refuses an override value with a newline, which would inject unit lines", () => {
    const r = render({
      a: {
        command: ["/bin/true"],
        renderers: {
          systemd: { override: { Service: { Environment: "A=1\nExecStart=/bin/evil" } } },
        },
      },
    });
    expect(unit(r, "a")).not.toContain("/bin/evil");
    expect(r.diagnostics).toMatchObject([
      { severity: "error", option: "services.a.renderers.systemd.override", service: "a" },
    ]);
  });

  it("reports what plain systemd cannot express, naming option and file", () => {
    const r = render({
      a: {
        command: ["/bin/true"],
        package: { image: "redis:7" },
        replicas: 3,
        labels: { team: "x" },
        ports: { http: { port: 8080, hostPort: 80 } },
        volumes: { data: { path: "/d", size: "1Gi", clear: "rm -rf cache" } },
      },
    });
    expect(r.diagnostics.map((d) => [d.severity, d.option])).toEqual([
      ["warning", "services.a.package.image"],
      ["warning", "services.a.ports.http.hostPort"],
      ["warning", "services.a.volumes.data.clear"],
      ["warning", "services.a.replicas"],
      ["warning", "services.a.labels"],
      ["warning", "services.a.volumes.data.size"],
    ]);
    expect(r.diagnostics[0]?.files).toEqual(["/x/nix2dream.config.ts"]);
  });

  it("reports a program name systemd cannot run instead of writing a broken ExecStart", () => {
    const r = render({ a: { command: ['/bin/say"hi"'] } });
    expect(unitValues(unit(r, "a"), "Service", "ExecStart")).toEqual([]);
    expect(r.diagnostics).toMatchObject([{ severity: "error", option: "services.a.command" }]);
  });

  it("resolves references to loopback addresses, ports and unit directories", () => {
    const db = serviceRef("db");
    const r = render({
      db: { command: ["/bin/true"], ports: { pg: 5433 }, volumes: { data: { path: "/d" } } },
      api: {
        command: ["/bin/true"],
        env: {
          URL: `postgres://${db.host}:${db.port("pg")}/x`,
          ADDR: db.addressOf("pg"),
          DATA: db.volume("data"),
        },
      },
    });
    expect(unitValues(unit(r, "api"), "Service", "Environment")).toEqual([
      '"ADDR=127.0.0.1:5433"',
      '"DATA=%S/t/db/data"',
      '"URL=postgres://127.0.0.1:5433/x"',
    ]);
  });
});
