import { mkDefault, mkForce, mkIf } from "@nix2dream/modules";
import { describe, expect, it } from "vitest";
import { serviceFixture } from "../../testkit/src/index.js";
import {
  type DeploymentDefinition,
  type EvaluatedService,
  evaluateDeployment,
  ModuleError,
} from "../src/index.js";

const FILE = "/project/nix2dream.config.ts";

function evaluate(def: Omit<DeploymentDefinition, "name"> & { name?: string }) {
  return evaluateDeployment({ name: "shop", ...def }, { file: FILE });
}

function service(
  def: DeploymentDefinition["services"] = { app: {} },
  name = "app",
): EvaluatedService {
  const s = evaluate({ services: def }).deployment.services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
}

function errorOf(f: () => unknown): ModuleError {
  try {
    f();
  } catch (e) {
    if (e instanceof ModuleError) return e;
    throw e;
  }
  throw new Error("expected a ModuleError");
}

describe("service option defaults", () => {
  it("gives every option of an empty service its default", () => {
    expect(service()).toEqual(serviceFixture("app"));
  });

  it("fills a port's defaults", () => {
    expect(service({ app: { ports: { http: { port: 80 } } } }).ports.http).toEqual({
      port: 80,
      protocol: "tcp",
      expose: false,
      hostPort: null,
    });
  });

  it("fills a volume's defaults with a path under /var/lib/<service>", () => {
    expect(service({ app: { volumes: { data: {} } } }).volumes.data).toEqual({
      path: "/var/lib/app/data",
      persistent: true,
      size: null,
      init: "",
      check: "",
      clear: "",
    });
  });

  it("gives healthchecks timing defaults that tolerate slow starters", () => {
    expect(
      service({ app: { command: "x", healthcheck: { command: ["true"] } } }).healthcheck,
    ).toEqual({
      type: "exec",
      command: ["true"],
      interval: 5,
      timeout: 5,
      retries: 3,
      startPeriod: 30,
    });
  });

  it("gives a file mode 0644 and a secret required: true by default", () => {
    const s = service({
      app: { files: { "/etc/a": { text: "x" } }, secrets: { K: { fromFile: "/k" } } },
    });
    expect(s.files["/etc/a"]).toEqual({ text: "x", source: null, mode: "0644" });
    expect(s.secrets.K).toEqual({ fromEnv: null, fromFile: "/k", required: true });
  });

  it("evaluates deployment-wide defaults", () => {
    const { deployment, warnings } = evaluate({ services: {} });
    expect(deployment).toEqual({
      name: "shop",
      services: {},
      renderers: {},
      managers: {},
      root: "/project",
      definitionFiles: { name: [FILE], services: [FILE] },
      warnings: [],
    });
    expect(warnings).toEqual([]);
  });

  it("has no root when evaluated from memory", () => {
    expect(evaluateDeployment({ name: "x" }).deployment.root).toBeNull();
    expect(evaluateDeployment({ name: "x" }, { root: "/srv" }).deployment.root).toBe("/srv");
  });
});

