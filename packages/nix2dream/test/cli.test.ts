import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cleanProjects,
  cli,
  cliOnTty,
  config,
  project,
  put,
  requireBuild,
  startCli,
} from "./helpers.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

const basic = config(`{
  name: "shop",
  use: [files(), echo()],
  services: {
    api: { command: ["node", "api.mjs"] },
    worker: { command: ["node", "worker.mjs"] },
  },
}`);

const out = (dir: string, ...rest: string[]) => join(dir, ".nix2dream", "shop", ...rest);
const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at /);

beforeAll(() => requireBuild());
afterAll(cleanProjects);

describe("nix2dream render", () => {
  it("writes every artifact and a manifest under .nix2dream/<deployment>/<renderer>/", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["render"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readdirSync(out(dir, "files")).sort()).toEqual([
      ".nix2dream-manifest.json",
      "api.txt",
      "index.txt",
      "worker.txt",
    ]);
    expect(readFileSync(out(dir, "files", "api.txt"), "utf8")).toBe(
      "# rendered by files\nnode api.mjs\n",
    );
    const manifest = JSON.parse(
      readFileSync(out(dir, "files", ".nix2dream-manifest.json"), "utf8"),
    );
    expect(Object.keys(manifest.files).sort()).toEqual(["api.txt", "index.txt", "worker.txt"]);
    expect(manifest.files["api.txt"].sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("prints what it wrote", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["render"]);
    expect(r.stdout).toContain("rendered files → .nix2dream/shop/files/ (3 files)");
    expect(r.stdout).toContain("  api.txt\n");
  });

  it("prints what it wrote as JSON with --json", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["render", "--json"]);
    const data = JSON.parse(r.stdout);
    expect(data.deployment).toBe("shop");
    expect(data.renderers[0]).toMatchObject({
      name: "files",
      dir: out(dir, "files"),
      written: ["api.txt", "index.txt", "worker.txt"],
      removed: [],
    });
  });

  it("removes a stale file it wrote but keeps a file the user put there", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    cli(dir, ["render"]);
    await put(dir, ".nix2dream/shop/files/NOTES.md", "mine\n");
    await put(
      dir,
      "nix2dream.config.ts",
      config(
        `{ name: "shop", use: [files()], services: { api: { command: ["node", "api.mjs"] } } }`,
      ),
    );
    const r = cli(dir, ["render"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("- worker.txt (stale, removed)");
    expect(readdirSync(out(dir, "files")).sort()).toEqual([
      ".nix2dream-manifest.json",
      "NOTES.md",
      "api.txt",
      "index.txt",
    ]);
  });

  it("writes nothing and exits 1 without a stack trace when a renderer throws", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(
        `{ name: "shop", use: [files({ fail: true })], services: { api: { command: ["x"] } } }`,
      ),
    });
    const r = cli(dir, ["render"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "error: The renderer `files` failed: the files renderer cannot render this deployment. Nothing was written.",
    );
    noStack(r.stderr);
    expect(existsSync(join(dir, ".nix2dream"))).toBe(false);
  });

  it("writes nothing for any renderer when another one fails", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(
        `{ name: "shop", use: [files(), files({ name: "zz", fail: true })], services: { api: { command: ["x"] } } }`,
      ),
    });
    const r = cli(dir, ["render"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("The renderer `zz` failed");
    expect(existsSync(join(dir, ".nix2dream"))).toBe(false);
  });

  it("shows the stack trace of a failing renderer with --debug", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(`{ name: "shop", use: [files({ fail: true })], services: {} }`),
    });
    const r = cli(dir, ["render", "--debug"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/plugins\.ts:\d+/);
  });

  it("refuses an artifact path that escapes its directory, naming the renderer", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(
        `{ name: "shop", use: [files({ extraPath: "../../evil" })], services: {} }`,
      ),
    });
    const r = cli(dir, ["render"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The renderer `files` produced the artifact path "../../evil"');
    noStack(r.stderr);
    expect(existsSync(join(dir, ".nix2dream"))).toBe(false);
  });

  it("refuses an absolute artifact path", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(
        `{ name: "shop", use: [files({ extraPath: "/tmp/evil" })], services: {} }`,
      ),
    });
    const r = cli(dir, ["render"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("which is absolute");
  });

  it("renders only the renderers named on the command line", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["render", "files"]);
    expect(r.code).toBe(0);
    expect(existsSync(out(dir, "files", "api.txt"))).toBe(true);
  });

  it("names the registered renderers when asked for an unknown one", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["render", "filez"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "The renderer `filez` is not registered in nix2dream.config.ts; registered renderers: files.",
    );
    expect(r.stderr).toContain("Did you mean `files`?");
  });

  it("writes under --out", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    cli(dir, ["render", "--out", "build"]);
    expect(existsSync(join(dir, "build", "shop", "files", "api.txt"))).toBe(true);
  });

  it("prints diagnostics as warnings and still writes", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(
        `{ name: "shop", use: [files({ diagnostic: true })], services: { api: { command: ["x"] } } }`,
      ),
    });
    const r = cli(dir, ["render"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "warning: services.api.healthcheck: the files target has no healthchecks; ignored.",
    );
    expect(existsSync(out(dir, "files", "api.txt"))).toBe(true);
  });

  const eightServices = config(
    `{ name: "shop", use: [files({ diagnostic: true })], services: Object.fromEntries(
      ["a", "b", "c", "d", "e", "f", "g", "h"].map((n) => [n, { command: ["x"] }])) }`,
  );

  it("folds the same diagnostic for many services into one paragraph", async () => {
    const dir = await project({ "nix2dream.config.ts": eightServices });
    const r = cli(dir, ["render"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "warning: services.<name>.healthcheck: the files target has no healthchecks; ignored. [files]\n" +
        "  for 8 services: a, b, c, d, e and 3 more (--all-warnings lists each)\n",
    );
    expect(JSON.parse(cli(dir, ["check", "--json"]).stdout).renderers[0].diagnostics).toHaveLength(
      8,
    );
  });

  it("prints every diagnostic on a line of its own with --all-warnings", async () => {
    const dir = await project({ "nix2dream.config.ts": eightServices });
    const r = cli(dir, ["render", "--all-warnings"]);
    expect(r.code).toBe(0);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(8);
    expect(lines[7]).toBe(
      "warning: services.h.healthcheck: the files target has no healthchecks; ignored. [files]",
    );
  });

  it("folds the same evaluation warning for many services, and --all-warnings prints each", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(
        `{ name: "shop", use: [files()], services: {
          db: { command: ["db"], restart: "always" },
          ...Object.fromEntries(["a", "b", "c", "d", "e", "f", "g", "h"].map((n) =>
            [n, { command: ["x"], dependsOn: { db: "completed" } }])) } }`,
      ),
    });
    const r = cli(dir, ["render"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      "warning: The option `services.<name>.dependsOn.db` (nix2dream.config.ts) waits for db to complete, but `services.db.restart.policy` is `always`: db is restarted each time it exits. Use `on-failure` or `no` for a one-shot service.\n" +
        "  for 8 services: a, b, c, d, e and 3 more (--all-warnings lists each)\n",
    );
    const all = cli(dir, ["render", "--all-warnings"]).stderr.trimEnd().split("\n");
    expect(all).toHaveLength(8);
    expect(all[7]).toMatch(/^warning: The option `services\.h\.dependsOn\.db` /);
    const strict = cli(dir, ["render", "--strict"]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain("8 problems reported as errors under --strict");
  });

  it("counts every folded diagnostic as an error under --strict", async () => {
    const dir = await project({ "nix2dream.config.ts": eightServices });
    const r = cli(dir, ["render", "--strict"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: services.<name>.healthcheck: the files target");
    expect(r.stderr).toContain("8 problems reported as errors under --strict");
  });

  it("turns a diagnostic into exit 1 and writes nothing with --strict", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(
        `{ name: "shop", use: [files({ diagnostic: true })], services: { api: { command: ["x"] } } }`,
      ),
    });
    const r = cli(dir, ["render", "--strict"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "error: services.api.healthcheck: the files target has no healthchecks",
    );
    expect(existsSync(join(dir, ".nix2dream"))).toBe(false);
  });
});

