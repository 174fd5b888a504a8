import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  dependencyOrder,
  evaluateDeployment,
  findDependencyCycle,
  ModuleError,
} from "../src/index.js";

const graph = (edges: Record<string, string[]>) =>
  Object.fromEntries(
    Object.entries(edges).map(([k, deps]) => [
      k,
      { dependsOn: Object.fromEntries(deps.map((d) => [d, "started"])) },
    ]),
  );

describe("dependencyOrder", () => {
  it("puts every service after its dependencies", () => {
    const { deployment } = evaluateDeployment({
      name: "shop",
      services: {
        api: { dependsOn: ["db", "migrate"] },
        db: {},
        migrate: { dependsOn: ["db"] },
        worker: { dependsOn: ["api"] },
      },
    });
    expect(dependencyOrder(deployment)).toEqual(["db", "migrate", "api", "worker"]);
  });

  it("orders independent services alphabetically, whatever the definition order", () => {
    expect(dependencyOrder({ services: graph({ c: [], a: [], b: ["c"] }) as never })).toEqual([
      "a",
      "c",
      "b",
    ]);
    expect(dependencyOrder({ services: graph({ b: ["c"], a: [], c: [] }) as never })).toEqual([
      "a",
      "c",
      "b",
    ]);
  });

  it("is the alphabetical-first topological order on any acyclic graph", () => {
    // The definition itself: repeatedly take the smallest service whose dependencies are placed.
    const reference = (edges: Record<string, string[]>): string[] => {
      const order: string[] = [];
      const left = new Set(Object.keys(edges));
      while (left.size > 0) {
        const ready = [...left]
          .filter((n) => (edges[n] ?? []).every((d) => !left.has(d) || d === n))
          .sort();
        order.push(ready[0] as string);
        left.delete(ready[0] as string);
      }
      return order;
    };
    // Edges only to names later in the list: acyclic; names shuffled so order is not given.
    const dag = fc
      .uniqueArray(fc.stringMatching(/^[a-e][a-z0-9]{0,2}$/), { minLength: 1, maxLength: 12 })
      .chain((names) =>
        fc
          .tuple(...names.map((_, i) => fc.subarray(names.slice(i + 1))))
          .map((deps) => Object.fromEntries(names.map((n, i) => [n, deps[i] ?? []]))),
      );
    fc.assert(
      fc.property(dag, (edges) => {
        expect(dependencyOrder({ services: graph(edges) as never })).toEqual(reference(edges));
      }),
    );
  });

  it("throws DEPENDENCY_CYCLE on a cycle", () => {
    const e = (() => {
      try {
        dependencyOrder({ services: graph({ a: ["b"], b: ["a"] }) as never });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ModuleError);
    expect((e as ModuleError).code).toBe("DEPENDENCY_CYCLE");
    expect((e as ModuleError).message).toContain("a -> b -> a");
  });
});

describe("findDependencyCycle", () => {
  it("starts the cycle at its alphabetically first service", () => {
    expect(findDependencyCycle(graph({ z: ["m"], m: ["b"], b: ["z"], x: [] }))).toEqual([
      "b",
      "z",
      "m",
      "b",
    ]);
  });

  it("returns null without a cycle and ignores unknown names", () => {
    expect(findDependencyCycle(graph({ a: ["b", "ghost"], b: [] }))).toBeNull();
  });
});
