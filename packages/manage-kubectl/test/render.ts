import { join } from "node:path";
import { evaluateDeployment } from "@nix2dream/core";
import k8s from "@nix2dream/render-k8s";
import { writeArtifacts } from "@nix2dream/testkit";
import kubectl from "../src/index.js";

/** Renders a small deployment with render-k8s (for real) into `<dir>/k8s`. */
export function writeRender(dir: string) {
  const { deployment } = evaluateDeployment({
    name: "shop",
    use: [k8s(), kubectl()],
    services: {
      db: {
        package: { image: "postgres:16" },
        ports: { pg: 5432 },
        volumes: { data: { path: "/data", persistent: true } },
      },
      migrate: {
        package: { image: "shop:1" },
        restart: "no",
        volumes: { out: { path: "/out", persistent: true } },
      },
      api: {
        package: { image: "shop:1" },
        ports: { http: { port: 8080, expose: true } },
        secrets: { TOKEN: {} },
        files: { "/etc/x": "x" },
        renderers: { k8s: { secrets: { TOKEN: { value: "v" } } } },
      },
    },
    renderers: {
      k8s: {
        manifests: [{ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "runner" } }],
      },
    },
  });
  const renderDir = join(dir, "k8s");
  writeArtifacts(renderDir, k8s().render(deployment).artifacts);
  return { deployment, renderDir };
}