describe("shorthand forms", () => {
  it("takes a number as a port", () => {
    expect(service({ app: { ports: { http: 8080 } } }).ports.http).toEqual({
      port: 8080,
      protocol: "tcp",
      expose: false,
      hostPort: null,
    });
  });

  it("merges a shorthand port in one module with settings from another", () => {
    const { deployment } = evaluate({
      services: { app: { ports: { http: 8080 } } },
      modules: [
        { file: "expose.ts", config: { services: { app: { ports: { http: { expose: true } } } } } },
      ],
    });
    expect(deployment.services.app?.ports.http).toMatchObject({ port: 8080, expose: true });
  });

  it("takes a string as a secret read from that variable", () => {
    expect(service({ app: { secrets: { API_KEY: "SHOP_API_KEY" } } }).secrets.API_KEY).toEqual({
      fromEnv: "SHOP_API_KEY",
      fromFile: null,
      required: true,
    });
  });

  it("reads a secret with no source from the variable of the same name", () => {
    expect(service({ app: { secrets: { TOKEN: { required: false } } } }).secrets.TOKEN).toEqual({
      fromEnv: "TOKEN",
      fromFile: null,
      required: false,
    });
  });

  it("takes a string as a file's text", () => {
    expect(
      service({ app: { files: { "/etc/app.conf": "a = 1\n" } } }).files["/etc/app.conf"],
    ).toEqual({
      text: "a = 1\n",
      source: null,
      mode: "0644",
    });
  });

  it("takes a list of names as dependencies on them being started", () => {
    const { deployment } = evaluate({ services: { app: { dependsOn: ["db"] }, db: {} } });
    expect(deployment.services.app?.dependsOn).toEqual({ db: "started" });
  });

  it("takes a policy string as restart settings", () => {
    expect(service({ app: { restart: "always" } }).restart).toEqual({
      policy: "always",
      maxRetries: null,
      backoff: { initial: 1, factor: 2, max: 30 },
    });
  });

  it("takes a single string as the command", () => {
    expect(service({ app: { command: "redis-server" } }).command).toEqual(["redis-server"]);
  });

  it("turns numbers and booleans in env into strings", () => {
    expect(service({ app: { env: { PORT: 8080, DEBUG: true, NAME: "x" } } }).env).toEqual({
      DEBUG: "true",
      NAME: "x",
      PORT: "8080",
    });
  });

  it("turns a memory size in bytes into a string", () => {
    expect(service({ app: { resources: { memory: 1048576, cpu: 0.5 } } }).resources).toEqual({
      cpu: 0.5,
      memory: "1048576",
    });
  });

  it("infers the healthcheck type from its fields", () => {
    const s = (hc: object) =>
      service({ app: { ports: { web: 80 }, healthcheck: hc } }).healthcheck as { type: string };
    expect(s({ command: ["true"] }).type).toBe("exec");
    expect(s({ port: "web", path: "/healthz" })).toMatchObject({
      type: "http",
      port: "web",
      path: "/healthz",
      scheme: "http",
    });
    expect(s({ port: "web" })).toEqual({
      type: "tcp",
      port: "web",
      interval: 5,
      timeout: 5,
      retries: 3,
      startPeriod: 30,
    });
    expect(s({ type: "http", port: "web" })).toMatchObject({ type: "http", path: "/" });
  });
});

describe("durations", () => {
  it("accepts seconds and strings like 5s, 500ms, 1m", () => {
    const s = service({
      app: {
        command: "x",
        healthcheck: { command: ["true"], interval: "500ms", timeout: 2, startPeriod: "1m30s" },
        stop: { gracePeriod: "1m" },
        restart: { backoff: { initial: "250ms", max: "2m" } },
      },
    });
    expect(s.healthcheck).toMatchObject({ interval: 0.5, timeout: 2, startPeriod: 90 });
    expect(s.stop.gracePeriod).toBe(60);
    expect(s.restart.backoff).toEqual({ initial: 0.25, factor: 2, max: 120 });
  });

  it("rejects a malformed duration naming the option and the file", () => {
    const e = errorOf(() => service({ app: { stop: { gracePeriod: "soon" } } }));
    expect(e.code).toBe("TYPE_MISMATCH");
    expect(e.message).toContain("services.app.stop.gracePeriod");
    expect(e.message).toContain(FILE);
  });
});

describe("merging across modules", () => {
  it("concatenates args and preStart lines from several modules", () => {
    const { deployment } = evaluate({
      services: { app: { args: ["--a"], preStart: "echo one" } },
      modules: [
        { file: "more.ts", config: { services: { app: { args: ["--b"], preStart: "echo two" } } } },
      ],
    });
    expect(deployment.services.app?.args.sort()).toEqual(["--a", "--b"]);
    expect(deployment.services.app?.preStart.split("\n").sort()).toEqual(["echo one", "echo two"]);
  });

  it("honours mkDefault, mkForce and mkIf", () => {
    const { deployment } = evaluate({
      services: {
        app: {
          replicas: mkForce(3),
          description: mkDefault("fallback"),
          user: mkIf(false, "root"),
        },
      },
      modules: [
        { file: "m.ts", config: { services: { app: { replicas: 2, description: "real" } } } },
      ],
    });
    expect(deployment.services.app).toMatchObject({ replicas: 3, description: "real", user: null });
  });

  it("reports conflicting commands with both files", () => {
    const e = errorOf(() =>
      evaluate({
        services: { app: { command: ["a"] } },
        modules: [{ file: "other.ts", config: { services: { app: { command: ["b"] } } } }],
      }),
    );
    expect(e.code).toBe("CONFLICTING_DEFINITIONS");
    expect(e.message).toContain("services.app.command");
    expect(e.message).toContain(FILE);
    expect(e.message).toContain("other.ts");
  });

  it("lets a module read another service's options (fixed point)", () => {
    const { deployment } = evaluate({
      services: { db: { ports: { pg: 5432 } } },
      modules: [
        ({ config }) => ({
          file: "reader.ts",
          config: {
            services: {
              app: {
                env: {
                  get PGPORT() {
                    return String(config.services.db.ports.pg.port);
                  },
                },
              },
            },
          },
        }),
      ],
    });
    expect(deployment.services.app?.env.PGPORT).toBe("5432");
  });
});