describe("config loading", () => {
  it("finds the config in a parent directory and writes beside it", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    await mkdir(join(dir, "src", "deep"), { recursive: true });
    const r = cli(join(dir, "src", "deep"), ["render"]);
    expect(r.code).toBe(0);
    expect(existsSync(out(dir, "files", "api.txt"))).toBe(true);
  });

  it("loads the file given with --config", async () => {
    const dir = await project({
      "deploy/other.config.ts": basic.replace("./plugins.ts", "../plugins.ts"),
    });
    const r = cli(dir, ["render", "--config", "deploy/other.config.ts"]);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, "deploy", ".nix2dream", "shop", "files", "api.txt"))).toBe(true);
  });

  it("lists the names it searched for when no config exists", async () => {
    const dir = await project({});
    const r = cli(dir, ["render"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "No config file found: looked for nix2dream.config.ts, nix2dream.config.mts, nix2dream.config.js, nix2dream.config.mjs",
    );
    noStack(r.stderr);
  });

  it("names the file and line of a syntax error in the config", async () => {
    const dir = await project({ "nix2dream.config.ts": 'export default {\n  name: "a",,\n};\n' });
    const r = cli(dir, ["render"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: Could not load the config file nix2dream\.config\.ts \(line 2, column \d+\)/,
    );
    noStack(r.stderr);
  });

  it("names the file and line of a config that throws, without a stack trace", async () => {
    const dir = await project({
      "nix2dream.config.ts":
        'const port: number = 1;\nthrow new Error("no database configured");\n',
    });
    const r = cli(dir, ["check"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: Could not load the config file nix2dream\.config\.ts \(line 2, column \d+\): no database configured\n/,
    );
    noStack(r.stderr);
  });

  it("names the option, the config file and a likely fix for an undeclared option", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(
        `{ name: "shop", use: [files()], services: { api: { comand: ["x"] } } }`,
      ),
    });
    const r = cli(dir, ["check"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("services.api.comand");
    expect(r.stderr).toContain("nix2dream.config.ts");
    expect(r.stderr).toContain("services.api.command");
    noStack(r.stderr);
  });
});

