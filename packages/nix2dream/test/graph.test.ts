/**
 * `nix2dream graph`: the deployment's services, dependsOn edges (with conditions) and
 * references, as Mermaid (parsed structurally here: every line must be a node or an edge of
 * the subset we write), DOT (read back by Graphviz's own `dot -Tjson`, tagged `graphviz`) and
 * SVG (laid out in-process by @viz-js/viz, parsed as XML).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DOMParser } from "@xmldom/xmldom";
import { describe, expect, it } from "vitest";
import { importProject, n2d } from "./import-helpers.js";

// A command whose program name breaks naive quoting in every format (it is a node's detail).
const ODD = 'we"ird\\prog #1 <b>&amp;';

const CONFIG = `import { defineDeployment, ref } from "nix2dream";
export default defineDeployment({
  name: "shop",
  services: {
    db: { command: ["postgres"], ports: { pg: 5432 }, healthcheck: { command: ["pg_isready"] } },
    migrate: { command: ["migrate"], env: { DB: ref.db.host }, dependsOn: { db: "healthy" }, restart: "no" },
    api: {
      command: [${JSON.stringify(ODD)}],
      ports: { http: 8080 },
      env: { URL: \`postgres://\${ref.db.host}:\${ref.db.ports.pg}/shop\` },
      dependsOn: { db: "healthy", migrate: "completed" },
    },
    "web.front-1": { command: ["web"], env: { API: ref.api.address.http }, dependsOn: ["api"] },
  },
});
`;

const EDGES = [
  { from: "api", to: "db", kind: "dependsOn", label: "healthy" },
  { from: "api", to: "migrate", kind: "dependsOn", label: "completed" },
  { from: "api", to: "db", kind: "ref", label: "ref host, ports.pg" },
  { from: "migrate", to: "db", kind: "dependsOn", label: "healthy" },
  { from: "migrate", to: "db", kind: "ref", label: "ref host" },
  { from: "web.front-1", to: "api", kind: "dependsOn", label: "started" },
  { from: "web.front-1", to: "api", kind: "ref", label: "ref address.http" },
];
const sortEdges = (e: typeof EDGES) =>
  [...e].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

function shop(): string {
  const dir = importProject(null);
  writeFileSync(join(dir, "nix2dream.config.ts"), CONFIG);
  return dir;
}

/** Parses the Mermaid subset `graph` writes; throws on any other line. */
function parseMermaid(text: string) {
  const [head, ...lines] = text.trimEnd().split("\n");
  expect(head).toBe("flowchart LR");
  const decode = (s: string) => s.replace(/#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));
  const nodes = new Map<string, string>();
  const edges: typeof EDGES = [];
  for (const line of lines) {
    const node = /^ {2}(s\d+)\["([^"]*)"\]$/.exec(line);
    const edge = /^ {2}(s\d+) (-->|-\.->)\|"([^"]*)"\| (s\d+)$/.exec(line);
    if (node) nodes.set(node[1] as string, decode(node[2] as string));
    else if (edge) {
      const name = (id: string) => /^<b>(.*?)<\/b>/.exec(nodes.get(id) ?? "")?.[1] ?? `?${id}`;
      edges.push({
        from: name(edge[1] as string),
        to: name(edge[4] as string),
        kind: edge[2] === "-->" ? "dependsOn" : "ref",
        label: decode(edge[3] as string),
      });
    } else throw new Error(`not a node or an edge: ${line}`);
  }
  return { nodes: [...nodes.values()], edges };
}

