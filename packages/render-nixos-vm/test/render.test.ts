// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Nix source holds literal ${...}
// biome-ignore-all lint/suspicious/noExplicitAny: JSON read back from Nix
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Artifact } from "@nix2dream/core";
import { nixosModuleFor } from "@nix2dream/render-nixos";
import { evalNix, parseNix, STUB_LIB, tempDir, writeArtifacts } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import nixosVm, { type VmManifest, vmHostName } from "../src/index.js";
import { shop } from "./fixtures/shop.js";

function write(artifacts: Artifact[]): string {
  const dir = tempDir("n2d-vm-");
  writeArtifacts(dir, artifacts);
  return dir;
}

function text(artifacts: Artifact[], p: string): string {
  return artifacts.find((a) => a.path === p)?.content as string;
}

describe("the nixos-vm renderer", () => {
  const { artifacts, diagnostics } = nixosVm().render(shop());
  const dir = write(artifacts);

  it("is named nixos-vm and writes the flake, default.nix, the machine, the module and vm.json", () => {
    expect(nixosVm().name).toBe("nixos-vm");
    expect(artifacts.map((a) => a.path)).toEqual([
      "configuration.nix",
      "default.nix",
      "flake.nix",
      "nix2dream-shop.nix",
      "vm.json",
    ]);
  });

  it.each(["configuration.nix", "default.nix", "flake.nix", "nix2dream-shop.nix"])(
    "writes %s so that nix-instantiate parses it",
    { tags: ["nix"] },
    (file) => {
      expect(() => parseNix(path.join(dir, file))).not.toThrow();
    },
  );

  it("contains exactly the module render-nixos generates, from its own options", () => {
    const d = shop();
    expect(text(artifacts, "nix2dream-shop.nix")).toBe(
      nixosModuleFor(d, { rendererName: "nixos-vm", hostPortsForwarded: true }).source,
    );
    expect(text(artifacts, "nix2dream-shop.nix")).toContain("Nice = 5;");
  });

  it("forwards exposed ports from their host port and ssh, with the VM's size and test user", {
    tags: ["nix"],
  }, () => {
    const config = evalNix(
      `(import ${dir}/configuration.nix { config = { }; lib = ${STUB_LIB}; pkgs = { }; })`,
    ) as Record<string, any>;
    expect(config.services.nix2dream.shop.enable).toBe(true);
    expect(config.networking.hostName).toBe("shop");
    const vm = config.virtualisation.vmVariant;
    expect(vm.virtualisation).toEqual({
      memorySize: 2048,
      cores: 2,
      diskSize: 4096,
      graphics: false,
      forwardPorts: [
        { from: "host", host: { port: 53 }, guest: { port: 53 }, proto: "udp" },
        { from: "host", host: { port: 18080 }, guest: { port: 8080 }, proto: "tcp" },
        { from: "host", host: { port: 2222 }, guest: { port: 22 }, proto: "tcp" },
      ],
    });
    expect(vm.users.users.tester).toEqual({
      isNormalUser: true,
      extraGroups: ["wheel"],
      initialPassword: "nix2dream",
    });
    expect(vm.services.openssh.enable).toBe(true);
  });

  it("defines nixosConfigurations, the VM package and a `nix run .#<deployment>-vm` app in the flake", {
    tags: ["nix"],
  }, () => {
    const out = evalNix(`let
  flake = import ${dir}/flake.nix;
  # STUB nixpkgs input: nixosSystem records its arguments instead of evaluating NixOS.
  nixpkgs.lib.nixosSystem = args: {
    config.system.build.vm = { outPath = "/nix/store/stub-vm"; };
    modules = builtins.length args.modules;
    system = args.system;
  };
  self = flake.outputs { inherit self nixpkgs; };
in {
  url = flake.inputs.nixpkgs.url;
  modules = self.nixosConfigurations.shop.modules;
  system = self.nixosConfigurations.shop.system;
  module = builtins.isFunction self.nixosModules.shop;
  app = self.apps.x86_64-linux.shop-vm;
  vm = "\${self.packages.x86_64-linux.default}";
}`);
    expect(out).toEqual({
      url: "github:NixOS/nixpkgs/nixos-24.11",
      modules: 2,
      system: "x86_64-linux",
      module: true,
      app: { type: "app", program: "/nix/store/stub-vm/bin/run-shop-vm" },
      vm: "/nix/store/stub-vm",
    });
  });

  it("builds the same machine without flakes from default.nix", { tags: ["nix"] }, () => {
    // STUB nixpkgs checkout: its nixos/ entry returns what it was called with.
    const stub = tempDir("n2d-nixpkgs-");
    mkdirSync(path.join(stub, "nixos"));
    writeFileSync(
      path.join(stub, "nixos", "default.nix"),
      '{ system, configuration }: { vm = "stub-vm-" + system; imports = builtins.length configuration.imports; }',
    );
    const out = evalNix(`import ${dir}/default.nix { nixpkgs = ${stub}; }`);
    expect(out).toEqual({
      nixosConfigurations: { shop: { vm: "stub-vm-x86_64-linux", imports: 2 } },
      "shop-vm": "stub-vm-x86_64-linux",
    });
  });

  it("writes vm.json with what manage-nixos-vm needs", () => {
    expect(JSON.parse(text(artifacts, "vm.json")) as VmManifest).toEqual({
      version: 1,
      deployment: "shop",
      hostName: "shop",
      system: "x86_64-linux",
      flakeAttr: "nixosConfigurations.shop.config.system.build.vm",
      nixAttr: "shop-vm",
      runScript: "bin/run-shop-vm",
      user: "tester",
      sshPort: 2222,
      forwardedPorts: [
        { service: "web", port: "dns", protocol: "udp", host: 53, guest: 53 },
        { service: "web", port: "http", protocol: "tcp", host: 18080, guest: 8080 },
      ],
    });
  });

  it("does not report a remapped host port, which the VM forwards", () => {
    expect(diagnostics.map((d) => d.option)).not.toContain("services.web.ports.http.hostPort");
  });

  it("renders byte-identical output for the same deployment", () => {
    expect(nixosVm().render(shop()).artifacts).toEqual(artifacts);
  });
});

