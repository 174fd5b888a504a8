import { describe, expect, it } from "vitest";
import { evaluateDeployment, ModuleError, parseRefs, ref, refsIn } from "../src/index.js";

describe("file references", () => {
  it("round-trip a declared path with colons, quotes and spaces", () => {
    const path = "/etc/a: b/'c'.json";
    expect(parseRefs(`x=${ref.api?.files[path]}`)).toEqual([
      "x=",
      { service: "api", kind: "file", path },
    ]);
    expect(ref.api?.file(path)).toBe(ref.api?.files[path]);
  });

  it("are checked at evaluation: a file the service does not declare is an error naming both ends", () => {
    let error: unknown;
    try {
      evaluateDeployment(
        {
          name: "shop",
          services: {
            api: { files: { "/etc/api.json": "{}" } },
            worker: { env: { CONF: ref.api?.file("/etc/app.json") ?? "" } },
          },
        },
        { file: "nix2dream.config.ts" },
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModuleError);
    const message = (error as ModuleError).message;
    expect(message).toContain("`services.worker.env.CONF`");
    expect(message).toContain('ref.api.files["/etc/app.json"]');
    expect(message).toContain('service api has no file "/etc/app.json" (files: /etc/api.json)');
    expect(message).toContain("nix2dream.config.ts");
  });
});

describe("refsIn", () => {
  it("finds every reference in nested strings, arrays and objects, in order", () => {
    const value = {
      env: { A: `x${ref.db?.host}:${ref.db?.ports.pg}` },
      args: ["-c", ref.api?.files["/etc/a.json"]],
      deep: [{ v: ref.db?.volumes.data }],
      plain: "no refs",
    };
    expect(refsIn(value)).toEqual([
      { service: "db", kind: "host" },
      { service: "db", kind: "port", port: "pg" },
      { service: "api", kind: "file", path: "/etc/a.json" },
      { service: "db", kind: "volume", volume: "data" },
    ]);
  });
});
