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