describe("options", () => {
  it("pins nixpkgs to a revision in the flake and in default.nix", () => {
    const rev = "0123456789abcdef0123456789abcdef01234567";
    const { artifacts } = nixosVm().render(
      shop({}, { "nixos-vm": { nixpkgsRev: rev, nixpkgsSha256: "sha256-x" } }),
    );
    expect(text(artifacts, "flake.nix")).toContain(
      `inputs.nixpkgs.url = "github:NixOS/nixpkgs/${rev}";`,
    );
    expect(text(artifacts, "default.nix")).toContain(
      `{ nixpkgs ? builtins.fetchTarball { url = "https://github.com/NixOS/nixpkgs/archive/${rev}.tar.gz"; sha256 = "sha256-x"; }, system ? "x86_64-linux" }:`,
    );
  });

  it("takes defaults from the renderer and lets the deployment's options win", () => {
    const { artifacts } = nixosVm({ memory: 4096, cores: 4, system: "aarch64-linux" }).render(
      shop({ memory: 4096, cores: 4, system: "aarch64-linux" }, { "nixos-vm": { cores: 8 } }),
    );
    const config = text(artifacts, "configuration.nix");
    expect(config).toContain("memorySize = 4096;");
    expect(config).toContain("cores = 8;");
    expect(text(artifacts, "flake.nix")).toContain('system = "aarch64-linux";');
  });

  it("merges the configuration override into the machine", { tags: ["nix"] }, () => {
    const dir = write(
      nixosVm().render(
        shop(
          {},
          { "nixos-vm": { configuration: { time: { timeZone: "Europe/Paris" } }, sshPort: null } },
        ),
      ).artifacts,
    );
    const config = evalNix(
      `(import ${dir}/configuration.nix { config = { }; lib = ${STUB_LIB}; pkgs = { }; })`,
    ) as Record<string, any>;
    expect(config.time).toEqual({ timeZone: "Europe/Paris" });
    expect(config.virtualisation.vmVariant.services.openssh).toBeUndefined();
  });

  it("reports an ssh port that an exposed port already uses", () => {
    const { diagnostics } = nixosVm().render(shop({}, { "nixos-vm": { sshPort: 18080 } }));
    expect(diagnostics.find((d) => d.option === "renderers.nixos-vm.sshPort")?.severity).toBe(
      "error",
    );
  });

  it("makes a host name of a deployment name that is not one", () => {
    expect(vmHostName("my_shop.v2")).toBe("my-shop-v2");
    expect(vmHostName("___")).toBe("nix2dream");
  });
});
