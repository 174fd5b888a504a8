/**
 * `@nix2dream/render-procfile`: a nix2dream deployment as a Procfile, one launcher script per
 * service, and `processes.json` for manage-local.
 */
import { defineRenderer, type EvaluatedDeployment, type Renderer } from "@nix2dream/core";
import { type ProcfileOptions, renderProcfile } from "./render.js";

export type { PlannedProbe, PlannedProcess, PlannedWatch, ProcessPlan } from "./plan.js";
export { PLAN_FILE, PLAN_VERSION } from "./plan.js";
export type { ProcfileOptions } from "./render.js";
export { LAUNCHERS_DIR, PROCFILE } from "./render.js";

/**
 * The Procfile renderer. `render` writes `Procfile` (one `name: sh launchers/<name>.sh` line per
 * service, for foreman, honcho or overmind), `.foreman` (formation and stop timeout for
 * `foreman start`), `launchers/<name>.sh` and `processes.json` (the {@link ProcessPlan}), and
 * reports every option the target cannot express as a diagnostic.
 */
export default function procfile(opts: ProcfileOptions = {}): Renderer<"procfile"> {
  return defineRenderer({
    name: "procfile",
    render: (deployment: EvaluatedDeployment) => renderProcfile(deployment, opts),
  });
}

export { procfile };
