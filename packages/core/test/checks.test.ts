import { describe, expect, it } from "vitest";
import { type DeploymentDefinition, evaluateDeployment, ModuleError, ref } from "../src/index.js";

const FILE = "nix2dream.config.ts";

function errorOf(def: Omit<DeploymentDefinition, "name">): ModuleError {
  try {
    evaluateDeployment({ name: "shop", ...def }, { file: FILE });
  } catch (e) {
    if (e instanceof ModuleError) return e;
    throw e;
  }
  throw new Error("expected a ModuleError");
}

describe("dependsOn", () => {
  it("rejects a dependency on a service that does not exist", () => {
    const e = errorOf({ services: { api: { dependsOn: ["dbb"] }, db: {} } });
    expect(e.code).toBe("UNKNOWN_DEPENDENCY");
    expect(e.message).toContain("`services.api.dependsOn.dbb`");
    expect(e.message).toContain("there is no service dbb (services: api, db)");
    expect(e.message).toContain(FILE);
    expect(e.files).toEqual([FILE]);
  });

  it("prints a dependency cycle with every edge and file", () => {
    const e = errorOf({
      services: { a: { dependsOn: ["b"] }, c: {} },
      modules: [{ file: "modules/b.ts", config: { services: { b: { dependsOn: ["a"] } } } }],
    });
    expect(e.code).toBe("DEPENDENCY_CYCLE");
    expect(e.message).toContain("a -> b -> a");
    expect(e.message).toContain("`services.a.dependsOn.b`");
    expect(e.message).toContain("`services.b.dependsOn.a`");
    expect(e.files.sort()).toEqual(["modules/b.ts", FILE].sort());
  });

  it("reports a service that depends on itself as a cycle", () => {
    const e = errorOf({ services: { a: { dependsOn: ["a"] } } });
    expect(e.code).toBe("DEPENDENCY_CYCLE");
    expect(e.message).toContain("a -> a");
  });

  it("rejects a dependency on a disabled service, naming where it was disabled", () => {
    const e = errorOf({
      services: { api: { dependsOn: { db: "healthy" } }, db: {} },
      modules: [{ file: "modules/off.ts", config: { services: { db: { enable: false } } } }],
    });
    expect(e.code).toBe("DISABLED_DEPENDENCY");
    expect(e.message).toContain("`services.api.dependsOn.db`");
    expect(e.message).toContain("service db is disabled");
    expect(e.message).toContain("modules/off.ts");
    expect(e.message).toContain(FILE);
  });

  it("does not check a disabled service's own dependencies", () => {
    expect(() =>
      evaluateDeployment({ name: "x", services: { old: { enable: false, dependsOn: ["gone"] } } }),
    ).not.toThrow();
  });

  it("rejects waiting for a service to be healthy when it has no healthcheck", () => {
    const e = errorOf({ services: { api: { dependsOn: { db: "healthy" } }, db: {} } });
    expect(e.code).toBe("MISSING_HEALTHCHECK");
    expect(e.message).toContain("`services.api.dependsOn.db`");
    expect(e.message).toContain("service db has no healthcheck");
  });
});

describe("host ports", () => {
  it("rejects two services publishing the same host port", () => {
    const e = errorOf({
      services: { a: { ports: { http: { port: 80, hostPort: 8080 } } } },
      modules: [
        {
          file: "modules/b.ts",
          config: { services: { b: { ports: { web: { port: 8080, expose: true } } } } },
        },
      ],
    });
    expect(e.code).toBe("DUPLICATE_HOST_PORT");
    expect(e.message).toContain("Host port 8080/tcp is published twice");
    expect(e.message).toContain("`services.a.ports.http`");
    expect(e.message).toContain("`services.b.ports.web`");
    expect(e.message).toContain("modules/b.ts");
    expect(e.message).toContain(FILE);
  });

  it("rejects one service publishing the same host port twice", () => {
    const e = errorOf({
      services: {
        a: { ports: { one: { port: 1, hostPort: 9000 }, two: { port: 2, hostPort: 9000 } } },
      },
    });
    expect(e.code).toBe("DUPLICATE_HOST_PORT");
  });

  it("allows the same port number on tcp and udp, and unpublished ports to repeat", () => {
    expect(() =>
      evaluateDeployment({
        name: "x",
        services: {
          dns: {
            ports: {
              tcp: { port: 53, expose: true },
              udp: { port: 53, expose: true, protocol: "udp" },
            },
          },
          a: { ports: { http: 8080 } },
          b: { ports: { http: 8080 } },
        },
      }),
    ).not.toThrow();
  });
});