describe("nix2dream graph", () => {
  it("prints Mermaid by default: one node per service, solid dependsOn and dotted reference edges", () => {
    const r = n2d(shop(), ["graph"]);
    expect(r.code, r.stderr).toBe(0);
    const { nodes, edges } = parseMermaid(r.stdout);
    expect(nodes.map((n) => /^<b>(.*?)<\/b>/.exec(n)?.[1])).toEqual([
      "api",
      "db",
      "migrate",
      "web.front-1",
    ]);
    expect(nodes[0]).toContain(ODD);
    expect(sortEdges(edges)).toEqual(sortEdges(EDGES));
  });

  it("gives the same graph as data with --json", () => {
    const r = n2d(shop(), ["graph", "--json"]);
    const g = JSON.parse(r.stdout);
    expect(g.nodes.map((n: { name: string }) => n.name)).toEqual([
      "api",
      "db",
      "migrate",
      "web.front-1",
    ]);
    expect(g.nodes[0].detail).toBe(ODD);
    const labelled = g.edges.map((e: (typeof EDGES)[number]) => ({
      ...e,
      label: e.kind === "ref" ? `ref ${e.label}` : e.label,
    }));
    expect(sortEdges(labelled)).toEqual(sortEdges(EDGES));
  });

  it("prints DOT that Graphviz reads back with the same nodes, labels and edges", {
    tags: ["graphviz"],
  }, () => {
    const r = n2d(shop(), ["graph", "--format", "dot"]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(
      execFileSync("dot", ["-Tjson"], { input: r.stdout, encoding: "utf8" }),
    ) as {
      objects: Array<{ name: string; label: string }>;
      edges: Array<{ tail: number; head: number; label: string; style: string }>;
    };
    expect(json.objects.map((o) => o.name)).toEqual(["api", "db", "migrate", "web.front-1"]);
    // The label as Graphviz keeps it: DOT's escapes (`\\`, `\n`) and `&` as an entity, which
    // its renderers turn back into the text (the SVG test checks that text).
    const escaped = ODD.replaceAll("\\", "\\\\").replaceAll("&", "&amp;");
    expect(json.objects[0]?.label).toBe(`api\\n${escaped}\\nhttp:8080`);
    const edges = json.edges.map((e) => ({
      from: json.objects[e.tail]?.name,
      to: json.objects[e.head]?.name,
      kind: e.style === "dashed" ? "ref" : "dependsOn",
      label: e.label,
    }));
    expect(sortEdges(edges as typeof EDGES)).toEqual(sortEdges(EDGES));
  });

  it("lays out SVG without any system tool: well-formed XML with every node and edge", () => {
    const r = n2d(shop(), ["graph", "--format", "svg"]);
    expect(r.code, r.stderr).toBe(0);
    const errors: string[] = [];
    const doc = new DOMParser({
      onError: (level, msg) => errors.push(`${level}: ${msg}`),
    }).parseFromString(r.stdout, "image/svg+xml");
    expect(errors).toEqual([]);
    expect(doc.documentElement?.nodeName).toBe("svg");
    const groups = Array.from(doc.getElementsByTagName("g"));
    const titles = (cls: string) =>
      groups
        .filter((g) => g.getAttribute("class") === cls)
        .map((g) => g.getElementsByTagName("title")[0]?.textContent);
    expect(titles("node").sort()).toEqual(["api", "db", "migrate", "web.front-1"]);
    expect(titles("edge").sort()).toEqual(EDGES.map((e) => `${e.from}->${e.to}`).sort());
    const texts = Array.from(doc.getElementsByTagName("text")).map((t) => t.textContent);
    expect(texts).toContain(ODD);
    expect(texts).toContain("ref host, ports.pg");
  });

  it("draws an imported Compose project", () => {
    const project = importProject("voting");
    expect(n2d(project, ["import"]).code).toBe(0);
    const { edges } = parseMermaid(n2d(project, ["graph"]).stdout);
    expect(edges).toContainEqual({
      from: "ballot",
      to: "queue",
      kind: "dependsOn",
      label: "healthy",
    });
    expect(edges).toContainEqual({
      from: "ballot",
      to: "queue",
      kind: "ref",
      label: "ref host, ports.redis",
    });
  });

  it("refuses an unknown format, naming the ones it has", () => {
    const r = n2d(shop(), ["graph", "--format", "png"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/`--format png` is not a graph format; use one of mermaid, dot, svg/);
  });
});
