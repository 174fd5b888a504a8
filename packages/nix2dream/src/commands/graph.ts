/** `nix2dream graph [--format mermaid|dot|svg]`: the deployment as a picture. */
import { UserError } from "../errors.js";
import type { Project } from "../project.js";
import type { CommandRun } from "./context.js";

/** Formats `graph` prints; the first is the default. */
export const GRAPH_FORMATS = ["mermaid", "dot", "svg"] as const;

/** Prints the graph of the project's deployment (loaded once the flags are checked); resolves to the exit code. */
export async function graphCommand(load: () => Promise<Project>, run: CommandRun): Promise<number> {
  const format = (run.flags.format as string | undefined) ?? GRAPH_FORMATS[0];
  if (!(GRAPH_FORMATS as readonly string[]).includes(format)) {
    throw new UserError(
      "BAD_FLAGS",
      `\`--format ${format}\` is not a graph format; use one of ${GRAPH_FORMATS.join(", ")}.`,
    );
  }
  const { deploymentGraph, toDot, toMermaid, toSvg } = await import("../graph/model.js");
  const graph = deploymentGraph((await load()).deployment);
  if (run.flags.json === true) {
    run.stdout.write(`${JSON.stringify(graph, null, 2)}\n`);
    return 0;
  }
  run.stdout.write(
    format === "dot" ? toDot(graph) : format === "svg" ? await toSvg(graph) : toMermaid(graph),
  );
  return 0;
}
