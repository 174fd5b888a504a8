// TEMPORARY: exercises runCli in-process with a fake core until @nix2dream/core lands.
import { mkdtemp, realpath, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { expect, it, vi } from "vitest";

vi.mock("@nix2dream/core", () => {
  class ModuleError extends Error {
    override name = "ModuleError";
    code: string;
    optionPath?: string;
    files: string[];
    constructor(code: string, message: string, o: { optionPath?: string; files?: string[] } = {}) {
      super(message);
      this.code = code;
      this.optionPath = o.optionPath;
      this.files = o.files ?? [];
    }
  }
  return {
    ModuleError,
    ref: {},
    evaluateDeployment(def: any, opts?: { file?: string }) {
      for (const [n, s] of Object.entries<any>(def.services ?? {})) {
        for (const k of Object.keys(s))
          if (!["command"].includes(k))
            throw new ModuleError(
              "UNDECLARED_OPTION",
              `The option \`services.${n}.${k}\` does not exist. Definition values:\n- In \`${opts?.file}\``,
              { optionPath: `services.${n}.${k}`, files: [opts?.file ?? ""] },
            );
      }
      const use = def.use ?? [];
      const services = Object.fromEntries(
        Object.entries<any>(def.services ?? {}).map(([n, s]) => [
          n,
          { name: n, command: s.command ?? [] },
        ]),
      );
      return {
        deployment: {
          name: def.name,
          services,
          renderers: {},
          managers: {},
          root: null,
          definitionFiles: {},
          warnings: [],
        },
        options: {},
        renderers: use.filter((u: any) => u.render),
        managers: use.filter((u: any) => u.actions),
        warnings: [],
      };
    },
  };
});
vi.mock("@nix2dream/modules", () => ({
  optionsDocs: () => [
    {
      path: "services.<name>.command",
      type: "list of string",
      default: [],
      description: "argv",
      declarations: ["/x/core/options/service.ts"],
    },
  ],
  optionsJsonSchema: () => ({}),
}));

const { runCli } = await import("../src/main.js");

async function run(cwd: string, args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = "";
  let e = "";
  stdout.on("data", (c) => {
    o += c;
  });
  stderr.on("data", (c) => {
    e += c;
  });
  const code = await runCli(args, { cwd, stdout, stderr, env: {} });
  return { code, o, e };
}

it("smoke", async () => {
  const dir = await realpath(await mkdtemp(join(tmpdir(), "n2d-fake-")));
  await writeFile(
    join(dir, "nix2dream.config.mjs"),
    `
const files = { name: "files", render(d) { return { artifacts: Object.keys(d.services).map(n => ({ path: n + ".txt", content: d.services[n].command.join(" ") })), diagnostics: [{severity:"warning", option:"services.api.healthcheck", message:"no"}] }; } };
const echo = { name: "echo", renderer: "files", actions: { async up(ctx) { ctx.stdout.write("up!\\n"); return { exitCode: 0 }; }, async ps() { return { exitCode: 0, data: [1] }; } } };
export default { name: "shop", use: [files, echo], services: { api: { command: ["node", "a"] } } };
`,
  );
  for (const args of [
    ["render"],
    ["render", "--json"],
    ["check"],
    ["check", "--strict"],
    ["up"],
    ["ps", "--json"],
    ["options"],
    ["options", "--markdown"],
    ["--help"],
    ["render", "--help"],
    ["rendr"],
    ["render", "--bogus"],
    ["render", "nope"],
    ["stop", "api"],
    ["--version"],
  ]) {
    const r = await run(dir, args);
    console.log(
      `$ nix2dream ${args.join(" ")}  → ${r.code}\n${r.o}${r.e ? `[stderr]\n${r.e}` : ""}`,
    );
  }
  await writeFile(
    join(dir, "nix2dream.config.mjs"),
    `export default { name: "shop", services: { api: { comand: ["x"] } } };`,
  );
  const r = await run(dir, ["check"]);
  console.log(r.code, r.e);
  expect(1).toBe(1);
});
