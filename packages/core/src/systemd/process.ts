/**
 * The aspects of how systemd runs the process: its type and restarts, how it stops, its
 * resources, its user and group, and its working directory.
 */
import type { EvaluatedService } from "../deployment.js";
import { add, resolved, safely, textOf, type UnitContext } from "./context.js";
import { deploymentIndex } from "./deployment-index.js";
import { splitRaw, systemdMemory, systemdTimespan, unitEscape, unitPlainValue } from "./quote.js";

/** `Type=` (oneshot with RemainAfterExit=yes, else exec) and the restart settings. */
export function typeAndRestartOf(service: EvaluatedService, ctx: UnitContext): void {
  const sec = ctx.out.service;
  if (ctx.oneshot) {
    add(sec, "Type", "oneshot");
    add(sec, "RemainAfterExit", "yes");
  } else {
    add(sec, "Type", "exec");
  }
  const r = service.restart;
  if (ctx.oneshot && r.policy === "always") {
    ctx.warn(
      "restart.policy",
      "A one-shot service cannot be restarted `always` under systemd; using `on-failure`.",
    );
  }
  add(sec, "Restart", r.policy === "no" ? "no" : ctx.oneshot ? "on-failure" : r.policy);
  if (r.policy === "no") return;
  add(sec, "RestartSec", systemdTimespan(r.backoff.initial));
  backoffOf(service, ctx);
  startLimitOf(service, ctx);
}

/** `RestartSteps=` for exponential backoff when asked for, else a warning on a backoff the user set. */
function backoffOf(service: EvaluatedService, ctx: UnitContext): void {
  const { backoff } = service.restart;
  // The default backoff is not worth a warning on every service; one the user set is.
  const userBackoff = deploymentIndex(ctx.deployment).userRestart.has(ctx.svc);
  if (backoff.factor === 1 || backoff.max <= backoff.initial) return;
  if (!userBackoff && !ctx.opts.restartSteps) return;
  if (ctx.opts.restartSteps) {
    const steps = Math.max(
      1,
      Math.ceil(Math.log(backoff.max / backoff.initial) / Math.log(backoff.factor)),
    );
    add(ctx.out.service, "RestartSteps", String(steps));
    add(ctx.out.service, "RestartMaxDelaySec", systemdTimespan(backoff.max));
  } else {
    ctx.warn(
      "restart.backoff",
      `systemd before 254 has no exponential backoff: restarts wait a fixed ${systemdTimespan(backoff.initial)} (factor ${backoff.factor} and max ${backoff.max}s are not expressed).`,
    );
  }
}

/** `StartLimitIntervalSec=`/`StartLimitBurst=` from `restart.maxRetries`. */
function startLimitOf(service: EvaluatedService, ctx: UnitContext): void {
  const r = service.restart;
  if (r.maxRetries === null) {
    add(ctx.out.unit, "StartLimitIntervalSec", "0");
    return;
  }
  // systemd limits starts within a window, not failures in a row: the window holds
  // maxRetries + 1 quick failures (each shorter than the 10 s stable run, plus the longest
  // backoff); a longer stable run lets it pass. render-systemd's README says the difference.
  const window = (r.maxRetries + 1) * 10 + r.maxRetries * r.backoff.max;
  add(ctx.out.unit, "StartLimitIntervalSec", systemdTimespan(window));
  add(ctx.out.unit, "StartLimitBurst", String(r.maxRetries + 1));
}

/** `KillSignal=` and `TimeoutStopSec=`. */
export function stopOf(service: EvaluatedService, ctx: UnitContext): void {
  add(
    ctx.out.service,
    "KillSignal",
    /^SIG[A-Z0-9+-]+$/.test(service.stop.signal)
      ? service.stop.signal
      : `SIG${service.stop.signal}`,
  );
  add(ctx.out.service, "TimeoutStopSec", systemdTimespan(service.stop.gracePeriod));
}

/** `MemoryMax=` and `CPUQuota=`; replicas and labels, which a unit cannot express, are reported. */
export function resourcesOf(service: EvaluatedService, ctx: UnitContext): void {
  if (service.resources.memory !== null) {
    const mem = systemdMemory(service.resources.memory);
    if (mem === null)
      ctx.warn(
        "resources.memory",
        `\`${service.resources.memory}\` is not a memory quantity systemd understands; MemoryMax= is left out.`,
      );
    else add(ctx.out.service, "MemoryMax", mem);
  }
  if (service.resources.cpu !== null) {
    add(ctx.out.service, "CPUQuota", `${Math.round(service.resources.cpu * 100)}%`);
  }
  if (service.replicas !== 1) {
    ctx.warn(
      "replicas",
      `A systemd service runs one instance; ${service.replicas} replicas are not expressed (use a template unit through the override).`,
    );
  }
  if (Object.keys(service.labels).length > 0) {
    ctx.warn("labels", "systemd units have no labels; `labels` are not expressed.");
  }
}

/** `DynamicUser=yes` when asked for, else `User=`/`Group=` from the service. */
export function identityOf(service: EvaluatedService, ctx: UnitContext): void {
  if (ctx.opts.dynamicUser) {
    add(ctx.out.service, "DynamicUser", "yes");
    if (service.user !== null || service.group !== null) {
      ctx.warn("user", "DynamicUser=yes picks a transient user; `user`/`group` are ignored.");
    }
    return;
  }
  // Left out (with an error) rather than written empty: an empty `User=` means root.
  for (const [key, option, value] of [
    ["User", "user", service.user],
    ["Group", "group", service.group],
  ] as const) {
    if (value === null) continue;
    const text = safely(ctx, option, () => unitPlainValue(value), null);
    if (text !== null) add(ctx.out.service, key, text);
  }
}

/** `WorkingDirectory=` from the caller or the service; one systemd would misread is left out. */
export function workingDirectoryOf(service: EvaluatedService, ctx: UnitContext): void {
  let workDir: string | null = null;
  if (ctx.opts.workingDirectory !== undefined) {
    workDir = ctx.opts.workingDirectory === null ? null : textOf(ctx.opts.workingDirectory);
  } else if (service.workingDir !== null) {
    workDir = resolved(ctx, service.workingDir);
  }
  if (workDir === null) return;
  const plain = splitRaw(workDir)
    .map((p) => p.text)
    .join("");
  if (!plain.startsWith("/") && !plain.startsWith("%") && !plain.startsWith("~")) {
    ctx.warn(
      "workingDir",
      `WorkingDirectory= must be an absolute path; \`${plain}\` is left out.`,
      "error",
    );
  } else if (/[\r\n]/.test(plain)) {
    ctx.warn("workingDir", "WorkingDirectory= cannot hold a newline; it is left out.", "error");
  } else if (/^\s|\s$|\\$/.test(plain)) {
    // systemd strips the whitespace around a value and joins a line ending in `\` with the
    // next one: the unit would change directory somewhere else, or lose its next setting.
    ctx.warn(
      "workingDir",
      `WorkingDirectory= cannot start or end with whitespace or end with a backslash (systemd would strip the one and join the next line on the other): \`${JSON.stringify(plain)}\` is left out.`,
      "error",
    );
  } else {
    add(
      ctx.out.service,
      "WorkingDirectory",
      safely(ctx, "workingDir", () => unitEscape(workDir), ""),
    );
  }
}
