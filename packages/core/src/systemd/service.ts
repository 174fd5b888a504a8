/**
 * How one service maps onto a systemd service, as data, shared by every target that ends in a
 * systemd unit (plain unit files, NixOS `systemd.services`). Printers only lay the sections out;
 * every value here is already unit-file text (see {@link SystemdService}). The mapping is one
 * function per aspect over a {@link UnitContext}; {@link systemdServiceOf} composes them.
 */
import type { EvaluatedDeployment, EvaluatedService } from "../deployment.js";
import { add, type SystemdService, type SystemdServiceOptions, unitContextFor } from "./context.js";
import { isOneshotService } from "./deployment-index.js";
import { environmentOf, secretsOf } from "./environment.js";
import { healthcheckOf } from "./health.js";
import {
  identityOf,
  resourcesOf,
  stopOf,
  typeAndRestartOf,
  workingDirectoryOf,
} from "./process.js";
import { execStartOf, startPreOf } from "./start.js";
import { dependenciesOf, descriptionOf } from "./unit.js";

/**
 * Maps `service` onto a systemd service. Pure: returns sections and diagnostics for what systemd
 * cannot express. See the package README of `@nix2dream/render-systemd` for the mapping table.
 *
 * - dependsOn: `started` → Wants=+After=; `healthy` → Requires=+After= (the dependency only
 *   becomes active once its ExecStartPost health probe passes); `completed` → Requires=+After=
 *   on a Type=oneshot RemainAfterExit=yes dependency.
 * - healthcheck: an ExecStartPost= probe loop (exec: the command; http: curl, else wget; tcp:
 *   curl's connect time on a telnet:// URL, else nc -z) honouring interval, timeout, retries
 *   and startPeriod, with TimeoutStartSec= covering the whole loop.
 * - secrets: required `fromFile` → LoadCredential= and read from `$CREDENTIALS_DIRECTORY` by a
 *   `sh` wrapper; `fromEnv` → PassEnvironment=; optional files read by the wrapper. No secret
 *   value is ever in the unit.
 */
export function systemdServiceOf(
  service: EvaluatedService,
  deployment: EvaluatedDeployment,
  opts: SystemdServiceOptions,
): SystemdService {
  const oneshot = opts.oneshot ?? isOneshotService(deployment, service.name);
  const ctx = unitContextFor(service, deployment, opts, oneshot);
  // The order is the order of keys in each section and of the diagnostics.
  for (const aspect of [
    descriptionOf,
    dependenciesOf,
    typeAndRestartOf,
    stopOf,
    resourcesOf,
    identityOf,
    workingDirectoryOf,
    environmentOf,
    secretsOf,
    startPreOf,
    execStartOf,
    healthcheckOf,
  ]) {
    aspect(service, ctx);
  }
  if (opts.wantedBy?.length) add(ctx.out.install, "WantedBy", ...opts.wantedBy);
  return ctx.out;
}