describe("deployment", () => {
  it("returns enabled services only, sorted by name", () => {
    const { deployment } = evaluate({ services: { zeta: {}, alpha: {}, off: { enable: false } } });
    expect(Object.keys(deployment.services)).toEqual(["alpha", "zeta"]);
  });

  it("records which files defined each option", () => {
    const { deployment } = evaluate({
      services: { app: { env: { A: "1" } } },
      modules: [{ file: "modules/env.ts", config: { services: { app: { env: { B: "2" } } } } }],
    });
    expect(deployment.definitionFiles["services.app.env"]?.sort()).toEqual(
      [FILE, "modules/env.ts"].sort(),
    );
    expect(deployment.definitionFiles["services.app.env.A"]).toEqual([FILE]);
    expect(deployment.definitionFiles["services.app.env.B"]).toEqual(["modules/env.ts"]);
  });

  it("names an undeclared option and its file", () => {
    const e = errorOf(() => evaluate({ services: { app: { comand: ["x"] } as never } }));
    expect(e.code).toBe("UNDECLARED_OPTION");
    expect(e.message).toContain("services.app.comand");
    expect(e.message).toContain(FILE);
  });

  it("rejects a service name that no target accepts", () => {
    const e = errorOf(() => evaluate({ services: { "my app": {} } }));
    expect(e.message).toContain("my app");
  });

  it("rejects a `use` entry that is neither a renderer nor a manager", () => {
    const e = errorOf(() => evaluate({ use: [(() => ({})) as never] }));
    expect(e.code).toBe("INVALID_PLUGIN");
    expect(e.message).toContain(FILE);
  });

  it("runs the modules' assertions and returns their warnings", () => {
    const ok = evaluate({ modules: [{ file: "w.ts", config: { warnings: ["careful"] } }] });
    expect(ok.warnings).toEqual(["careful"]);
    expect(ok.deployment.warnings).toEqual(["careful"]);
    const e = errorOf(() =>
      evaluate({
        modules: [
          { file: "a.ts", config: { assertions: [{ assertion: false, message: "nope" }] } },
        ],
      }),
    );
    expect(e.code).toBe("FAILED_ASSERTIONS");
    expect(e.message).toContain("nope");
  });
});

describe("service modules", () => {
  it("accepts a service as a module function with imports and its own config", () => {
    const logging = { file: "modules/logging.ts", config: { env: { LOG: "info" } } };
    const { deployment } = evaluate({
      services: {
        api: ({ name, config }) => ({
          imports: [logging],
          config: {
            ports: { http: 8080 },
            env: {
              SERVICE: name ?? "",
              get PORT() {
                return String(config.ports.http.port);
              },
            },
          },
        }),
      },
    });
    expect(deployment.services.api?.env).toEqual({ LOG: "info", PORT: "8080", SERVICE: "api" });
    expect(deployment.definitionFiles["services.api.env.LOG"]).toEqual(["modules/logging.ts"]);
  });
});

describe("missing values", () => {
  it("asks for the deployment name in the config file", () => {
    const e = errorOf(() => evaluateDeployment({ services: {} } as never, { file: FILE }));
    expect(e.code).toBe("UNDEFINED_OPTION");
    expect(e.message).toBe(`The option \`name\` has no value and no default: set it in ${FILE}.`);
  });

  it("names where a port without a number is defined", () => {
    const e = errorOf(() => service({ app: { ports: { http: { expose: true } as never } } }));
    expect(e.code).toBe("UNDEFINED_OPTION");
    expect(e.message).toContain("`services.app.ports.http.port` has no value");
    expect(e.message).toContain(`\`services.app.ports.http\` in ${FILE}`);
  });
});
