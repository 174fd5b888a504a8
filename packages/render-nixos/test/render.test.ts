// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Nix source holds literal ${...}
import { writeFileSync } from "node:fs";
import path from "node:path";
import { type DeploymentDefinition, evaluateDeployment } from "@nix2dream/core";
import { parseExecLine } from "@nix2dream/core/systemd";
import { evalModuleConfig, parseNix, tempDir } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { jsonMentions } from "../src/context.js";
import nixos, {
  nixosModuleFileName,
  nixosModuleFor,
  nixosUnitName,
  packageExpr,
  recursiveUpdate,
} from "../src/index.js";
import { shop, shopDefinition } from "./fixtures/shop.js";

function evaluate(def: Omit<DeploymentDefinition, "name" | "use">, name = "t") {
  return evaluateDeployment({ name, use: [nixos()], ...def } as DeploymentDefinition, {
    file: "nix2dream.config.ts",
  }).deployment;
}

/** Renders, writes the module and evaluates its config with the stub lib/pkgs. */
function configOf(def: Omit<DeploymentDefinition, "name" | "use">, name = "t") {
  const m = nixosModuleFor(evaluate(def, name));
  const file = path.join(tempDir(), m.fileName);
  writeFileSync(file, m.source);
  // biome-ignore lint/suspicious/noExplicitAny: JSON read back from Nix
  return { config: evalModuleConfig(file, name) as any, module: m };
}

describe("the nixos renderer", () => {
  it("is named nixos and writes one module file named after the deployment", () => {
    const r = nixos();
    expect(r.name).toBe("nixos");
    const { artifacts } = r.render(shop());
    expect(artifacts.map((a) => a.path)).toEqual(["nix2dream-shop.nix"]);
    expect(nixosModuleFileName("shop")).toBe("nix2dream-shop.nix");
    expect(nixosUnitName("shop", "api")).toBe("shop-api");
  });

  it("writes a module that nix-instantiate parses", { tags: ["nix"] }, () => {
    const { artifacts } = nixos().render(shop());
    const file = path.join(tempDir(), "nix2dream-shop.nix");
    writeFileSync(file, artifacts[0]?.content as string);
    expect(() => parseNix(file)).not.toThrow();
  });

  it("renders byte-identical output for the same deployment", () => {
    const a = nixos().render(shop()).artifacts[0]?.content;
    const b = nixos().render(shop()).artifacts[0]?.content;
    expect(a).toBe(b);
  });

  it("prints each unit alone exactly as the whole module prints them together", () => {
    // An override holding `systemd` makes the module print its units in one go (the override
    // could change them); an empty one changes nothing, so both texts must be the same.
    const together = {
      ...shopDefinition,
      renderers: {
        nixos: {
          override: { ...shopDefinition.renderers.nixos.override, systemd: {} },
        },
      },
    };
    const file = { file: "/home/me/shop/nix2dream.config.ts", root: "/home/me/shop" };
    expect(nixosModuleFor(evaluateDeployment(together, file).deployment).source).toBe(
      nixosModuleFor(shop()).source,
    );
  });

  it("quotes a deployment name that is not a Nix identifier in the enable option", {
    tags: ["nix"],
  }, () => {
    const { config, module } = configOf({ services: { a: { command: "/bin/a" } } }, "my.shop");
    expect(module.source).toContain('options.services.nix2dream."my.shop" = {');
    expect(Object.keys(config.systemd.services)).toEqual(["my.shop-a"]);
  });
});

