/**
 * Plain `EvaluatedService`/`EvaluatedDeployment` objects, as core's evaluation produces them,
 * for renderer and launcher tests that do not want to go through `evaluateDeployment`. Core's
 * `options.test.ts` checks `serviceFixture` against the real evaluation, so the defaults here
 * cannot drift from core's.
 */
import type {
  EvaluatedDeployment,
  EvaluatedService,
  ServicePort,
  ServiceVolume,
} from "@nix2dream/core";

/** A service with every option at its default, as core's evaluation produces it. */
export function serviceFixture(
  name: string,
  over: Partial<EvaluatedService> = {},
): EvaluatedService {
  return {
    name,
    enable: true,
    description: "",
    package: { nix: null, image: null },
    command: [],
    args: [],
    preStart: "",
    workingDir: null,
    user: null,
    group: null,
    env: {},
    secrets: {},
    files: {},
    volumes: {},
    ports: {},
    healthcheck: null,
    dependsOn: {},
    restart: {
      policy: "on-failure",
      maxRetries: null,
      backoff: { initial: 1, factor: 2, max: 30 },
    },
    stop: { signal: "SIGTERM", gracePeriod: 10 },
    watch: { paths: [], ignore: [], debounce: 0.3 },
    resources: { cpu: null, memory: null },
    replicas: 1,
    labels: {},
    renderers: {} as EvaluatedService["renderers"],
    ...over,
  };
}

/** A deployment of `services` (keyed and sorted by name), as core's evaluation produces it. */
export function deploymentFixture(
  name: string,
  services: EvaluatedService[],
  over: Partial<EvaluatedDeployment> = {},
): EvaluatedDeployment {
  return {
    name,
    services: Object.fromEntries(
      services.sort((a, b) => (a.name < b.name ? -1 : 1)).map((s) => [s.name, s]),
    ),
    renderers: {} as EvaluatedDeployment["renderers"],
    managers: {} as EvaluatedDeployment["managers"],
    root: null,
    definitionFiles: {},
    warnings: [],
    ...over,
  };
}

/** A port with its defaults (tcp, not exposed, no host port). */
export function portFixture(port: number, over: Partial<ServicePort> = {}): ServicePort {
  return { port, protocol: "tcp", expose: false, hostPort: null, ...over };
}

/** A persistent volume at `path` with its defaults (no size, no init/check/clear scripts). */
export function volumeFixture(path: string, over: Partial<ServiceVolume> = {}): ServiceVolume {
  return { path, persistent: true, size: null, init: "", check: "", clear: "", ...over };
}
