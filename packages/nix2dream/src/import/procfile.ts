/**
 * `nix2dream import Procfile`: process types → services, with the `.env` beside the Procfile
 * as foreman reads it and foreman's `$PORT` convention (base 5000, or `PORT` from `.env`; each
 * process type 100 above the previous one).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { UserError } from "../errors.js";
import { shellWords } from "./compose-values.js";
import { member, TsCode, TsObject, type TsValue, templateText } from "./emit.js";
import { parseDotenv } from "./interpolate.js";
import { ImportContext } from "./model.js";
import { configSource, type ImportedConfig } from "./source.js";

/** One `name: command` line. */
export interface ProcfileEntry {
  name: string;
  command: string;
  line: number;
}

/** The entries of a Procfile, in order; lines that are not `name: command` are ignored, as foreman does. */
export function parseProcfile(text: string): ProcfileEntry[] {
  const entries: ProcfileEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const m = /^([A-Za-z0-9_-]+):\s*(.+?)\s*$/.exec(raw);
    if (m) entries.push({ name: m[1] as string, command: m[2] as string, line: i + 1 });
  });
  return entries;
}

const PORT_VAR = /\$\{PORT\}|\$PORT(?![A-Za-z0-9_])/g;
// Characters that make a line need a shell (beyond $PORT, which becomes a reference).
const SHELL_SYNTAX = /[|&;<>()$`\\"'*?[\]#~=%{}!]|^\s*\w+=/;

/** Converts a Procfile (and the `.env` beside it) into a config. */
export function importProcfile(file: string, configDir: string): ImportedConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UserError("IMPORT_INPUT", `Cannot read ${file}: ${(err as Error).message}.`);
  }
  const entries = parseProcfile(text);
  if (entries.length === 0) {
    throw new UserError(
      "IMPORT_INPUT",
      `${file} has no process types (lines of the form \`name: command\`).`,
    );
  }
  const envPath = resolve(dirname(file), ".env");
  const dotenv = existsSync(envPath) ? parseDotenv(readFileSync(envPath, "utf8")) : {};
  const { PORT: basePort, ...shared } = dotenv;
  const base = basePort !== undefined && /^\d+$/.test(basePort) ? Number(basePort) : 5000;
  const ctx = new ImportContext(relative(configDir, file) || file);
  const services = new TsObject();
  const consts = new TsObject();
  if (Object.keys(shared).length > 0) {
    const env = new TsObject();
    for (const [k, v] of Object.entries(shared)) env.set(k, v);
    consts.set("dotenv", env, [
      `The variables of ${relative(configDir, envPath)}, which foreman gives every process.`,
    ]);
  }
  entries.forEach((entry, index) => {
    const out = serviceOf(entry, base + 100 * index, consts.size > 0);
    if (index === 0) {
      out.entries
        .find((e) => e.key === "ports")
        ?.comment.push(
          `foreman's PORT: ${base} for the first process type${basePort !== undefined ? " (PORT in .env)" : ""}, 100 more for each next one.`,
        );
    }
    services.set(entry.name, out);
  });
  ctx.usesRef = true;
  return configSource({
    kind: "procfile",
    name: dirnameOf(file),
    from: [
      relative(configDir, file) || file,
      ...(existsSync(envPath) ? [relative(configDir, envPath)] : []),
    ],
    services,
    notes: new TsObject(),
    ctx,
    consts,
  });
}

function dirnameOf(file: string): string {
  const base = dirname(resolve(file)).split("/").pop() ?? "";
  return base.toLowerCase().replace(/[^a-z0-9_-]/g, "") || "imported";
}

/** One process type: its command, `PORT` (as a reference to its port) and the shared env. */
function serviceOf(entry: ProcfileEntry, port: number, hasShared: boolean): TsObject {
  const out = new TsObject();
  const portRef = `${member("ref", entry.name)}.ports.http`;
  out.set("command", commandOf(entry.command, portRef), [
    `Procfile line ${entry.line}: ${entry.command}`,
  ]);
  const env = new TsObject();
  if (hasShared) env.set("...", new TsCode("dotenv"));
  env.set("PORT", new TsCode(`\`\${${portRef}}\``));
  out.set("env", env);
  out.set("ports", new TsObject().set("http", port));
  return out;
}

/** argv: the words of a simple line (with `$PORT` as a reference), else `sh -c` with the line. */
function commandOf(line: string, portRef: string): TsValue[] {
  const withoutPort = line.replace(PORT_VAR, "");
  const words = SHELL_SYNTAX.test(withoutPort)
    ? null
    : shellWords(line.replace(PORT_VAR, "\uE000"));
  if (words === null) return ["/bin/sh", "-c", line];
  return words.map((w) => {
    if (!w.includes("\uE000")) return w;
    const code = w.split("\uE000").map(templateText).join(`\${${portRef}}`);
    return new TsCode(`\`${code}\``);
  });
}
