/**
 * Compose's variable interpolation (`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, `$$`), and `.env` files as
 * Compose and foreman read them.
 */
import { UserError } from "../errors.js";

/** Where a value came from, for error messages: `services.web.image in compose.yaml`. */
export interface Where {
  path: string;
  file: string;
}

/** A variable lookup: undefined when the variable is unset. */
export type Lookup = (name: string) => string | undefined;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/**
 * `text` with Compose's interpolation applied. `unset` collects the variables that were used
 * unset without a default (Compose substitutes an empty string and warns).
 * @throws UserError `IMPORT_INPUT` for `${VAR:?message}` with VAR unset (or empty), and for a
 * `$` that starts no valid expression.
 */
export function interpolate(
  text: string,
  lookup: Lookup,
  where: Where,
  unset?: Set<string>,
): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf("$", i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === "$") {
      out += "$";
      i = dollar + 2;
    } else if (next === "{") {
      const end = closingBrace(text, dollar + 2);
      if (end < 0) throw badExpression(text, where);
      out += braced(text.slice(dollar + 2, end), lookup, where, unset, text);
      i = end + 1;
    } else {
      const name = NAME.exec(text.slice(dollar + 1))?.[0];
      if (!name) throw badExpression(text, where);
      out += variableValue(name, lookup, unset);
      i = dollar + 1 + name.length;
    }
  }
  return out;
}

/** Index of the `}` closing a `${` whose body starts at `from` (nested `${...}` allowed). */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === "$" && text[i + 1] === "{") {
      depth++;
      i++;
    } else if (text[i] === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function variableValue(name: string, lookup: Lookup, unset?: Set<string>): string {
  const v = lookup(name);
  if (v === undefined) unset?.add(name);
  return v ?? "";
}

function braced(
  body: string,
  lookup: Lookup,
  where: Where,
  unset: Set<string> | undefined,
  text: string,
): string {
  const name = NAME.exec(body)?.[0];
  if (!name) throw badExpression(text, where);
  const rest = body.slice(name.length);
  if (rest === "") return variableValue(name, lookup, unset);
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw badExpression(text, where);
  const arg = rest.slice(op.length);
  const v = lookup(name);
  const missing = op.startsWith(":") ? v === undefined || v === "" : v === undefined;
  const sub = () => interpolate(arg, lookup, where, unset);
  switch (op.replace(":", "")) {
    case "-":
      return missing ? sub() : (v as string);
    case "+":
      return missing ? "" : sub();
    default:
      if (!missing) return v as string;
      throw new UserError(
        "IMPORT_INPUT",
        `\`${where.path}\` in ${where.file} requires the variable ${name}: ${sub() || `${name} is ${v === undefined ? "unset" : "empty"}`}.`,
        { hint: `Set ${name} in the environment or in the .env file beside the Compose file.` },
      );
  }
}

function badExpression(text: string, where: Where): UserError {
  return new UserError(
    "IMPORT_INPUT",
    `\`${where.path}\` in ${where.file} has an invalid interpolation: ${JSON.stringify(text)}.`,
    { hint: "Write `$$` for a literal `$`." },
  );
}

/**
 * The variables of a `.env` file: `KEY=value` lines, `export KEY=value`, `#` comments, values
 * in single quotes (literal) or double quotes (with `\n`, `\"`, `\\` escapes), and an unquoted
 * value ending at ` #`. Later lines win. Both Compose and foreman read this common subset the
 * same way.
 */
export function parseDotenv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    vars[m[1] as string] = dotenvValue(m[2] as string);
  }
  return vars;
}

function dotenvValue(raw: string): string {
  if (raw.startsWith("'")) {
    const end = raw.indexOf("'", 1);
    return end < 0 ? raw.slice(1) : raw.slice(1, end);
  }
  if (raw.startsWith('"')) {
    let out = "";
    for (let i = 1; i < raw.length; i++) {
      const c = raw[i] as string;
      if (c === '"') break;
      if (c === "\\" && i + 1 < raw.length) {
        const e = raw[++i] as string;
        out += e === "n" ? "\n" : e === "t" ? "\t" : e;
      } else out += c;
    }
    return out;
  }
  const comment = raw.search(/\s#/);
  return (comment < 0 ? raw : raw.slice(0, comment)).trim();
}
