import { describe, expect, it } from "vitest";
import { definitionFilesOf } from "../src/index.js";

const deployment = {
  definitionFiles: {
    services: ["/p/root.ts"],
    "services.api": ["/p/api.ts"],
    "services.api.env": ["/p/env.ts", "/p/more.ts"],
    "services.api.env.EMPTY": [],
    // The keys hold names unquoted: a name with dots is found through its quoted form.
    "services.api.files./etc/app.conf": ["/p/files.ts"],
    "services.web.x.y": ["/p/web.ts"],
  },
};

describe("definitionFilesOf", () => {
  it("gives the files of the option itself", () => {
    expect(definitionFilesOf(deployment, "services.api.env")).toEqual(["/p/env.ts", "/p/more.ts"]);
  });

  it("falls back to the nearest enclosing option that has files, skipping empty lists", () => {
    expect(definitionFilesOf(deployment, "services.api.env.X")).toEqual([
      "/p/env.ts",
      "/p/more.ts",
    ]);
    expect(definitionFilesOf(deployment, "services.api.env.EMPTY")).toEqual([
      "/p/env.ts",
      "/p/more.ts",
    ]);
    expect(definitionFilesOf(deployment, "services.api.ports.http.port")).toEqual(["/p/api.ts"]);
    expect(definitionFilesOf(deployment, "services.db.ports")).toEqual(["/p/root.ts"]);
    expect(definitionFilesOf(deployment, "renderers.k8s")).toEqual([]);
    expect(definitionFilesOf(deployment, "")).toEqual([]);
  });

  it("does not take a prefix that ends inside a name for an enclosing option", () => {
    expect(definitionFilesOf(deployment, "services.apix.env")).toEqual(["/p/root.ts"]);
  });

  it("reads a JSON-quoted name with dots as one name", () => {
    expect(definitionFilesOf(deployment, 'services.api.files."/etc/app.conf".mode')).toEqual([
      "/p/files.ts",
    ]);
    expect(definitionFilesOf(deployment, 'services.api.files."/etc/other.conf"')).toEqual([
      "/p/api.ts",
    ]);
  });

  it("reads empty segments as nothing (a path with stray dots)", () => {
    expect(definitionFilesOf(deployment, "services..web.x.y")).toEqual(["/p/web.ts"]);
    expect(definitionFilesOf(deployment, ".services.api.")).toEqual(["/p/api.ts"]);
  });

  it("returns a copy the caller may change", () => {
    const files = definitionFilesOf(deployment, "services.api");
    files.push("/p/changed.ts");
    expect(deployment.definitionFiles["services.api"]).toEqual(["/p/api.ts"]);
  });
});