describe("nix2dream check", () => {
  it("reports success and writes nothing", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["check"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "ok shop: 2 services, 1 renderer (files: 3 files), 0 warnings; nothing written.",
    );
    expect(existsSync(join(dir, ".nix2dream"))).toBe(false);
  });

  it("fails on a diagnostic with --strict", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(
        `{ name: "shop", use: [files({ diagnostic: true })], services: { api: { command: ["x"] } } }`,
      ),
    });
    const r = cli(dir, ["check", "--strict"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("1 problem reported as errors under --strict");
  });

  it("fails check --strict when a Compose service's program is not in the busybox base image", async () => {
    const composeDist = new URL("../../render-compose/dist/index.js", import.meta.url).href;
    const dir = await project({
      "nix2dream.config.ts": config(
        `{ name: "shop", use: [compose()], services: { db: { command: ["postgres"] } } }`,
        `import compose from ${JSON.stringify(composeDist)};`,
      ),
    });
    const ok = cli(dir, ["check"]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain("`postgres` is not in the base image `busybox:stable`");
    const strict = cli(dir, ["check", "--strict"]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain("services.db.command");
    noStack(strict.stderr);
  });

  it("refuses an escaping artifact path without writing", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(
        `{ name: "shop", use: [files({ extraPath: "a/../../b" })], services: {} }`,
      ),
    });
    const r = cli(dir, ["check"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("escapes the output directory");
  });

  it("fails when a manager's renderer is not registered", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(`{ name: "shop", use: [echo()], services: {} }`),
    });
    const r = cli(dir, ["check"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "The manager `echo` runs what the renderer `files` produces, but that renderer is not registered in nix2dream.config.ts.",
    );
  });

  it("prints services, artifacts and diagnostics as JSON with --json", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const data = JSON.parse(cli(dir, ["check", "--json"]).stdout);
    expect(data).toMatchObject({ ok: true, deployment: "shop", services: ["api", "worker"] });
    expect(data.renderers[0].artifacts.map((a: { path: string }) => a.path)).toEqual([
      "api.txt",
      "worker.txt",
      "index.txt",
    ]);
  });
});