describe("references", () => {
  it("rejects a reference to a missing port, naming both ends", () => {
    const e = errorOf({
      services: {
        api: { ports: { http: 8080 } },
        worker: { env: { API_URL: `http://${ref.api?.host}:${ref.api?.ports.web}` } },
      },
    });
    expect(e.code).toBe("INVALID_REFERENCE");
    expect(e.message).toContain(
      "`services.worker.env.API_URL` refers to ref.api.ports.web, but service api has no port web (ports: http)",
    );
    expect(e.message).toContain(FILE);
  });

  it("rejects a reference to a missing service", () => {
    const e = errorOf({ services: { worker: { args: ["--db", `${ref.db?.address.pg}`] } } });
    expect(e.code).toBe("INVALID_REFERENCE");
    expect(e.message).toContain("`services.worker.args.1` refers to ref.db.address.pg");
    expect(e.message).toContain("there is no service db (services: worker)");
  });

  it("rejects a reference to a disabled service", () => {
    const e = errorOf({
      services: {
        db: { enable: false, ports: { pg: 5432 } },
        app: { preStart: `wait-for ${ref.db?.host}` },
      },
    });
    expect(e.message).toContain(
      "`services.app.preStart` refers to ref.db.host, but service db is disabled",
    );
  });

  it("rejects a reference to a missing volume", () => {
    const e = errorOf({
      services: { app: { files: { "/etc/app.conf": `data = ${ref.app?.volumes.data}` } } },
    });
    expect(e.message).toContain(
      "`services.app.files./etc/app.conf.text` refers to ref.app.volumes.data, but service app has no volume data (volumes: none)",
    );
  });

  it("checks references in command", () => {
    const e = errorOf({ services: { app: { command: ["connect", `${ref.nope?.host}`] } } });
    expect(e.message).toContain("`services.app.command.1` refers to ref.nope.host");
  });

  it("lists every problem when there are several", () => {
    const e = errorOf({
      services: { app: { env: { A: `${ref.x?.host}`, B: `${ref.y?.host}` } } },
    });
    expect(e.errors).toHaveLength(2);
    expect(e.message).toContain("ref.x.host");
    expect(e.message).toContain("ref.y.host");
  });
});

describe("healthchecks, files and secrets", () => {
  it("rejects a healthcheck naming a port the service lacks", () => {
    const e = errorOf({
      services: { api: { ports: { http: 80 }, healthcheck: { port: "web", path: "/" } } },
    });
    expect(e.code).toBe("UNKNOWN_PORT");
    expect(e.message).toContain("`services.api.healthcheck.port` names port web");
    expect(e.message).toContain("(ports: http)");
    expect(e.message).toContain(FILE);
  });

  it("rejects an exec healthcheck without a command, naming the file", () => {
    const e = errorOf({ services: { api: { healthcheck: { type: "exec" } } } });
    expect(e.code).toBe("INVALID_HEALTHCHECK");
    expect(e.message).toContain("services.api.healthcheck");
    expect(e.message).toContain(FILE);
  });

  it("rejects an http healthcheck without a port", () => {
    const e = errorOf({ services: { api: { healthcheck: { path: "/healthz" } } } });
    expect(e.code).toBe("INVALID_HEALTHCHECK");
    expect(e.message).toContain("without a port");
  });

  it("rejects a file with both text and source", () => {
    const e = errorOf({ services: { app: { files: { "/a": { text: "x", source: "./a" } } } } });
    expect(e.code).toBe("INVALID_FILE");
    expect(e.message).toContain(
      "`services.app.files./a` must set exactly one of `text` and `source`, but sets both",
    );
  });

  it("rejects a file with neither text nor source", () => {
    const e = errorOf({ services: { app: { files: { "/a": { mode: "0600" } } } } });
    expect(e.message).toContain("sets neither");
  });

  it("rejects a secret with two sources", () => {
    const e = errorOf({ services: { app: { secrets: { K: { fromEnv: "K", fromFile: "/k" } } } } });
    expect(e.code).toBe("INVALID_SECRET");
    expect(e.message).toContain("services.app.secrets.K");
  });
});

