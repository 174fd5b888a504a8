/**
 * The start aspects: files and volumes prepared by `ExecStartPre=` (then the service's
 * `preStart`), the directories systemd creates for them, and `ExecStart=`.
 */
import type { EvaluatedService, ServiceFile, ServiceVolume } from "../deployment.js";
import { shellQuote } from "../shell.js";
import { add, resolved, safely, shLine, shWord, textOf, type UnitContext } from "./context.js";
import { checkUnitLineLength, execLine, rawUnitText, unitEscape } from "./quote.js";

/**
 * `ExecStartPre=` lines (files, then volumes, then `preStart`), with the `StateDirectory=` and
 * `RuntimeDirectory=` they need.
 */
export function startPreOf(service: EvaluatedService, ctx: UnitContext): void {
  const pre: string[] = [];
  for (const target of Object.keys(service.files)) {
    const f = service.files[target];
    const line = f ? fileWriterOf(target, f, ctx) : null;
    if (line) pre.push(line);
  }
  for (const [name, v] of Object.entries(service.volumes)) {
    const line = volumeSetupOf(name, v, ctx);
    if (line) pre.push(line);
  }
  if (service.preStart) {
    const line = shLine(ctx, "preStart", `eval ${shWord(resolved(ctx, service.preStart))}`);
    if (line) pre.push(line);
  }
  const sec = ctx.out.service;
  if (ctx.stateDirs.length)
    add(sec, "StateDirectory", ...[...new Set(ctx.stateDirs)].map(unitEscape));
  if (ctx.runtimeDirs.length)
    add(sec, "RuntimeDirectory", ...[...new Set(ctx.runtimeDirs)].map(unitEscape));
  if (pre.length) add(sec, "ExecStartPre", ...pre);
}

/** The line that writes the file declared at `target` (atomically, with its mode), or null. */
function fileWriterOf(target: string, f: ServiceFile, ctx: UnitContext): string | null {
  const { opts } = ctx;
  const opt = `files.${JSON.stringify(target)}`;
  const dest = opts.filePath
    ? opts.filePath(target)
    : rawUnitText(`%t/${ctx.dep}/${ctx.svc}/files`) +
      (target.startsWith("/") ? target : `/${target}`);
  if (dest === null) return null;
  if (!opts.filePath) ctx.runtimeDirs.push(`${ctx.dep}/${ctx.svc}/files`);
  if ((f.text === null) === (f.source === null)) {
    ctx.warn(
      opt,
      "Exactly one of `text` and `source` must be set; the file is not written.",
      "error",
    );
    return null;
  }
  const mode = /^[0-7]{3,4}$/.test(f.mode) ? f.mode : "0644";
  if (mode !== f.mode)
    ctx.warn(
      `${opt}.mode`,
      `File mode \`${f.mode}\` is not an octal mode like "0644"; using 0644.`,
      "error",
    );
  const d = shWord(textOf(dest));
  const write =
    f.text !== null
      ? `printf '%s' ${shWord(resolved(ctx, f.text))} >"$f.n2d-tmp"`
      : `cp -- ${shWord(opts.sourcePath ? opts.sourcePath(f.source as string) : (f.source as string))} "$f.n2d-tmp"`;
  return shLine(
    ctx,
    opt,
    [
      `f=${d}`,
      'mkdir -p -- "$(dirname -- "$f")"',
      write,
      `chmod ${mode} "$f.n2d-tmp"`,
      'mv -f -- "$f.n2d-tmp" "$f"',
    ].join("\n"),
    { secrets: false },
  );
}

/** Directory of volume `name`: the caller's, else under `%S` (persistent) or `%t`, collected. */
function volumeDirOf(name: string, v: ServiceVolume, ctx: UnitContext): string {
  if (ctx.opts.volumePath) return textOf(ctx.opts.volumePath(name, v));
  const rel = `${ctx.dep}/${ctx.svc}/${name}`;
  (v.persistent ? ctx.stateDirs : ctx.runtimeDirs).push(rel);
  return rawUnitText(`${v.persistent ? "%S" : "%t"}/${rel}`);
}

/**
 * The line that creates volume `name`, runs its `init` when it is empty (emptying it again
 * when init fails, so the next start retries) and its `check`; null when there is nothing to do.
 */
function volumeSetupOf(name: string, v: ServiceVolume, ctx: UnitContext): string | null {
  const d = shWord(volumeDirOf(name, v, ctx));
  const lines = [`d=${d}`, 'mkdir -p -- "$d"', 'cd -- "$d"'];
  if (v.init) {
    lines.push(
      'if [ -z "$(ls -A)" ]; then',
      `  if ! sh -ec ${shWord(resolved(ctx, v.init))}; then`,
      "    rm -rf -- ./* ./.[!.]* ./..?*",
      `    echo ${shellQuote(`nix2dream: service ${ctx.svc}: volume ${name}: init failed (emptied so the next start retries)`)} >&2; exit 1`,
      "  fi",
      "fi",
    );
  }
  if (v.check) lines.push(`sh -ec ${shWord(resolved(ctx, v.check))}`);
  if (v.size !== null)
    ctx.warn(`volumes.${name}.size`, "A directory cannot be sized; `size` is not expressed.");
  if (!v.init && !v.check && !ctx.opts.volumePath) return null;
  return shLine(ctx, `volumes.${name}`, lines.join("\n"));
}

/** `ExecStart=`: direct when there is nothing to read at start, else through the sh wrapper. */
export function execStartOf(_service: EvaluatedService, ctx: UnitContext): void {
  if (ctx.opts.execStart.length === 0) {
    ctx.warn("command", "The service has no `command`; systemd cannot start anything.", "error");
    return;
  }
  // A loop rather than `map`: a mapped array may come out in another shape (V8 then dropped the
  // compiled code of shLine, which reads it).
  const argv: string[] = [];
  for (const a of ctx.opts.execStart) argv.push(resolved(ctx, a));
  const line =
    ctx.prelude.length === 0
      ? safely(
          ctx,
          "command",
          () => {
            const direct = execLine(argv);
            checkUnitLineLength("ExecStart", direct);
            return direct;
          },
          null,
        )
      : shLine(ctx, "command", 'exec "$@"', { args: argv });
  if (line) add(ctx.out.service, "ExecStart", line);
}