describe("nix2dream options", () => {
  it("lists core and registered options with type, default and where declared, as JSON", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["options", "--json"]);
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    const header = entries.find((e) => e.path === "renderers.files.header");
    expect(header).toMatchObject({
      type: expect.any(String),
      default: "# rendered by files",
      declaredIn: expect.any(Array),
      description: "First line of every file the `files` renderer writes.",
    });
    expect(entries.some((e) => String(e.path).startsWith("services."))).toBe(true);
  });

  it("prints each option with its description, type, default and where it is declared", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["options"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      [
        "renderers.files.header",
        "    First line of every file the `files` renderer writes.",
        "    type:        string",
        '    default:     "# rendered by files"',
      ].join("\n"),
    );
    expect(r.stdout).toMatch(
      /^services\.<name>\.command\n(.*\n)*? {4}declared in: @nix2dream\/core\//m,
    );
  });

  it("prints a JSON Schema of the options with --schema", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const schema = JSON.parse(cli(dir, ["options", "--schema"]).stdout);
    expect(schema.properties.renderers.properties.files.properties.header).toMatchObject({
      type: "string",
      default: "# rendered by files",
    });
  });

  it("prints Markdown with --markdown", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["options", "--markdown"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# nix2dream options\n/);
    expect(r.stdout).toContain(
      "## `renderers.files.header`\n\nFirst line of every file the `files` renderer writes.\n\n*Type:*",
    );
    expect(r.stdout).toContain('*Default:* `"# rendered by files"`');
  });

  it("lists the core options when there is no config", async () => {
    const dir = await project({});
    const r = cli(dir, ["options", "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("listing the core options only");
    expect(JSON.parse(r.stdout).length).toBeGreaterThan(10);
  });
});

