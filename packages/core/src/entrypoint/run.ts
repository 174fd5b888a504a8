/** The launcher's run mode: files written, volumes made ready, then `preStart` and `exec`. */
import type { EvaluatedService } from "../deployment.js";
import { shellQuote } from "../shell.js";
import type { EntrypointContext } from "./context.js";
import type { VolumeDir } from "./modes.js";

const FILE_MODE = /^[0-7]{3,4}$/;

/** Each file written atomically (a temporary beside it, then `mv`) with its mode. */
export function filesOf(service: EvaluatedService, ctx: EntrypointContext): void {
  const { out, options } = ctx;
  const fileTargets = Object.keys(service.files);
  if (fileTargets.length) out.push("", "# Files");
  for (const target of fileTargets) {
    const f = service.files[target];
    if (!f) continue;
    const opt = `files.${JSON.stringify(target)}`;
    let mode = f.mode;
    if (!FILE_MODE.test(mode)) {
      ctx.report(
        "error",
        `${opt}.mode`,
        `File mode \`${mode}\` is not an octal mode like "0644"; using 0644.`,
      );
      mode = "0644";
    }
    const dest = ctx.path(options.filePath, target, opt);
    if ((f.text === null) === (f.source === null)) {
      ctx.report(
        "error",
        opt,
        "Exactly one of `text` and `source` must be set; the file is not written.",
      );
      continue;
    }
    out.push(`n2d_f=${dest}`, `case $n2d_f in */*) mkdir -p -- "\${n2d_f%/*}" ;; esac`);
    if (f.text !== null) {
      out.push(`printf '%s' ${ctx.w(f.text, `${opt}.text`)} >"$n2d_f.n2d-tmp.$$"`);
    } else {
      const src = ctx.path(options.sourcePath, f.source as string, `${opt}.source`);
      out.push(`cp -- ${src} "$n2d_f.n2d-tmp.$$" || n2d_fail ${shellQuote("cannot copy ")}${src}`);
    }
    out.push(`chmod ${mode} "$n2d_f.n2d-tmp.$$"`, 'mv -f -- "$n2d_f.n2d-tmp.$$" "$n2d_f"');
  }
}

/** Each volume created (emptied when ephemeral and asked to), initialised when empty, checked. */
export function volumesOf(volumes: readonly VolumeDir[], ctx: EntrypointContext): void {
  const { out } = ctx;
  if (volumes.length) out.push("", "# Volumes");
  for (const { name, v, dir } of volumes) {
    out.push(`mkdir -p -- ${dir}`);
    if (!v.persistent && ctx.options.emptyEphemeralVolumes) out.push(`n2d_empty ${dir}`);
    if (v.init) {
      // A mark beside the volume while its init runs: an init that was interrupted (Ctrl-C,
      // down, a crash) leaves it, and the next start empties the volume and runs init again
      // instead of taking a half-made volume for a ready one. Beside, not inside: programs such
      // as initdb insist on an empty directory.
      out.push(
        `n2d_m=${dir}'.n2d-init'`,
        `if [ -e "$n2d_m" ]; then n2d_empty ${dir}; fi`,
        `if [ -z "$(ls -A -- ${dir})" ]; then`,
        `  : >"$n2d_m"`,
        `  if ! (cd -- ${dir} && exec sh -ec ${ctx.w(v.init, `volumes.${name}.init`)} sh); then`,
        `    n2d_empty ${dir}`,
        `    rm -f -- "$n2d_m"`,
        `    n2d_fail ${shellQuote(`volume ${name}: init failed (the volume was emptied so the next start retries)`)}`,
        "  fi",
        `  rm -f -- "$n2d_m"`,
        "fi",
      );
    }
    if (v.check) {
      out.push(
        `(cd -- ${dir} && exec sh -ec ${ctx.w(v.check, `volumes.${name}.check`)} sh) || n2d_fail ${shellQuote(`volume ${name}: check failed`)}`,
      );
    }
  }
}

/** `cd`, `preStart` (evaluated with unset variables allowed), then `exec` of command + args. */
export function runOf(service: EvaluatedService, cd: string, ctx: EntrypointContext): void {
  const { out } = ctx;
  out.push("");
  if (cd) out.push(cd);
  if (service.preStart) {
    out.push("# preStart", "set +u", `eval ${ctx.w(service.preStart, "preStart")}`, "set -u");
  }
  if (service.command.length === 0) {
    ctx.report(
      "error",
      "command",
      "The service has no `command`; the launcher cannot start anything.",
    );
    out.push("n2d_fail 'no command to run'");
    return;
  }
  // Pushed one by one, not a spread then `map`: one array instead of two, built the same way
  // before and after V8 optimizes this (render-procfile alone, 2000 services: fewer
  // instructions, measured).
  const words: string[] = [];
  for (let i = 0; i < service.command.length; i++)
    words.push(ctx.w(service.command[i] as string, `command.${i}`));
  for (let i = 0; i < service.args.length; i++)
    words.push(ctx.w(service.args[i] as string, `args.${i}`));
  out.push(`exec ${words.join(" ")}`);
}
