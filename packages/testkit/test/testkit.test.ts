import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  artifact,
  deploymentFixture,
  evalNix,
  fileTempDir,
  freePort,
  goldenFiles,
  HOSTILE,
  heldTwoBytesACharacter,
  listen,
  portFixture,
  readmeBlocks,
  readmeExample,
  serviceFixture,
  volumeFixture,
} from "../src/index.js";

const dir = fileTempDir("n2d-testkit-");

function readme(text: string): string {
  const file = join(mkdtempSync(join(dir, "readme-")), "README.md");
  writeFileSync(file, text);
  return file;
}

describe("readmeBlocks", () => {
  it("returns the ts blocks in order, only those after the heading when asked", () => {
    const file = readme("# x\n```ts\none\n```\n```sh\nno\n```\n## Usage\n```ts\ntwo\n```\n");
    expect(readmeBlocks(file)).toEqual(["one\n", "two\n"]);
    expect(readmeBlocks(file, { after: "## Usage" })).toEqual(["two\n"]);
    expect(readmeBlocks(file, { after: "## Missing" })).toEqual([]);
  });
});

describe("readmeExample", () => {
  it("runs the first ts block without imports, with defineDeployment as the identity", () => {
    const file = readme(
      '```ts\nimport x from "x";\n// a comment\nexport default defineDeployment({ n: twice(2) });\n```\n',
    );
    expect(readmeExample(file, { twice: (n: number) => n * 2 })).toEqual({ n: 4 });
  });
});

describe("goldenFiles", () => {
  it("holds each artifact's text, bytes decoded, and the diagnostics as JSON", () => {
    const files = goldenFiles(
      [
        { path: "a.txt", content: "it's ✓" },
        { path: "b.bin", content: new TextEncoder().encode("bytes ✓") },
      ],
      [],
    );
    expect([...files]).toEqual([
      ["a.txt", "it's ✓"],
      ["b.bin", "bytes ✓"],
      ["diagnostics.json", "[]\n"],
    ]);
  });
});

describe("heldTwoBytesACharacter", () => {
  it("tells how V8 holds a string, not what it contains", () => {
    const marked = `${"x".repeat(20)}\uE000${"y".repeat(30)}`;
    expect(heldTwoBytesACharacter("plain ascii")).toBe(false);
    expect(heldTwoBytesACharacter("latin-1 ünïcödé")).toBe(false);
    expect(heldTwoBytesACharacter("a ✓")).toBe(true);
    // All Latin-1, but a slice of a two-byte string and what is built from it stay two-byte.
    expect(heldTwoBytesACharacter(marked.slice(21))).toBe(true);
    expect(heldTwoBytesACharacter(`${marked.slice(21)}z`)).toBe(true);
    expect(heldTwoBytesACharacter(Buffer.from(marked.slice(21), "latin1").toString("latin1"))).toBe(
      false,
    );
    expect(heldTwoBytesACharacter("")).toBe(false);
  });
});

describe("artifact", () => {
  it("names the paths there are when the one asked for is missing", () => {
    expect(() => artifact([{ path: "x", content: "" }], "y")).toThrow("no artifact y; have x");
  });
});

describe("fixtures", () => {
  it("sorts a deployment's services by name and keeps the overrides", () => {
    const d = deploymentFixture("d", [serviceFixture("b"), serviceFixture("a", { replicas: 2 })]);
    expect(Object.keys(d.services)).toEqual(["a", "b"]);
    expect(d.services.a?.replicas).toBe(2);
  });

  it("fills port and volume defaults", () => {
    expect(portFixture(80, { expose: true })).toEqual({
      port: 80,
      protocol: "tcp",
      expose: true,
      hostPort: null,
    });
    expect(volumeFixture("/data")).toEqual({
      path: "/data",
      persistent: true,
      size: null,
      init: "",
      check: "",
      clear: "",
    });
  });
});

describe("freePort", () => {
  it("gives a port a server can listen on", async () => {
    const port = await freePort();
    const server = createServer();
    expect(await listen(server, port)).toBe(port);
    await new Promise((r) => server.close(r));
  });
});

describe("evalNix", () => {
  it("evaluates Nix strings holding the hostile values back to them (real nix-instantiate)", {
    tags: ["nix"],
  }, () => {
    // Nix has no escape for other control characters than \n, \r and \t.
    const control = (s: string) =>
      [...s].some((c) => (c < " " && !"\n\r\t".includes(c)) || c === "\x7f");
    const strings = HOSTILE.filter((s) => !control(s));
    const expr = `[ ${strings.map((s) => JSON.stringify(s).replaceAll("${", "\\${")).join(" ")} ]`;
    expect(evalNix(expr)).toEqual(strings);
  });
});

describe("fileTempDir", () => {
  it("makes a directory under the system's temporary directory", () => {
    expect(dir.startsWith(join(tmpdir(), "n2d-testkit-"))).toBe(true);
  });
});
