/**
 * The extension contract, proven from outside, as a third party meets it: every public package
 * packed with `pnpm pack`, checked with publint and attw, and installed with npm (from the
 * tarballs; the registry only for external dependencies) into projects in a temporary directory
 * outside the workspace. The projects are the files of docs/third-party-renderer.md, read from
 * the guide itself: a supervisord renderer package and a module package are type-checked,
 * built, packed and installed beside ours; the app is type-checked with tsc, renders Kubernetes
 * manifests programmatically, and runs the CLI (`render`, `up -d`, `ps`, `down`).
 * Needs the npm registry (or npm's cache) for typescript, @types/node and our external deps.
 */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileTempDir } from "../../packages/testkit/src/temp.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const GUIDE = join(ROOT, "docs/third-party-renderer.md");
const rootPkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const PNPM = ["npx", "--yes", String(rootPkg.packageManager)];
/** The versions the workspace builds with, so the projects check against the same compiler. */
const TOOLS = [
  `typescript@${installedVersion("typescript")}`,
  `@types/node@${installedVersion("@types/node")}`,
];

const work = fileTempDir("n2d-third-party-");
const tarballs = () => join(work, "tarballs");
const build = () => join(work, "build");
const app = () => join(work, "app");

function installedVersion(name: string): string {
  return JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
}

/** The public packages of the workspace: name → directory. */
function publicPackages(): Map<string, string> {
  const out = new Map<string, string>();
  for (const dir of readdirSync(join(ROOT, "packages"))) {
    const pkg = JSON.parse(readFileSync(join(ROOT, "packages", dir, "package.json"), "utf8"));
    if (!pkg.private) out.set(pkg.name, dir);
  }
  return out;
}

/** The code blocks of the guide marked ```` ```ts file=<path> ````, by path. */
function guideFiles(): Map<string, string> {
  const text = readFileSync(GUIDE, "utf8");
  return new Map(
    [...text.matchAll(/```\w+ file=(\S+)\n([\s\S]*?)```/g)].map((m) => [
      m[1] as string,
      m[2] as string,
    ]),
  );
}

