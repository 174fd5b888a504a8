/** What the service → unit mapping reads from the whole deployment, computed once per deployment. */
import type { EvaluatedDeployment } from "../deployment.js";

/**
 * What the systemd mapping asks of the whole deployment for each service, computed once per
 * deployment rather than by a scan per service (which made rendering quadratic).
 */
interface DeploymentIndex {
  /** Services some enabled service waits for to complete. */
  oneshot: Set<string>;
  /** Services whose `restart` (or an option under it) some file defines. */
  userRestart: Set<string>;
}

// Keyed by the deployment's `services` and `definitionFiles` objects: an evaluated deployment is
// read-only, and a caller that builds a new one gets a new index.
const oneshotIndex = new WeakMap<EvaluatedDeployment["services"], Set<string>>();
const restartIndex = new WeakMap<EvaluatedDeployment["definitionFiles"], Set<string>>();

/** The index of `deployment`, built on first use. */
export function deploymentIndex(deployment: EvaluatedDeployment): DeploymentIndex {
  let oneshot = oneshotIndex.get(deployment.services);
  if (!oneshot) {
    oneshot = new Set();
    for (const s of Object.values(deployment.services)) {
      if (!s.enable) continue;
      for (const [name, condition] of Object.entries(s.dependsOn)) {
        if (condition === "completed") oneshot.add(name);
      }
    }
    oneshotIndex.set(deployment.services, oneshot);
  }
  let userRestart = restartIndex.get(deployment.definitionFiles);
  if (!userRestart) {
    userRestart = servicesDefiningRestart(Object.keys(deployment.definitionFiles));
    restartIndex.set(deployment.definitionFiles, userRestart);
  }
  return { oneshot, userRestart };
}

/**
 * Every `<svc>` such that an option `services.<svc>.restart` or `services.<svc>.restart.…` is
 * among `keys`. A service name may hold dots, so every `.restart` in a key is a candidate end.
 */
function servicesDefiningRestart(keys: readonly string[]): Set<string> {
  const out = new Set<string>();
  const prefix = "services.";
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    for (
      let i = key.indexOf(".restart", prefix.length);
      i >= 0;
      i = key.indexOf(".restart", i + 1)
    ) {
      const end = i + ".restart".length;
      if (end === key.length || key[end] === ".") out.add(key.slice(prefix.length, i));
    }
  }
  return out;
}

/** True when some enabled service waits for `name` to complete. */
export function isOneshotService(deployment: EvaluatedDeployment, name: string): boolean {
  return deploymentIndex(deployment).oneshot.has(name);
}
