/** What the service → unit mapping reads from the whole deployment, computed once per deployment. */
import { definitionFilesAt } from "../definition-files.js";
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

// Keyed by the deployment: an evaluated deployment is read-only, and a caller that builds a new
// one gets a new index. (Not by its `definitionFiles`: reading that record builds it.)
const indexes = new WeakMap<EvaluatedDeployment, DeploymentIndex>();

/** The index of `deployment`, built on first use. */
export function deploymentIndex(deployment: EvaluatedDeployment): DeploymentIndex {
  let index = indexes.get(deployment);
  if (!index) {
    index = {
      oneshot: oneshotServices(deployment),
      userRestart: servicesDefiningRestart(deployment),
    };
    indexes.set(deployment, index);
  }
  return index;
}

function oneshotServices(deployment: EvaluatedDeployment): Set<string> {
  const oneshot = new Set<string>();
  for (const s of Object.values(deployment.services)) {
    if (!s.enable) continue;
    for (const [name, condition] of Object.entries(s.dependsOn)) {
      if (condition === "completed") oneshot.add(name);
    }
  }
  return oneshot;
}

/**
 * The services whose `restart` (or an option under it, which is a definition of `restart`) some
 * file defines. Asked by path array: a service named `api.restart` is not `api`'s restart.
 */
function servicesDefiningRestart(deployment: EvaluatedDeployment): Set<string> {
  const out = new Set<string>();
  for (const name of Object.keys(deployment.services)) {
    if (definitionFilesAt(deployment, ["services", name, "restart"]).length > 0) out.add(name);
  }
  return out;
}

/** True when some enabled service waits for `name` to complete. */
export function isOneshotService(deployment: EvaluatedDeployment, name: string): boolean {
  return deploymentIndex(deployment).oneshot.has(name);
}