describe("help and version", () => {
  it("prints the version with --version", async () => {
    const dir = await project({});
    const r = cli(dir, ["--version"]);
    expect(r.stdout).toBe(`${pkg.version}\n`);
    expect(r.code).toBe(0);
  });

  it("lists every command, the flags and examples with --help", async () => {
    const dir = await project({});
    const r = cli(dir, ["--help"]);
    expect(r.code).toBe(0);
    for (const c of ["render", "check", "options", "up", "down", "ps", "logs", "restart", "stop"]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, "m"));
    }
    for (const f of [
      "--config",
      "--out",
      "--manager",
      "--json",
      "--strict",
      "--debug",
      "--version",
    ]) {
      expect(r.stdout).toContain(f);
    }
    expect(r.stdout).toContain("EXAMPLES");
  });

  it("shows the renderers and managers of the project in `help`", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["help"]);
    expect(r.stdout).toContain("renderers: files");
    expect(r.stdout).toContain("greet      say hello");
  });

  it("names the project in --help without loading its config", async () => {
    // A config that would throw when loaded: --help must not notice.
    const dir = await project({ "nix2dream.config.ts": 'throw new Error("loaded");\n' });
    const r = cli(dir, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("THIS PROJECT (nix2dream.config.ts)");
    expect(r.stdout).toContain("`nix2dream help` lists its renderers, managers and their actions.");
    expect(r.stdout).not.toContain("could not be loaded");
  });

  it("prints the help when run without a command", async () => {
    const dir = await project({});
    const r = cli(dir, []);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("USAGE\n  nix2dream <command> [arguments] [flags]");
  });

  it("still prints the help when the config is broken, and says so", async () => {
    const dir = await project({ "nix2dream.config.ts": "export default {,};\n" });
    const r = cli(dir, ["help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("COMMANDS");
    expect(r.stdout).toContain("The config could not be loaded; `nix2dream check` says why.");
  });

  it("prints a command's usage, flags and examples with <command> --help", async () => {
    const dir = await project({});
    const r = cli(dir, ["logs", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("nix2dream logs [service...] [-f] [flags]");
    expect(r.stdout).toContain("-f, --follow");
    expect(r.stdout).toContain("nix2dream logs api -f");
  });

  it("adds the project's manager description to a manager command's --help", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["up", "--help"]);
    expect(r.stdout).toContain("MANAGER echo\n  print the rendered files\n");
  });

  it("rejects an unknown command with a suggestion", async () => {
    const dir = await project({});
    const r = cli(dir, ["rendr"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Unknown command `rendr`");
    expect(r.stderr).toContain("Did you mean `nix2dream render`?");
  });

  it("rejects an unknown flag in one paragraph", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["render", "--frobnicate"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--frobnicate");
    noStack(r.stderr);
  });
});

describe("colour", () => {
  const warned = config(
    `{ name: "shop", use: [files({ diagnostic: true })], services: { api: { command: ["x"] } } }`,
  );

  it("is off when the output is not a terminal", async () => {
    const dir = await project({ "nix2dream.config.ts": warned });
    expect(cli(dir, ["check"]).stderr).not.toContain("\x1b[");
  });

  it("is on when the output is a terminal", async () => {
    const dir = await project({ "nix2dream.config.ts": warned });
    const r = cliOnTty(dir, ["check"]);
    expect(r.stdout).toContain("\x1b[33m\x1b[1mwarning:");
  });

  it("is off on a terminal with NO_COLOR", async () => {
    const dir = await project({ "nix2dream.config.ts": warned });
    const r = cliOnTty(dir, ["check"], { NO_COLOR: "1" });
    expect(r.stdout).toContain("warning:");
    expect(r.stdout).not.toContain("\x1b[");
  });

  it("is on with FORCE_COLOR", async () => {
    const dir = await project({ "nix2dream.config.ts": warned });
    expect(cli(dir, ["check"], { FORCE_COLOR: "1" }).stderr).toContain("\x1b[");
  });

  it("is never on with NO_COLOR, even with FORCE_COLOR", async () => {
    const dir = await project({ "nix2dream.config.ts": warned });
    const r = cli(dir, ["check"], { FORCE_COLOR: "1", NO_COLOR: "1" });
    expect(r.stderr).toContain("warning:");
    expect(r.stderr + r.stdout).not.toContain("\x1b[");
  });
});

describe("manager commands", () => {
  it("renders the manager's renderer before up", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["up"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("echo up: .nix2dream-manifest.json,api.txt,index.txt,worker.txt\n");
  });

  it("passes service names and flags to logs", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    expect(cli(dir, ["logs", "api", "-f"]).stdout).toBe(
      "echo logs api follow=true tail=undefined\n",
    );
  });

  it("prints an action's data with --json", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    expect(JSON.parse(cli(dir, ["ps", "--json"]).stdout)).toEqual([
      { name: "api", state: "running" },
      { name: "worker", state: "running" },
    ]);
  });

  it("exits with the action's exit code and gives it the state dir", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["restart", "api"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`state=${out(dir, "state", "echo")}`);
    expect(statSync(out(dir, "state", "echo")).isDirectory()).toBe(true);
  });

  it("keeps the value of --tail for the action", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    expect(cli(dir, ["logs", "--tail", "50", "api"]).stdout).toBe(
      "echo logs api follow=false tail=50\n",
    );
  });

  it("says which actions the manager supports", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const r = cli(dir, ["stop", "api"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "The manager `echo` has no `stop` action; it supports: down, greet, logs, ps, restart, up.",
    );
  });

  it("dispatches an extra action of the manager", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    expect(cli(dir, ["greet"]).stdout).toBe("hello from echo\n");
  });

  it("parses the values of flags a manager declares, in both spellings", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    expect(cli(dir, ["greet", "--to", "you all", "x"]).stdout).toBe(
      "hello from echo to you all [x]\n",
    );
    expect(cli(dir, ["greet", "--to=you"]).stdout).toBe("hello from echo to you\n");
    const r = cli(dir, ["greet", "--to"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("The flag --to needs a value.");
  });

  it("renders before an action that builds or starts, not before one on what already runs", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const out = join(dir, ".nix2dream", "shop", "files");
    for (const action of ["down", "ps", "logs"]) {
      expect(cli(dir, [action]).code).toBe(0);
      expect(existsSync(out), `rendered before ${action}`).toBe(false);
    }
    const r = cli(dir, ["greet"]);
    expect(r.stderr).toContain("rendered");
    expect(existsSync(out)).toBe(true);
  });

  it("asks for --manager when several are registered and none is local", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(
        `{ name: "shop", use: [files(), echo("a"), echo("b")], services: {} }`,
      ),
    });
    const r = cli(dir, ["down"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Several managers are registered");
    expect(cli(dir, ["down", "--manager", "b"]).stdout).toBe("b down\n");
  });

  it("uses the manager called local when several are registered", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(
        `{ name: "shop", use: [files(), echo("a"), echo("local")], services: {} }`,
      ),
    });
    expect(cli(dir, ["down"]).stdout).toBe("local down\n");
  });

  it("says how to add a manager when none is registered", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(`{ name: "shop", use: [files()], services: {} }`),
    });
    const r = cli(dir, ["up"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("No manager is registered in nix2dream.config.ts.");
  });

  it("forwards SIGINT during up as the abort signal", async () => {
    const dir = await project({ "nix2dream.config.ts": basic });
    const child = startCli(dir, ["up", "--wait"]);
    let stdout = "";
    let interrupted = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (!interrupted && stdout.includes("ready\n")) {
          interrupted = true;
          child.kill("SIGINT");
        }
      });
      child.on("exit", (c) => resolve(c));
    });
    expect(stdout).toContain("stopped by abort\n");
    expect(code).toBe(0);
  });
});
