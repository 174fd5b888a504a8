/** The dependency graph of services (`dependsOn`), shared by every target. */
import { ModuleError } from "@nix2dream/modules";
import type { EvaluatedDeployment } from "./deployment.js";

type Graph = Record<string, { dependsOn: Record<string, unknown> }>;

function sortedKeys(o: object): string[] {
  return Object.keys(o).sort();
}

/**
 * Finds a dependency cycle among `services`, as the list of names along it with the first name
 * repeated at the end (`["a", "b", "a"]`), or null. Dependencies on names outside `services`
 * are ignored. Deterministic: the cycle starts at its alphabetically first service.
 */
export function findDependencyCycle(services: Graph): string[] | null {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    state.set(name, "visiting");
    stack.push(name);
    for (const dep of sortedKeys(services[name]?.dependsOn ?? {})) {
      if (!(dep in services)) continue;
      const s = state.get(dep);
      if (s === "visiting") {
        const cycle = stack.slice(stack.indexOf(dep));
        const first = cycle.indexOf([...cycle].sort()[0] as string);
        const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
        return [...rotated, rotated[0] as string];
      }
      if (s === undefined) {
        const found = visit(dep);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(name, "done");
    return null;
  };
  for (const name of sortedKeys(services)) {
    if (state.has(name)) continue;
    const found = visit(name);
    if (found) return found;
  }
  return null;
}

/**
 * The services in start order: every service after the services it depends on; among
 * services that are ready at the same time, alphabetical. Stop in the reverse order.
 * @throws ModuleError `DEPENDENCY_CYCLE` when the services depend on each other in a cycle
 * (an evaluated deployment never has one).
 */
export function dependencyOrder(deployment: Pick<EvaluatedDeployment, "services">): string[] {
  const services = deployment.services;
  const remaining = new Map<string, Set<string>>();
  for (const name of sortedKeys(services)) {
    const deps = Object.keys(services[name]?.dependsOn ?? {}).filter(
      (d) => d in services && d !== name,
    );
    remaining.set(name, new Set(deps));
  }
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([n]) => n);
    if (ready.length === 0) {
      const cycle = findDependencyCycle(services) ?? [...remaining.keys()];
      throw new ModuleError(
        "DEPENDENCY_CYCLE",
        `Services depend on each other in a cycle: ${cycle.join(" -> ")}.`,
      );
    }
    // Take one at a time so the order is a stable, alphabetical-first topological sort.
    const next = ready.sort()[0] as string;
    order.push(next);
    remaining.delete(next);
    for (const deps of remaining.values()) deps.delete(next);
  }
  return order;
}
