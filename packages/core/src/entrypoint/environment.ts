/** The launcher's environment sections: `env` exported, then secrets read when it starts. */
import type { EvaluatedService, SecretSource } from "../deployment.js";
import { isShellName, shellQuote } from "../shell.js";
import type { EntrypointContext } from "./context.js";

/** `KEY=value` and `export KEY` for each `env` entry that is a sh variable name. */
export function environmentOf(service: EvaluatedService, ctx: EntrypointContext): void {
  const envKeys = Object.keys(service.env);
  if (envKeys.length) ctx.out.push("", "# Environment");
  for (const key of envKeys) {
    if (!isShellName(key)) {
      ctx.report(
        "error",
        `env.${key}`,
        `\`${key}\` is not a valid environment variable name for sh (letters, digits and _, not starting with a digit); it is not set.`,
      );
      continue;
    }
    ctx.out.push(`${key}=${ctx.w(service.env[key] ?? "", `env.${key}`)}`, `export ${key}`);
  }
}

/**
 * Each secret read from the variable `fromEnv` (checked first) or the file `fromFile`; a
 * missing required one stops the launcher (but not `--clear`). Values never appear in the script.
 */
export function secretsOf(service: EvaluatedService, ctx: EntrypointContext): void {
  const secretKeys = Object.keys(service.secrets);
  if (secretKeys.length) ctx.out.push("", "# Secrets: read now, never written to a file");
  for (const key of secretKeys) {
    const s = service.secrets[key];
    if (!s) continue;
    if (!isShellName(key)) {
      ctx.report(
        "error",
        `secrets.${key}`,
        `\`${key}\` is not a valid environment variable name for sh; the secret is not set.`,
      );
      continue;
    }
    if (Object.hasOwn(service.env, key)) {
      ctx.report(
        "warning",
        `secrets.${key}`,
        `\`${key}\` is both in \`env\` and in \`secrets\`; the secret wins.`,
      );
    }
    secretLinesOf(key, s, ctx);
  }
}

/** The `if`/`elif`/`else` that sets secret `key` from where it comes from, or fails or unsets it. */
function secretLinesOf(key: string, s: SecretSource, ctx: EntrypointContext): void {
  const { out } = ctx;
  const fromEnv = s.fromEnv ?? (s.fromFile === null ? key : null);
  if (fromEnv !== null && !isShellName(fromEnv)) {
    ctx.report(
      "error",
      `secrets.${key}.fromEnv`,
      `\`${fromEnv}\` is not a valid environment variable name for sh.`,
    );
    return;
  }
  const branches: string[] = [];
  const how: string[] = [];
  if (fromEnv !== null) {
    branches.push(`[ -n "\${${fromEnv}+x}" ]; then`, `  ${key}=$${fromEnv}`);
    how.push(`set the variable ${fromEnv}`);
  }
  let missing = "";
  if (s.fromFile !== null) {
    const file = ctx.path(ctx.options.secretPath, s.fromFile, `secrets.${key}.fromFile`);
    branches.push(`[ -f ${file} ] && [ -r ${file} ]; then`, `  ${key}=$(cat -- ${file})`);
    how.push("create the readable file ");
    missing = file;
  }
  for (let i = 0; i < branches.length; i += 2) {
    out.push(`${i === 0 ? "if" : "elif"} ${branches[i]}`, branches[i + 1] as string);
  }
  missing = `${shellQuote(`secret ${key} is missing: ${how.join(" or ")}`)}${missing}`;
  out.push("else");
  if (s.required) {
    out.push(
      `  if [ "$n2d_mode" = clear ]; then unset ${key}; else n2d_fail ${missing}; fi`,
      "fi",
      `export ${key}`,
    );
  } else {
    out.push(`  unset ${key}`, "fi", `if [ -n "\${${key}+x}" ]; then export ${key}; fi`);
  }
}