describe("the systemd mapping on NixOS", () => {
  it("orders and pulls in dependencies by condition", { tags: ["nix"] }, () => {
    const { config } = configOf({
      services: {
        db: { command: "/bin/db", ports: { pg: 5432 }, healthcheck: { port: "pg" } },
        migrate: { command: "/bin/migrate", restart: "no" },
        cache: { command: "/bin/cache" },
        api: {
          command: "/bin/api",
          dependsOn: { db: "healthy", migrate: "completed", cache: "started" },
        },
      },
    });
    const api = config.systemd.services["t-api"];
    expect(api.after).toEqual(["t-cache.service", "t-db.service", "t-migrate.service"]);
    expect(api.requires).toEqual(["t-db.service", "t-migrate.service"]);
    expect(api.wants).toEqual(["t-cache.service"]);
    expect(config.systemd.services["t-migrate"].serviceConfig.Type).toBe("oneshot");
    expect(config.systemd.services["t-db"].serviceConfig.ExecStartPost).toContain("nc -z");
  });

  it("runs the program from its Nix package with lib.getExe, or getExe' for a named program", {
    tags: ["nix"],
  }, () => {
    const { config, module } = configOf({
      services: {
        a: { package: { nix: "nixpkgs#redis" } },
        b: { package: { nix: "pkgs.redis" }, command: ["redis-cli", "ping"] },
        c: { package: { nix: "redis" }, command: ["bin/redis-server"] },
        d: { package: { nix: "redis" }, command: ["libexec/redis-x"] },
        e: { package: { nix: "redis" }, command: ["libexec/redis it's"] },
      },
    });
    const exec = (s: string) => config.systemd.services[`t-${s}`].serviceConfig.ExecStart;
    expect(exec("a")).toBe("/nix/store/stub/redis/bin/redis");
    expect(exec("b")).toBe("/nix/store/stub/redis/bin/redis-cli ping");
    expect(exec("c")).toBe("/nix/store/stub/redis/bin/redis-server");
    expect(parseExecLine(exec("d"))).toEqual(["/nix/store/stub/redis/libexec/redis-x"]);
    expect(exec("e")).toBeUndefined();
    expect(config.systemd.services["t-a"].path).toEqual(["/nix/store/stub/redis"]);
    expect(module.diagnostics.map((d) => [d.option, d.severity])).toEqual([
      ["services.e.command", "error"],
      ["services.e.command", "error"],
    ]);
  });

  it("maps package references to pkgs attributes or builtins.getFlake", () => {
    expect(packageExpr("nixpkgs#python3Packages.flask")?.expr).toBe("pkgs.python3Packages.flask");
    expect(packageExpr("pkgs.hello")?.expr).toBe("pkgs.hello");
    expect(packageExpr("github:o/r#tool")).toEqual({
      expr: '(builtins.getFlake "github:o/r").packages.${pkgs.stdenv.hostPlatform.system}.tool',
      flake: true,
    });
    expect(packageExpr("rm -rf /")).toBeUndefined();
  });

  it("runs a command without a package from the system profile and says so", {
    tags: ["nix"],
  }, () => {
    const { config, module } = configOf({ services: { a: { command: ["node", "a.mjs"] } } });
    expect(config.systemd.services["t-a"].serviceConfig.ExecStart).toBe(
      "/run/current-system/sw/bin/node a.mjs",
    );
    expect(module.diagnostics.map((d) => d.option)).toContain("services.a.command");
  });

  it("declares a system user and group for a named user, and uses a dynamic user otherwise", {
    tags: ["nix"],
  }, () => {
    const { config } = configOf({
      services: {
        named: { command: "/bin/x", user: "svc", group: "data" },
        anon: { command: "/bin/x" },
        root: { command: "/bin/x", user: "root" },
      },
    });
    expect(config.users).toEqual({
      users: { svc: { isSystemUser: true, group: "data" } },
      groups: { data: {} },
    });
    expect(config.systemd.services["t-named"].serviceConfig).toMatchObject({
      User: "svc",
      Group: "data",
    });
    expect(config.systemd.services["t-anon"].serviceConfig.DynamicUser).toBe("yes");
    expect(config.systemd.services["t-root"].serviceConfig.User).toBe("root");
  });

  it("keeps volumes in state or runtime directories and binds them at their declared path", {
    tags: ["nix"],
  }, () => {
    const { config } = configOf({
      services: {
        a: {
          command: "/bin/a",
          volumes: {
            data: { path: "/srv/data", init: "touch first" },
            tmp: { path: "/var/lib/t/a/tmp", persistent: false },
          },
        },
      },
    });
    const sc = config.systemd.services["t-a"].serviceConfig;
    expect(sc.StateDirectory).toBe("t/a/data");
    expect(sc.RuntimeDirectory).toBe("t/a/tmp");
    expect(sc.BindPaths).toEqual(["/var/lib/t/a/data:/srv/data", "/run/t/a/tmp:/var/lib/t/a/tmp"]);
    expect(config.systemd.services["t-a"].path).toEqual(["/nix/store/stub/bash"]);
  });

  it("ships /etc files through environment.etc and other files as store paths bound read-only", {
    tags: ["nix"],
  }, () => {
    const { config } = configOf({
      services: {
        a: {
          command: "/bin/a",
          user: "a",
          files: {
            "/etc/a/secret.conf": { text: "k=v\n", mode: "0600" },
            "/opt/a/run.sh": { text: "#!/bin/sh\necho hi\n", mode: "0755" },
          },
        },
      },
    });
    expect(config.environment.etc["a/secret.conf"]).toEqual({
      text: "k=v\n",
      mode: "0600",
      user: "a",
      group: "a",
    });
    expect(config.systemd.services["t-a"].serviceConfig.BindReadOnlyPaths).toMatch(
      /^\/nix\/store\/stub\/script-t-a-run\.sh-[0-9a-f]{64}:\/opt\/a\/run\.sh$/,
    );
  });

  it("opens the firewall for exposed ports only, unless told not to", { tags: ["nix"] }, () => {
    const services = {
      a: { command: "/bin/a", ports: { web: { port: 80, expose: true }, admin: 81 } },
      b: { command: "/bin/b", ports: { dns: { port: 53, protocol: "udp", expose: true } } },
    } as const;
    expect(configOf({ services }).config.networking).toEqual({
      firewall: { allowedTCPPorts: [80], allowedUDPPorts: [53] },
    });
    const closed = configOf({ services, renderers: { nixos: { openFirewall: false } } });
    expect(closed.config.networking).toBeUndefined();
  });

  it("maps restart, stop and resources onto systemd settings", { tags: ["nix"] }, () => {
    const { config } = configOf({
      services: {
        a: {
          command: "/bin/a",
          restart: { policy: "always", maxRetries: 3, backoff: { initial: 2, factor: 2, max: 16 } },
          stop: { signal: "SIGINT", gracePeriod: 20 },
          resources: { cpu: 0.5, memory: "1Gi" },
        },
      },
    });
    const a = config.systemd.services["t-a"];
    expect(a.serviceConfig).toMatchObject({
      Restart: "always",
      RestartSec: "2s",
      RestartSteps: "3",
      RestartMaxDelaySec: "16s",
      KillSignal: "SIGINT",
      TimeoutStopSec: "20s",
      MemoryMax: "1G",
      CPUQuota: "50%",
    });
    expect(a.unitConfig).toEqual({ StartLimitIntervalSec: "88s", StartLimitBurst: "4" });
  });

  it("reads fromEnv secrets from an environment file outside the store", { tags: ["nix"] }, () => {
    const { config } = configOf({
      services: {
        a: {
          command: "/bin/a",
          secrets: { TOKEN: "TOKEN" },
          renderers: { nixos: { environmentFile: "/run/agenix/a.env" } },
        },
        b: { command: "/bin/b", secrets: { TOKEN: "TOKEN" } },
      },
    });
    expect(config.systemd.services["t-a"].serviceConfig.EnvironmentFile).toBe("-/run/agenix/a.env");
    expect(config.systemd.services["t-b"].serviceConfig.EnvironmentFile).toBe(
      "-/run/secrets/nix2dream/t/b.env",
    );
  });

  it("sets wantedBy from the option, and disables a service with no replicas", {
    tags: ["nix"],
  }, () => {
    const { config } = configOf({
      services: {
        a: { command: "/bin/a", renderers: { nixos: { wantedBy: ["graphical.target"] } } },
        b: { command: "/bin/b", replicas: 0 },
      },
    });
    expect(config.systemd.services["t-a"].wantedBy).toEqual(["graphical.target"]);
    expect(config.systemd.services["t-b"].enable).toBe(false);
    expect(config.systemd.services["t-b"].wantedBy).toBeUndefined();
  });
});

