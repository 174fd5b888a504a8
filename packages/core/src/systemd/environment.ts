/**
 * The environment aspects: `Environment=` from `env`, and the secrets, which a wrapper reads
 * into the environment of every script and the program (no secret value is ever in the unit).
 */
import type { EvaluatedService, SecretSource } from "../deployment.js";
import { setEntry } from "../record.js";
import { shellQuote } from "../shell.js";
import { add, ENV_NAME, resolved, safely, shWord, type UnitContext } from "./context.js";
import {
  checkUnitLineLength,
  environmentLine,
  MAX_UNIT_LINE_BYTES,
  splitRaw,
  unitEscape,
} from "./quote.js";

/** The unit's environment: each `env` entry that is a variable name and not a secret. */
export function environmentOf(service: EvaluatedService, ctx: UnitContext): void {
  for (const key of Object.keys(service.env)) {
    if (!ENV_NAME.test(key)) {
      ctx.warn(
        `env.${key}`,
        `\`${key}\` is not a valid environment variable name; it is not set.`,
        "error",
      );
      continue;
    }
    // Own keys only: `constructor` or `__proto__` are variable names, not inherited members.
    if (Object.hasOwn(service.secrets, key)) continue;
    const v = safely(
      ctx,
      `env.${key}`,
      () => {
        const value = unitEscape(resolved(ctx, service.env[key] ?? ""));
        // Escaped, a character takes at most 4 bytes: a line this short fits without building it.
        if (4 * (key.length + value.length) + 32 > MAX_UNIT_LINE_BYTES) {
          checkUnitLineLength("Environment", environmentLine(key, value));
        }
        return value;
      },
      null,
    );
    if (v !== null) setEntry(ctx.out.environment, key, v);
  }
}

/**
 * The secrets prelude (`ctx.prelude`): per secret, sh that sets it from the environment
 * (`PassEnvironment=`), a credential (`LoadCredential=`) or a file, and fails or unsets it when
 * it is missing. Then `EnvironmentFile=` from the caller.
 */
export function secretsOf(service: EvaluatedService, ctx: UnitContext): void {
  for (const key of Object.keys(service.secrets)) {
    const s = service.secrets[key];
    if (!s) continue;
    if (!ENV_NAME.test(key)) {
      ctx.warn(
        `secrets.${key}`,
        `\`${key}\` is not a valid environment variable name; the secret is not set.`,
        "error",
      );
      continue;
    }
    if (Object.hasOwn(service.env, key))
      ctx.warn(
        `secrets.${key}`,
        `\`${key}\` is both in \`env\` and in \`secrets\`; the secret wins.`,
      );
    const branches = secretSources(key, s, ctx);
    if (branches === null) continue;
    branches.forEach((b, i) => {
      ctx.prelude.push(`${i === 0 ? "if" : "elif"} ${b}`);
    });
    ctx.prelude.push(
      s.required
        ? `else echo ${shellQuote(`nix2dream: service ${ctx.svc}: secret ${key} is missing`)} >&2; exit 1; fi; export ${key}`
        : `else unset ${key}; fi; if [ -n "\${${key}+x}" ]; then export ${key}; fi`,
    );
  }
  if (ctx.opts.environmentFiles?.length) {
    add(ctx.out.service, "EnvironmentFile", ...ctx.opts.environmentFiles);
  }
}

/**
 * The `if`/`elif` conditions (with their assignment) that read secret `key` from where it
 * comes from, or null (with an error) when its `fromEnv` is not a variable name.
 */
function secretSources(key: string, s: SecretSource, ctx: UnitContext): string[] | null {
  const fromEnv = s.fromEnv ?? (s.fromFile === null ? key : null);
  if (fromEnv !== null && !ENV_NAME.test(fromEnv)) {
    ctx.warn(
      `secrets.${key}.fromEnv`,
      `\`${fromEnv}\` is not a valid environment variable name.`,
      "error",
    );
    return null;
  }
  const branches: string[] = [];
  if (fromEnv !== null) {
    add(ctx.out.service, "PassEnvironment", fromEnv);
    branches.push(`[ -n "\${${fromEnv}+x}" ]; then ${key}=$${fromEnv}`);
  }
  if (s.fromFile === null) return branches;
  const file = resolved(ctx, s.fromFile);
  const plain = splitRaw(file)
    .map((p) => p.text)
    .join("");
  if (s.required && plain.startsWith("/") && !/[\s:\\"'%$]/.test(plain)) {
    const cred = key;
    add(ctx.out.service, "LoadCredential", `${cred}:${unitEscape(file)}`);
    ctx.out.credentials.push(cred);
    branches.push(
      `[ -n "\${CREDENTIALS_DIRECTORY:-}" ] && [ -r "$CREDENTIALS_DIRECTORY"/${cred} ]; then ${key}=$(cat -- "$CREDENTIALS_DIRECTORY"/${cred})`,
    );
    return branches;
  }
  if (s.required) {
    ctx.warn(
      `secrets.${key}.fromFile`,
      "LoadCredential= needs an absolute path without spaces, quotes, `:` or `%`; the file is read by the service's wrapper instead.",
    );
  }
  const w = shWord(file);
  branches.push(`[ -r ${w} ]; then ${key}=$(cat -- ${w})`);
  return branches;
}