function writeGuideFiles(prefix: string, into: string): void {
  for (const [path, content] of guideFiles()) {
    if (!path.startsWith(prefix)) continue;
    const target = join(into, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

function run(argv: string[], cwd: string, timeout = 300_000): SpawnSyncReturns<string> {
  return spawnSync(argv[0] as string, argv.slice(1), {
    cwd,
    encoding: "utf8",
    timeout,
    env: { ...process.env, NO_COLOR: "1", NPM_CONFIG_UPDATE_NOTIFIER: "false" },
  });
}

/** Runs and fails with the command's output when it exits non-zero. */
function ok(argv: string[], cwd: string, timeout?: number): string {
  const r = run(argv, cwd, timeout);
  if (r.status !== 0) {
    throw new Error(
      `${argv.join(" ")} (in ${cwd}) exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`,
    );
  }
  return r.stdout;
}

const npmInstall = (cwd: string, specs: string[]) =>
  ok(["npm", "install", "--prefer-offline", "--no-audit", "--no-fund", "-D", ...specs], cwd);

function tarballOf(name: string): string {
  const file = `${name.replace(/^@/, "").replace("/", "-")}-`;
  const found = readdirSync(tarballs()).find(
    (f) => f.startsWith(file) && /^\d/.test(f.slice(file.length)),
  );
  if (!found) throw new Error(`no tarball for ${name} in ${tarballs()}`);
  return join(tarballs(), found);
}

/** A new npm project at `dir`. */
function project(dir: string, name: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ name, private: true, type: "module" }, null, 2)}\n`,
  );
}

const tsc = (dir: string, ...args: string[]) =>
  run([process.execPath, join(dir, "node_modules/typescript/bin/tsc"), ...args], dir);
const cli = (...args: string[]) =>
  run(
    [process.execPath, join(app(), "node_modules/nix2dream/bin/nix2dream.js"), ...args],
    app(),
    120_000,
  );

beforeAll(() => {
  mkdirSync(tarballs(), { recursive: true });
  ok(
    [...PNPM, "-r", "--filter", "!@nix2dream/testkit", "pack", "--pack-destination", tarballs()],
    ROOT,
  );

  // The third-party packages are built where core and modules are installed as devDependencies.
  project(build(), "third-party-build");
  npmInstall(build(), [tarballOf("@nix2dream/core"), tarballOf("@nix2dream/modules"), ...TOOLS]);
  writeGuideFiles("render-supervisord/", build());
  writeGuideFiles("module-team/", build());
  for (const pkg of ["render-supervisord", "module-team"]) {
    const dir = join(build(), pkg);
    const r = tsc(build(), "-p", dir);
    if (r.status !== 0) throw new Error(`tsc -p ${pkg}:\n${r.stdout}${r.stderr}`);
    ok(["npm", "pack", "--pack-destination", tarballs()], dir);
  }

  project(app(), "third-party-app");
  writeGuideFiles("app/", work);
  const ours = [...publicPackages().keys()].map(tarballOf);
  const theirs = ["nix2dream-render-supervisord", "nix2dream-module-team"].map(tarballOf);
  npmInstall(app(), [...ours, ...theirs, ...TOOLS]);
}, 900_000);

afterAll(() => {
  // Whatever happened above, nothing of the app keeps running.
  cli("down");
});

// tsc and npm on a loaded machine: minutes, not the default 30 s.
describe("the public packages, packed", { timeout: 600_000 }, () => {
  it("each pass publint (strict) and attw", () => {
    for (const name of publicPackages().keys()) {
      const tgz = tarballOf(name);
      const lint = run([join(ROOT, "node_modules/.bin/publint"), "run", tgz, "--strict"], ROOT);
      expect(lint.status, `publint ${name}:\n${lint.stdout}${lint.stderr}`).toBe(0);
      const types = run(
        [join(ROOT, "node_modules/.bin/attw"), tgz, "--profile", "esm-only", "--format", "ascii"],
        ROOT,
      );
      expect(types.status, `attw ${name}:\n${types.stdout}${types.stderr}`).toBe(0);
    }
  });

  it("each carry a LICENSE and publish no devDependencies or workspace scripts", () => {
    for (const name of publicPackages().keys()) {
      const files = ok(["tar", "-tzf", tarballOf(name)], ROOT).split("\n");
      expect(files, name).toContain("package/LICENSE");
      const manifest = JSON.parse(
        ok(["tar", "-xOzf", tarballOf(name), "package/package.json"], ROOT),
      );
      expect(manifest.devDependencies, name).toBeUndefined();
      expect(manifest.scripts, name).toBeUndefined();
      expect(JSON.stringify(manifest), name).not.toContain("workspace:");
    }
  });
});

describe("a project installing them with npm, beside two third-party packages", {
  timeout: 300_000,
}, () => {
  it("has exactly one copy of @nix2dream/core and of @nix2dream/modules", () => {
    for (const name of ["@nix2dream/core", "@nix2dream/modules"]) {
      const paths = ok(["npm", "ls", name, "--all", "--parseable"], app())
        .split("\n")
        .filter(Boolean);
      expect(new Set(paths), name).toEqual(new Set([join(app(), "node_modules", name)]));
    }
  });

  it("type-checks with tsc: the config, the module's and the renderer's options included", () => {
    const r = tsc(app(), "-p", ".");
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it("rejects at compile time a wrong type in a third-party renderer's and module's option", () => {
    const bad = join(app(), "bad");
    mkdirSync(bad);
    writeFileSync(
      join(bad, "bad.ts"),
      [
        'import { defineDeployment } from "nix2dream";',
        'import "nix2dream-module-team";',
        'import "nix2dream-render-supervisord";',
        "export default defineDeployment({",
        '  name: "bad",',
        "  owner: 42,",
        '  services: { web: { team: ["a"], renderers: { supervisord: { priorty: 1 } } } },',
        "});",
        "export const typed = defineDeployment(",
        '  { name: "typed", services: { web: { ports: { http: 1 } }, poller: { dependsOn: ["wbe"] } } },',
        "  () => ({}),",
        ");",
        "export const refs = defineDeployment(",
        '  { name: "refs", services: { web: { ports: { http: 1 } }, poller: {} } },',
        "  ({ ref }) => ({ poller: { env: { URL: ref.web.address.htp } } }),",
        ");",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(bad, "tsconfig.json"),
      JSON.stringify({
        extends: "../tsconfig.json",
        compilerOptions: { noEmit: true },
        include: ["bad.ts"],
      }),
    );
    const r = tsc(app(), "-p", "bad");
    const out = r.stdout + r.stderr;
    expect(r.status, out).not.toBe(0);
    expect(out).toMatch(/bad\.ts\(6,\d+\).*owner|bad\.ts\(6,/);
    expect(out).toMatch(/bad\.ts\(7,\d+\)/);
    expect(out).toContain("priorty");
    // The typed form: an unknown service in dependsOn, an unknown port in a reference.
    expect(out).toMatch(/bad\.ts\(10,\d+\).*"wbe"/);
    expect(out).toMatch(/bad\.ts\(15,\d+\).*htp/);
    expect(out.match(/error TS/g)?.length).toBe(5);
  });

  it("renders Kubernetes manifests programmatically (compiled by tsc, run by node)", () => {
    const yaml = ok([process.execPath, join(app(), "dist/k8s.js")], app());
    expect(yaml).toMatch(/^kind: Deployment$/m);
    expect(yaml).toMatch(/^kind: Service$/m);
    expect(yaml).toMatch(/^ {2}namespace: shop$/m);
    expect(yaml).toMatch(/^ {2}replicas: 2$/m);
    expect(yaml).toContain("livenessProbe");
  });

  it("renders with the third-party renderer and the option the module added, through the CLI", () => {
    const r = cli("render");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const out = join(app(), ".nix2dream/third-party");
    expect(readFileSync(join(out, "owners/OWNERS"), "utf8")).toBe(
      "poller platform (deployment owner: ops@example.com)\nweb storefront (deployment owner: ops@example.com)\n",
    );
    const conf = readFileSync(join(out, "supervisord/supervisord.conf"), "utf8");
    expect(conf).toContain("[program:web]\n");
    expect(conf).toMatch(/\[program:web\][^[]*\npriority=10\n/);
    expect(conf).toMatch(/\[program:poller\][^[]*\nautostart=false\n/);
    expect(conf).toContain('environment=WEB_URL="http://127.0.0.1:18641/"');
    expect(conf).toContain('environment=PORT="18641"');
  });

  it("a wrong value for the module's option is an evaluation error naming the option and the file", () => {
    const config = readFileSync(join(app(), "nix2dream.config.ts"), "utf8");
    writeFileSync(join(app(), "wrong.config.ts"), config.replace('team: "storefront"', "team: 7"));
    const r = cli("check", "--config", "wrong.config.ts");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("services.web.team");
    expect(r.stderr).toContain("wrong.config.ts");
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("starts the services with up -d, lists them with ps and stops them with down", async () => {
    const up = cli("up", "-d");
    expect(up.status, up.stdout + up.stderr).toBe(0);
    // The web server answers once its healthcheck passed; the poller waits for that.
    let states: Array<{ name: string; state: string }> = [];
    for (let i = 0; i < 200; i++) {
      const ps = cli("ps", "--json");
      expect(ps.status, ps.stderr).toBe(0);
      states = JSON.parse(ps.stdout);
      if (states.every((s) => s.state === "running")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(states.map((s) => [s.name, s.state])).toEqual([
      ["poller", "running"],
      ["web", "running"],
    ]);
    expect(await (await fetch("http://127.0.0.1:18641/")).text()).toBe("ok");
    const table = cli("ps");
    expect(table.stdout).toMatch(/^web\s/m);
    const down = cli("down");
    expect(down.status, down.stdout + down.stderr).toBe(0);
    await expect(fetch("http://127.0.0.1:18641/")).rejects.toThrow();
    expect(cli("ps").status).toBe(1);
  });
});
