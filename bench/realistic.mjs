// The realistic deployment shape shared by bench/core and bench/render: N services with a
// command, args, env with cross-service references, ports, a persistent volume, a config file, a
// healthcheck, dependsOn, restart, resources, labels and a secret, defined by the deployment and
// by a second module with mkDefault/mkForce. Every 10th service is disabled by that module.

/**
 * The definition of `n` realistic services. `lib` carries `ref` (from @nix2dream/core) and
 * `mkDefault`/`mkForce` (from @nix2dream/modules); `use` is the renderers and managers in use.
 */
export function realisticDefinition(n, { ref, mkDefault, mkForce }, use = []) {
  const names = serviceNames(n);
  return {
    name: "bench",
    use,
    services: Object.fromEntries(names.map((name, i) => [name, service(names, i, ref, mkDefault)])),
    modules: [
      {
        file: "bench/overrides.ts",
        config: {
          services: Object.fromEntries(
            names.map((name, i) => [
              name,
              { env: { MODE: "dev" }, replicas: mkForce(1), enable: i % 10 !== 9 },
            ]),
          ),
        },
      },
    ],
  };
}

/** The service names of a deployment of `n` services. */
export const serviceNames = (n) => Array.from({ length: n }, (_, i) => `svc${i}`);

/** How many services of `n` stay enabled. */
export const enabledCount = (n) => serviceNames(n).filter((_, i) => i % 10 !== 9).length;

function service(names, i, ref, mkDefault) {
  const name = names[i];
  // Services depend on the previous enabled one.
  const dep = i > 0 ? names[i % 10 === 0 ? i - 2 : i - 1] : undefined;
  return {
    description: `service ${name}`,
    command: ["node", `app/${name}.mjs`],
    args: ["--name", name, "--port", ref[name].ports.http],
    env: {
      SERVICE: name,
      MODE: mkDefault("prod"),
      DATA_DIR: ref[name].volumes.data,
      CONFIG: ref[name].files[`/etc/${name}/config.json`],
      ...(dep ? { UPSTREAM: `http://${ref[dep].address.http}` } : {}),
    },
    secrets: { TOKEN: { fromEnv: "BENCH_TOKEN" } },
    ports: { http: 20000 + i, metrics: { port: 40000 + (i % 20000), expose: false } },
    volumes: { data: { path: `/var/lib/${name}`, persistent: true } },
    files: { [`/etc/${name}/config.json`]: JSON.stringify({ name, i }) },
    healthcheck: { port: "http", path: "/healthz", interval: "5s", startPeriod: "10s" },
    ...(dep ? { dependsOn: { [dep]: "started" } } : {}),
    restart: "on-failure",
    resources: { cpu: 0.5, memory: "256Mi" },
    labels: { tier: i % 2 ? "api" : "worker" },
  };
}
