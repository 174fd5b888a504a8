#!/usr/bin/env node
// bench/k8s: render-k8s on large deployments. Evaluation (core + modules) and render are timed
// separately; render is the pure `renderObjects` + YAML files step. Prints a table.
//   node bench/k8s/run.mjs [sizes...]   default: 100 1000
import { evaluateDeployment, ref } from "../../packages/core/dist/index.js";
import k8s, { manifestFiles, renderObjects } from "../../packages/render-k8s/dist/index.js";

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
if (sizes.length === 0) sizes.push(100, 1000);

/** n services: a third with a persistent volume, files, a healthcheck, a dependency and refs. */
function definition(n) {
  const services = {};
  for (let i = 0; i < n; i++) {
    const name = `svc${String(i).padStart(4, "0")}`;
    const dep = i > 0 ? `svc${String(i - 1).padStart(4, "0")}` : null;
    services[name] = {
      package: { image: `shop/${name}:1.0` },
      command: ["node", "server.mjs"],
      args: ["--port", ref[name].ports.http],
      env: { NAME: name, ...(dep ? { UPSTREAM: `http://${ref[dep].address.http}` } : {}) },
      secrets: { TOKEN: {} },
      ports: {
        http: { port: 8080, ...(i % 10 === 0 ? { expose: true, hostPort: 30000 + i / 10 } : {}) },
      },
      healthcheck: { port: "http", path: "/healthz" },
      ...(dep ? { dependsOn: { [dep]: "healthy" } } : {}),
      ...(i % 3 === 0
        ? {
            volumes: { data: { path: "/data", persistent: true, size: "1Gi" } },
            files: { "/etc/app.json": `{"name":"${name}"}` },
          }
        : {}),
      resources: { cpu: 0.25, memory: "128Mi" },
      replicas: 2,
    };
  }
  return { name: "bench", use: [k8s()], services };
}

const time = (f) => {
  const t = process.hrtime.bigint();
  const v = f();
  return [v, Number(process.hrtime.bigint() - t) / 1e6];
};

// Warm-up so the JIT has seen the code paths.
{
  const { deployment } = evaluateDeployment(definition(50));
  for (let i = 0; i < 5; i++) manifestFiles(renderObjects(deployment).objects);
}

const rows = [];
for (const n of sizes) {
  const [{ deployment }, evalMs] = time(() => evaluateDeployment(definition(n)));
  const runs = [];
  let objects = 0;
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    const [[objs, files], ms] = time(() => {
      const r = renderObjects(deployment);
      return [r.objects, manifestFiles(r.objects)];
    });
    objects = objs.length;
    bytes = files.reduce((s, f) => s + f.content.length, 0);
    runs.push(ms);
  }
  runs.sort((a, b) => a - b);
  const median = runs[Math.floor(runs.length / 2)];
  const [, objectsOnlyMs] = time(() => renderObjects(deployment));
  rows.push({
    services: n,
    objects,
    "evaluate ms": Math.round(evalMs),
    "render ms (median of 5)": Math.round(median),
    "objects only ms": Math.round(objectsOnlyMs),
    "objects/s": Math.round(objects / (median / 1000)),
    "output MB": (bytes / 1e6).toFixed(1),
  });
}
console.log(`node ${process.version}, ${process.arch}`);
console.table(rows);