describe("names", () => {
  it("rejects an env variable name a shell cannot export", () => {
    const e = errorOf({ services: { app: { env: { "MY-VAR": "1" } } } });
    expect(e.code).toBe("INVALID_NAME");
    expect(e.message).toContain("`services.app.env.MY-VAR`");
    expect(e.message).toContain(FILE);
  });

  it("rejects a secret name a shell cannot export", () => {
    const e = errorOf({ services: { app: { secrets: { "1KEY": "X" } } } });
    expect(e.code).toBe("INVALID_NAME");
  });

  it("rejects a port name that references cannot carry", () => {
    const e = errorOf({ services: { app: { ports: { "a:b": 80 } } } });
    expect(e.code).toBe("INVALID_NAME");
    expect(e.message).toContain("services.app.ports.a:b");
  });
});

describe("file references", () => {
  it("rejects a reference to a file the service does not have", () => {
    const e = errorOf({
      services: {
        app: {
          files: { "/etc/a.json": "{}" },
          args: ["--config", `${ref.app?.files["/etc/b.json"]}`],
        },
      },
    });
    expect(e.code).toBe("INVALID_REFERENCE");
    expect(e.message).toContain(
      'refers to ref.app.files["/etc/b.json"], but service app has no file "/etc/b.json" (files: /etc/a.json)',
    );
  });
});

describe("replicas and restart policies", () => {
  it("rejects a dependency on a service that runs no replicas", () => {
    const e = errorOf({ services: { api: { dependsOn: ["db"] }, db: { replicas: 0 } } });
    expect(e.code).toBe("NO_REPLICAS");
    expect(e.message).toContain("`services.db.replicas` is 0");
  });

  it("warns when waiting for a service to complete that is always restarted", () => {
    const { warnings, deployment } = evaluateDeployment(
      {
        name: "x",
        services: { api: { dependsOn: { migrate: "completed" } }, migrate: { restart: "always" } },
      },
      { file: FILE },
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      "`services.api.dependsOn.migrate` (nix2dream.config.ts) waits for migrate to complete",
    );
    expect(deployment.warnings).toEqual(warnings);
  });
});

describe("values no target can carry", () => {
  it("rejects a NUL byte in any string, naming the option and the file", () => {
    const e = errorOf({ services: { api: { args: ["ok", "a\0b"] } } });
    expect(e.code).toBe("UNWRITABLE_VALUE");
    expect(e.message).toContain("The option `services.api.args` holds a NUL byte");
    expect(e.files).toEqual([FILE]);
  });

  it("rejects a lone UTF-16 surrogate in a value or a key, keeping well-formed pairs", () => {
    const e = errorOf({ services: { api: { env: { A: "x\ud800y", OK: "emoji 😀" } } } });
    expect(e.message).toContain("`services.api.env.A` holds a lone UTF-16 surrogate (\\ud800)");
    expect(e.message).not.toContain("env.OK");
    const k = errorOf({ services: { api: { files: { "/etc/\udc00": "x" } } } });
    expect(k.message).toContain("surrogate (\\udc00), which is not a character");
    expect(k.message).toContain("in its name");
  });
});

describe("service names", () => {
  it("rejects a name longer than 63 characters, which not every target can carry", () => {
    const long = "a".repeat(64);
    const e = errorOf({ services: { [long]: { command: ["x"] } } });
    expect(e.code).toBe("INVALID_NAME");
    expect(e.message).toContain(`The service name "${long}" is not one every target can carry`);
    expect(e.message).toContain("at most 63");
    expect(e.files).toEqual([FILE]);
    expect(errorOf({ services: { "a b": { command: ["x"] } } }).message).toContain('"a b"');
    expect(() =>
      evaluateDeployment(
        { name: "shop", services: { ["b".repeat(63)]: { command: ["x"] } } },
        { file: FILE },
      ),
    ).not.toThrow();
  });
});