describe("diagnostics", () => {
  it("reports every option NixOS cannot express, naming the option and the file", () => {
    const { diagnostics } = nixos().render(shop());
    const options = diagnostics.map((d) => d.option).sort();
    expect(options).toEqual([
      'services.api.files."/srv/shop/motd.txt".mode',
      'services.api.files."/srv/shop/motd.txt".mode',
      "services.api.labels",
      "services.api.package.nix",
      "services.api.ports.http.hostPort",
      "services.api.replicas",
      "services.db.volumes.data.clear",
      "services.db.volumes.data.size",
      "services.worker.command",
    ]);
    expect(diagnostics.every((d) => d.files?.includes("/home/me/shop/nix2dream.config.ts"))).toBe(
      true,
    );
  });

  it("refuses file paths with . or .. segments, which could land outside /etc", () => {
    const { diagnostics, source } = nixosModuleFor(
      evaluate({ services: { a: { command: "/bin/a", files: { "/etc/../root/x": "x" } } } }),
    );
    expect(diagnostics.map((d) => [d.option, d.severity])).toEqual([
      ['services.a.files."/etc/../root/x"', "error"],
    ]);
    expect(source).not.toContain("root/x");
  });

  it("reports an image package, which NixOS does not run", () => {
    const d = nixosModuleFor(evaluate({ services: { a: { package: { image: "redis:7" } } } }));
    expect(d.diagnostics.map((x) => x.option)).toContain("services.a.package.image");
  });
});

