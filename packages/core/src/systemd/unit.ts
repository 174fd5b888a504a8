/** The [Unit] aspects of a service: its description and its dependencies. */
import type { EvaluatedService } from "../deployment.js";
import { add, safely, type UnitContext } from "./context.js";
import { unitEscape } from "./quote.js";

/** `Description=`: the service's description, or `<svc> of <deployment>`. */
export function descriptionOf(service: EvaluatedService, ctx: UnitContext): void {
  // Description= takes no quotes: line breaks fold into spaces, and the whitespace and trailing
  // backslashes systemd would strip or read as a line continuation are dropped (it is only
  // shown to people, so no diagnostic).
  const description = (service.description || `${ctx.svc} of ${ctx.dep}`)
    .replace(/\s*[\r\n]+\s*/g, " ")
    .trim()
    .replace(/\s*\\+$/, "");
  add(
    ctx.out.unit,
    "Description",
    safely(ctx, "description", () => unitEscape(description), ctx.svc),
  );
}

/**
 * `Wants=`/`Requires=` and `After=` per `dependsOn` (`started` → Wants, else Requires), and
 * `PartOf=` from the caller; a dependency on a service that is not rendered is left out.
 */
export function dependenciesOf(service: EvaluatedService, ctx: UnitContext): void {
  const unit = ctx.out.unit;
  for (const name of Object.keys(service.dependsOn).sort()) {
    const condition = service.dependsOn[name];
    const target = ctx.deployment.services[name];
    if (!target?.enable) {
      ctx.warn(
        `dependsOn.${name}`,
        `Service ${name} is not in the deployment; the dependency is left out.`,
      );
      continue;
    }
    const other = ctx.unitName(name);
    if (condition === "started") add(unit, "Wants", other);
    else {
      if (condition === "healthy" && target.healthcheck === null) {
        ctx.warn(
          `dependsOn.${name}`,
          `Service ${name} has no healthcheck, so waiting for it to be healthy only waits until it started.`,
        );
      }
      add(unit, "Requires", other);
    }
    add(unit, "After", other);
  }
  if (ctx.opts.partOf?.length) add(unit, "PartOf", ...ctx.opts.partOf);
}
