/**
 * The healthcheck aspect: an `ExecStartPost=` probe loop keeps the start job running until the
 * probe passes, so units that `Requires=` this one start after it is healthy.
 */
import type { EvaluatedService } from "../deployment.js";
import { shellQuote } from "../shell.js";
import { add, shArgv, shLine, type UnitContext } from "./context.js";
import { systemdTimespan } from "./quote.js";

type Healthcheck = NonNullable<EvaluatedService["healthcheck"]>;

/** Seconds a healthcheck loop may take before it gives up: the start period, then retries. */
export function healthcheckBudget(h: Healthcheck): number {
  return Math.ceil(h.startPeriod + (h.retries + 1) * (h.interval + h.timeout)) + 10;
}

/** `ExecStartPost=` with the probe loop and `TimeoutStartSec=` covering all of it. */
export function healthcheckOf(service: EvaluatedService, ctx: UnitContext): void {
  const h = service.healthcheck;
  if (!h) return;
  if (ctx.oneshot) {
    ctx.warn(
      "healthcheck",
      "A one-shot service is done when it exits; its healthcheck is not run.",
    );
    return;
  }
  const probe = probeOf(h, service, ctx);
  if (probe === null) return;
  const loop = [
    `start=$(date +%s); failures=0`,
    "while :; do",
    `  if ( ${probe} ) >/dev/null 2>&1; then exit 0; fi`,
    `  if [ $(( $(date +%s) - start )) -ge ${Math.ceil(h.startPeriod)} ]; then failures=$((failures + 1)); fi`,
    `  if [ "$failures" -ge ${h.retries} ]; then echo ${shellQuote(`nix2dream: service ${ctx.svc}: unhealthy after ${h.retries} failed probes`)} >&2; exit 1; fi`,
    `  sleep ${h.interval}`,
    "done",
  ].join("\n");
  const line = shLine(ctx, "healthcheck", loop, { secrets: h.type === "exec" });
  if (line) {
    add(ctx.out.service, "ExecStartPost", line);
    add(ctx.out.service, "TimeoutStartSec", systemdTimespan(healthcheckBudget(h)));
  }
}

/**
 * One probe as sh: exec runs the command; http uses curl, else wget; tcp uses curl's connect
 * time on a telnet:// URL, else nc -z. Null (with an error) for an unknown port.
 */
function probeOf(h: Healthcheck, service: EvaluatedService, ctx: UnitContext): string | null {
  if (h.type === "exec") return `timeout ${h.timeout} ${shArgv(ctx, h.command)}`;
  const port = service.ports[h.port];
  if (!port) {
    ctx.warn(
      "healthcheck.port",
      `Service ${ctx.svc} has no port ${h.port}; the healthcheck is left out.`,
      "error",
    );
    return null;
  }
  if (h.type === "http") {
    const url = shellQuote(
      `${h.scheme}://127.0.0.1:${port.port}${h.path.startsWith("/") ? "" : "/"}${h.path}`,
    );
    return `if command -v curl >/dev/null 2>&1; then curl -fsS -k -o /dev/null --max-time ${h.timeout} ${url}; else timeout ${h.timeout} wget -q -O /dev/null ${url}; fi`;
  }
  return `if command -v curl >/dev/null 2>&1; then [ "$(curl -s -o /dev/null --max-time ${h.timeout} -w '%{time_connect}' telnet://127.0.0.1:${port.port} </dev/null)" != 0.000000 ]; else nc -z -w ${h.timeout} 127.0.0.1 ${port.port} </dev/null; fi`;
}
