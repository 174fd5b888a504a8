import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/main.js";
import { cleanProjects, config, project, requireBuild } from "./helpers.js";

beforeAll(() => requireBuild()); // the fixture config imports the built `nix2dream`
afterAll(cleanProjects);

function capture() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

describe("runCli (programmatic)", () => {
  it("resolves to the exit code and writes to the given streams", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(`{ name: "shop", use: [files(), echo()], services: {} }`),
    });
    const out = capture();
    const err = capture();
    const code = await runCli(["down"], {
      cwd: dir,
      stdout: out.stream,
      stderr: err.stream,
      env: {},
    });
    expect(code).toBe(0);
    expect(out.text()).toBe("echo down\n");
    expect(err.text()).toBe("");
  });

  it("aborts a running action when the given signal aborts", async () => {
    const dir = await project({
      "nix2dream.config.ts": config(`{ name: "shop", use: [files(), echo()], services: {} }`),
    });
    const out = capture();
    const controller = new AbortController();
    out.stream.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) controller.abort();
    });
    const code = await runCli(["up", "--wait"], {
      cwd: dir,
      stdout: out.stream,
      stderr: capture().stream,
      env: {},
      signal: controller.signal,
    });
    expect(code).toBe(0);
    expect(out.text()).toContain("stopped by abort\n");
  });

  it("reports a user error on the given stderr and resolves to 1", async () => {
    const dir = await project({});
    const err = capture();
    const code = await runCli(["render"], {
      cwd: dir,
      stdout: capture().stream,
      stderr: err.stream,
      env: {},
    });
    expect(code).toBe(1);
    expect(err.text()).toMatch(/^error: No config file found/);
  });
});
