import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nixExpr } from "@nix2dream/core/nix";
import { artifact, fileTempDir, HOSTILE, writeArtifacts } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import { IMAGES_FILE, type ImagesManifest } from "../src/index.js";
import { render, run } from "./helpers.js";

const root = fileTempDir("n2d-oci-nix-");
let n = 0;

/** `pkgs` stand-in for evaluation: no nixpkgs is reachable here, so builders return their arguments. */
const FAKE_PKGS = `{
  busybox = "busybox"; redis = "redis"; python3Packages.flask = "flask";
  writeTextFile = a: a; runCommand = name: env: script: { inherit name script; };
  dockerTools.buildLayeredImage = a: a;
}`;

/** Writes the render and evaluates `<svc>/image.nix` with the stand-in `pkgs`, as JSON. */
function evaluateImage(r: ReturnType<typeof render>, svc: string): Record<string, unknown> {
  const dir = join(root, String(n++));
  writeArtifacts(dir, r.artifacts);
  const file = join(dir, svc, "image.nix");
  const parse = run(["nix-instantiate", "--parse", file]);
  expect(parse.stderr).toBe("");
  expect(parse.status).toBe(0);
  const ev = run([
    "nix-instantiate",
    "--eval",
    "--strict",
    "--json",
    "-E",
    `import ${file} { pkgs = ${FAKE_PKGS}; }`,
  ]);
  expect(ev.stderr).toBe("");
  expect(ev.status).toBe(0);
  return JSON.parse(ev.stdout);
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: a Nix interpolation that must stay literal
const NASTY = 'conf/a "b" ${c}.conf';
const hostileEnv = Object.fromEntries(HOSTILE.map((h, i) => [`V${i}`, h]));
const hostileLabels = Object.fromEntries(HOSTILE.map((h, i) => [`l${i}`, h]));

describe("image.nix", () => {
  it("is written only for services whose package names a Nix derivation", () => {
    const r = render({
      name: "shop",
      services: {
        cache: { package: { nix: "nixpkgs#redis" }, command: ["redis-server"] },
        api: { command: ["/bin/app"] },
      },
    });
    expect(r.artifacts.map((a) => a.path).filter((p) => p.endsWith(".nix"))).toEqual([
      "cache/image.nix",
    ]);
    const m: ImagesManifest = JSON.parse(artifact(r.artifacts, IMAGES_FILE));
    expect(m.images.cache?.nix).toBe("cache/image.nix");
    expect(m.images.api?.nix).toBeNull();
  });

  it("parses and evaluates back to hostile env values and labels byte for byte, secrets left out", {
    tags: ["nix"],
  }, () => {
    const r = render({
      name: "shop",
      services: {
        cache: {
          package: { nix: "pkgs.redis" },
          command: ["redis-server"],
          env: hostileEnv,
          labels: hostileLabels,
          secrets: { TOKEN: {} },
          workingDir: "/var/lib/x",
          user: "1000",
          group: "1000",
          ports: { r: 6379 },
        },
      },
    });
    const img = evaluateImage(r, "cache");
    const config = img.config as Record<string, unknown>;
    const env = config.Env as string[];
    expect(env[0]).toBe("PATH=/bin");
    expect(env.slice(1).sort()).toEqual(HOSTILE.map((h, i) => `V${i}=${h}`).sort());
    expect(config.Labels).toEqual({
      ...hostileLabels,
      "org.nix2dream.deployment": "shop",
      "org.nix2dream.service": "cache",
    });
    expect(config.Entrypoint).toEqual(["/bin/sh", "/nix2dream/entrypoint.sh"]);
    expect(config.ExposedPorts).toEqual({ "6379/tcp": {} });
    expect(config.WorkingDir).toBe("/var/lib/x");
    expect(config.User).toBe("1000:1000");
    expect(JSON.stringify(config)).not.toContain("TOKEN");
    expect(img.contents).toEqual([
      "busybox",
      {
        name: "nix2dream-launcher",
        text: artifact(r.artifacts, "cache/entrypoint.sh"),
        executable: true,
        destination: "/nix2dream/entrypoint.sh",
      },
      "redis",
    ]);
    const m: ImagesManifest = JSON.parse(artifact(r.artifacts, IMAGES_FILE));
    expect(`${img.name}:${img.tag}`).toBe(m.images.cache?.tags[0]);
  });

  it("copies source files into the image from a path with hostile characters", {
    tags: ["nix"],
  }, () => {
    const conf = mkdtempSync(join(root, "conf-"));
    mkdirSync(join(conf, "conf"));
    writeFileSync(join(conf, NASTY), "x=1\n");
    const r = render(
      {
        name: "shop",
        services: {
          cache: {
            package: { nix: "nixpkgs#python3Packages.flask" },
            command: ["flask"],
            files: { "/etc/x.conf": { source: NASTY } },
          },
        },
      },
      {},
      conf,
    );
    const img = evaluateImage(r, "cache");
    expect((img.contents as unknown[]).at(-2)).toBe("flask");
    const sources = (img.contents as unknown[]).at(-1) as { script: string };
    expect(sources.script).toMatch(
      /^mkdir -p \$out\/nix2dream\/sources\ncp \/nix\/store\/[a-z0-9]{32}-nix2dream-source-0 \$out\/nix2dream\/sources\/0-a__b____c_.conf\n$/,
    );
  });

  it("deep-merges nixOverride, with nixExpr for raw Nix", { tags: ["nix"] }, () => {
    const r = render({
      name: "shop",
      renderers: { oci: { nixOverride: { maxLayers: 50 } } },
      services: {
        cache: {
          package: { nix: "redis" },
          command: ["redis-server"],
          renderers: {
            oci: { nixOverride: { config: { Cmd: ["--save", ""] }, created: nixExpr('"now"') } },
          },
        },
      },
    });
    const img = evaluateImage(r, "cache");
    expect(img.maxLayers).toBe(50);
    expect(img.created).toBe("now");
    expect((img.config as Record<string, unknown>).Cmd).toEqual(["--save", ""]);
    expect((img.config as Record<string, unknown>).Entrypoint).toEqual([
      "/bin/sh",
      "/nix2dream/entrypoint.sh",
    ]);
  });

  it("refuses a package that is not a nixpkgs attribute path instead of writing it into Nix", () => {
    const r = render({
      name: "shop",
      services: { cache: { package: { nix: 'redis; builtins.abort "x"' }, command: ["x"] } },
    });
    expect(r.artifacts.some((a) => a.path.endsWith(".nix"))).toBe(false);
    expect(r.diagnostics.map((d) => [d.severity, d.option])).toEqual([
      ["error", "services.cache.package.nix"],
    ]);
  });
});