describe("markers of Nix expressions", () => {
  it("keeps a user string that looks like a marker as written", { tags: ["nix"] }, () => {
    const { config } = configOf({
      services: {
        app: {
          command: ["/bin/app", "NIX2DREAMEXPR0x"],
          env: { LOOKS_LIKE: "NIX2DREAMEXPR0x NIX2DREAMEXPRQ0x" },
        },
      },
    });
    const unit = config.systemd.services["t-app"];
    expect(unit.environment.LOOKS_LIKE).toBe("NIX2DREAMEXPR0x NIX2DREAMEXPRQ0x");
    expect(parseExecLine(unit.serviceConfig.ExecStart)).toEqual(["/bin/app", "NIX2DREAMEXPR0x"]);
  });

  it("finds text where JSON.stringify would write it, keys included", () => {
    const stem = "NIX2DREAMEXPR";
    const cases: unknown[] = [
      { a: "x" },
      { [`k${stem}`]: 1 },
      { k: [1, null, `..${stem}..`] },
      { k: undefined, [stem]: undefined },
      { k: () => stem, [stem]: () => 1 },
      { k: { toJSON: () => stem } },
      { k: { nested: [{ deeper: `${stem}Q` }] } },
      [true, 3, "NIX2DREAM EXPR"],
    ];
    for (const c of cases) {
      expect(jsonMentions(c, stem), JSON.stringify(c)).toBe(JSON.stringify(c).includes(stem));
    }
  });
});

describe("recursiveUpdate", () => {
  it("merges attribute sets key by key and lets everything else replace", () => {
    expect(
      recursiveUpdate({ a: { b: 1, c: [1] }, d: "x" }, { a: { c: [2], e: 3 }, d: { f: 1 } }),
    ).toEqual({ a: { b: 1, c: [2], e: 3 }, d: { f: 1 } });
  });
});

describe("limits shared with render-systemd (core's systemd mapping)", () => {
  it("refuses an env value whose Environment= line would be over systemd's 1 MiB, naming the option and its file", () => {
    const { deployment } = evaluateDeployment(
      {
        name: "shop",
        use: [nixos()],
        services: { api: { command: ["/run/current-system/sw/bin/api"] } },
        modules: [
          {
            file: "modules/api.ts",
            config: { services: { api: { env: { BIG: "y".repeat(1024 * 1024) } } } },
          },
        ],
      },
      { file: "nix2dream.config.ts" },
    );
    const { diagnostics, artifacts } = nixos().render(deployment);
    const error = diagnostics.find((d) => d.severity === "error");
    expect(error).toMatchObject({ option: "services.api.env.BIG", files: ["modules/api.ts"] });
    expect(artifacts.map((a) => String(a.content)).join("")).not.toContain("y".repeat(1000));
  });
});
