/**
 * The deployment as a graph: services, their `dependsOn` edges with conditions, and the
 * references between them. Printed as Mermaid or DOT; DOT is laid out as SVG by Graphviz
 * compiled to WebAssembly (`@viz-js/viz`), loaded only by `graph --format svg`.
 */
import { type EvaluatedDeployment, type Ref, refsIn } from "@nix2dream/core";

/** One service. */
export interface GraphNode {
  name: string;
  /** `image`, `nix` package or the program, whichever says most. */
  detail: string;
  /** `name:port` of each port. */
  ports: string[];
}

/** `from` waits for `to` (dependsOn), or `from` refers to `to` (references). */
export interface GraphEdge {
  from: string;
  to: string;
  kind: "dependsOn" | "ref";
  /** The condition (`started`, `healthy`, `completed`), or what is referred to (`host, ports.pg`). */
  label: string;
}

/** What `nix2dream graph` draws. */
export interface DeploymentGraph {
  name: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** The graph of an evaluated deployment; nodes and edges in a stable order. */
export function deploymentGraph(d: EvaluatedDeployment): DeploymentGraph {
  const names = Object.keys(d.services).sort();
  const nodes = names.map((name) => {
    const s = d.services[name] as EvaluatedDeployment["services"][string];
    const detail = s.package.image ?? s.package.nix ?? s.command[0] ?? "";
    const ports = Object.entries(s.ports).map(([p, v]) => `${p}:${v.port}`);
    return { name, detail, ports };
  });
  const edges: GraphEdge[] = [];
  for (const name of names) {
    const s = d.services[name] as EvaluatedDeployment["services"][string];
    for (const [dep, condition] of Object.entries(s.dependsOn).sort()) {
      if (dep in d.services)
        edges.push({ from: name, to: dep, kind: "dependsOn", label: condition });
    }
    const { env, command, args, preStart, files, healthcheck } = s;
    const byTarget = new Map<string, Set<string>>();
    for (const r of refsIn({ env, command, args, preStart, files, healthcheck })) {
      if (r.service === name || !(r.service in d.services)) continue;
      const set = byTarget.get(r.service) ?? new Set<string>();
      set.add(refLabel(r));
      byTarget.set(r.service, set);
    }
    for (const [to, what] of [...byTarget].sort(([a], [b]) => (a < b ? -1 : 1))) {
      edges.push({ from: name, to, kind: "ref", label: [...what].sort().join(", ") });
    }
  }
  return { name: d.name, nodes, edges };
}

function refLabel(r: Ref): string {
  switch (r.kind) {
    case "host":
      return "host";
    case "port":
      return `ports.${r.port}`;
    case "address":
      return `address.${r.port}`;
    case "volume":
      return `volumes.${r.volume}`;
    case "file":
      return `files[${JSON.stringify(r.path)}]`;
  }
}

// ---------------------------------------------------------------------------------------------
// Mermaid

/** Mermaid node ids: `s0`, `s1`... (service names may hold `.` and `-`, which Mermaid reads as syntax). */
function ids(g: DeploymentGraph): Map<string, string> {
  return new Map(g.nodes.map((n, i) => [n.name, `s${i}`]));
}

/** Text inside a Mermaid `"..."` label: `"` and `#` as entity codes, so nothing ends or bends the label. */
function mermaidText(s: string): string {
  return s.replace(/[#"<>&\n\r]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** A Mermaid flowchart (`flowchart LR`): solid arrows for dependsOn, dotted for references. */
export function toMermaid(g: DeploymentGraph): string {
  const id = ids(g);
  const lines = ["flowchart LR"];
  for (const n of g.nodes) {
    const extra = [n.detail, n.ports.join(" ")].filter(Boolean).map(mermaidText);
    const label = [
      `<b>${mermaidText(n.name)}</b>`,
      ...extra.map((e) => `<small>${e}</small>`),
    ].join("<br/>");
    lines.push(`  ${id.get(n.name)}["${label}"]`);
  }
  for (const e of g.edges) {
    const arrow = e.kind === "dependsOn" ? "-->" : "-.->";
    lines.push(
      `  ${id.get(e.from)} ${arrow}|"${mermaidText(e.kind === "ref" ? `ref ${e.label}` : e.label)}"| ${id.get(e.to)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// DOT

/** A DOT double-quoted string: `"` and `\` escaped, newlines as `\n`. */
export function dotString(s: string): string {
  return `"${s.replace(/[\\"]/g, "\\$&").replace(/\r?\n|\r/g, "\\n")}"`;
}

/** A label: Graphviz reads `&...;` entities in every label, so `&` is written `&amp;`. */
function dotLabel(s: string): string {
  return dotString(s.replaceAll("&", "&amp;"));
}

/** A Graphviz digraph: solid edges for dependsOn (labelled with the condition), dashed for references. */
export function toDot(g: DeploymentGraph): string {
  const lines = [
    `digraph ${dotString(g.name)} {`,
    "  rankdir=LR;",
    '  node [shape=box, style="rounded", fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  for (const n of g.nodes) {
    const label = [n.name, n.detail, n.ports.join(" ")].filter(Boolean).join("\n");
    lines.push(`  ${dotString(n.name)} [label=${dotLabel(label)}];`);
  }
  for (const e of g.edges) {
    const style = e.kind === "dependsOn" ? "solid" : "dashed";
    const label = e.kind === "ref" ? `ref ${e.label}` : e.label;
    lines.push(
      `  ${dotString(e.from)} -> ${dotString(e.to)} [label=${dotLabel(label)}, style=${style}];`,
    );
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** SVG of the DOT graph, laid out by Graphviz (WebAssembly; imported on first use). */
export async function toSvg(g: DeploymentGraph): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  return viz.renderString(toDot(g), { format: "svg", engine: "dot" });
}
