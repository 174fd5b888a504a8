/** `nix2dream import [file...]`: a Compose project or a Procfile → `nix2dream.config.ts`. */
import { dirname, resolve } from "node:path";
import { CONFIG_NAMES, displayPath } from "../config.js";
import { UserError } from "../errors.js";
import type { CommandRun } from "./context.js";

/** Runs the import; resolves to the exit code. */
export async function importCommand(args: string[], run: CommandRun): Promise<number> {
  const { importFiles, inputFiles, writeConfigFile } = await import("../import/index.js");
  const given = [...args, ...((run.flags.file as string[] | undefined) ?? [])];
  const files = inputFiles(given, run.cwd);
  const toStdout = run.flags.out === "-";
  const target = toStdout
    ? null
    : resolve(
        run.cwd,
        typeof run.flags.out === "string"
          ? run.flags.out
          : resolve(dirname(files[0] as string), CONFIG_NAMES[0] as string),
      );
  const configDir = target ? dirname(target) : dirname(files[0] as string);
  const result = importFiles(files, configDir, run.env);
  const strict = run.flags.strict === true;
  const s = run.err;
  for (const d of result.diagnostics) {
    const label = strict
      ? s.red(s.bold("error:"))
      : s.yellow(s.bold(d.kind === "unsupported" ? "not carried:" : "changed:"));
    run.stderr.write(`${label} ${d.path}: ${d.message} (${d.file})\n`);
  }
  if (strict && result.diagnostics.length > 0) {
    const n = result.diagnostics.length;
    throw new UserError(
      "IMPORT_UNSUPPORTED",
      `${n} ${n === 1 ? "key" : "keys"} could not be carried as ${n === 1 ? "it was" : "they were"} (listed above); under --strict nothing was written.`,
    );
  }
  if (target === null) {
    run.stdout.write(result.source);
    return 0;
  }
  await writeConfigFile(target, result.source, run.flags.force === true);
  const n = result.diagnostics.length;
  run.stdout.write(
    `${run.out.green("imported")} ${files.map((f) => displayPath(f, run.cwd)).join(", ")} → ${displayPath(target, run.cwd)}${n > 0 ? ` (${n} ${n === 1 ? "note" : "notes"}, kept in the file)` : ""}\n`,
  );
  run.stdout.write(`Next: install ${result.packages.join(" ")}, then \`nix2dream check\`.\n`);
  return 0;
}
