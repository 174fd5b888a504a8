/**
 * Checks core makes on every renderer's output, whoever wrote the renderer: a reference left
 * unresolved in an artifact is an error naming the renderer, the file and line, and the option
 * the reference came from. (A target would otherwise get a placeholder instead of a host, port
 * or path — a container healthcheck that can never pass, say — and nothing would warn.)
 */
import type { Artifact, Diagnostic, RenderResult } from "./contracts.js";
import type { EvaluatedDeployment } from "./deployment.js";
import { diagnostic } from "./helpers.js";
import { describeRef, type Ref, refToken, unresolvedRefsIn } from "./refs.js";

/** The option path (`services.db.healthcheck.command.2`) of the first value holding `token`. */
function optionHolding(deployment: EvaluatedDeployment, token: string): string | undefined {
  const walk = (v: unknown, path: string): string | undefined => {
    if (typeof v === "string") return v.includes(token) ? path : undefined;
    if (v === null || typeof v !== "object") return undefined;
    for (const [k, x] of Object.entries(v)) {
      const hit = walk(x, `${path}.${k}`);
      if (hit) return hit;
    }
    return undefined;
  };
  return walk(deployment.services, "services");
}

/** An option path without its trailing list indices (`….command.2` → `….command`). */
const optionOf = (path: string) => path.replace(/(\.\d+)+$/, "");

/** Error diagnostics for every reference `renderer` left unresolved in `artifacts`. */
export function unresolvedRefDiagnostics(
  renderer: string,
  deployment: EvaluatedDeployment,
  artifacts: readonly Artifact[],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const a of artifacts) {
    if (typeof a.source === "string") continue; // a copy of a host file: not the renderer's text
    const text = typeof a.content === "string" ? a.content : new TextDecoder().decode(a.content);
    for (const { ref, line } of unresolvedRefsIn(text)) {
      const token = refToken(ref);
      if (seen.has(token)) continue;
      seen.add(token);
      out.push(leftoverDiagnostic(renderer, deployment, ref, `${a.path}:${line}`));
    }
  }
  return out;
}

function leftoverDiagnostic(
  renderer: string,
  deployment: EvaluatedDeployment,
  r: Ref,
  where: string,
): Diagnostic {
  const path = optionHolding(deployment, refToken(r));
  const option = path ? optionOf(path) : `services.${r.service}`;
  return diagnostic(deployment, {
    severity: "error",
    option,
    message: `The renderer \`${renderer}\` left the reference \`${describeRef(r)}\` unresolved in ${where}${path ? `, from \`${option}\`` : ""}: the target would get a placeholder instead of its value. This is a bug in the renderer; until it is fixed, this option cannot use references for this target.`,
  });
}

const checked = new WeakSet<RenderResult>();

/**
 * `result` with core's checks applied once (the leftover-reference errors appended). Used by
 * `defineRenderer`'s wrapper and by the CLI, so a renderer built without `defineRenderer` is
 * checked too, and none twice.
 */
export function checkedRenderResult(
  renderer: string,
  deployment: EvaluatedDeployment,
  result: RenderResult,
): RenderResult {
  if (checked.has(result) || !Array.isArray(result?.artifacts)) return result;
  const leftovers = unresolvedRefDiagnostics(renderer, deployment, result.artifacts);
  const out =
    leftovers.length === 0
      ? result
      : { ...result, diagnostics: [...(result.diagnostics ?? []), ...leftovers] };
  checked.add(out);
  return out;
}
