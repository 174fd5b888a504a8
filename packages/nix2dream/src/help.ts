/**
 * Help texts: the global `--help` and one per command.
 */
import type { Manager } from "@nix2dream/core";
import type { Styles } from "./output.js";

/** A flag as shown in help. */
export interface FlagHelp {
  flag: string;
  description: string;
}

/** What `nix2dream <command> --help` prints. */
export interface CommandHelp {
  name: string;
  usage: string;
  summary: string;
  details?: string;
  flags: FlagHelp[];
  examples: Array<[string, string]>;
  /** Dispatched to a manager's action. */
  manager?: boolean;
}

/** Flags every command accepts. */
export const GLOBAL_FLAGS: FlagHelp[] = [
  {
    flag: "-c, --config <file>",
    description: "Config file (default: the nearest nix2dream.config.{ts,mts,js,mjs} from here up)",
  },
  {
    flag: "-o, --out <dir>",
    description: "Output directory (default: .nix2dream beside the config)",
  },
  { flag: "--strict", description: "Treat warnings and diagnostics as errors" },
  {
    flag: "--all-warnings",
    description:
      "Print every warning (default: the same warning for many services is one paragraph)",
  },
  { flag: "--debug", description: "Show stack traces" },
  { flag: "-h, --help", description: "Show help (for a command: nix2dream <command> --help)" },
  { flag: "-v, --version", description: "Print the version" },
];

const MANAGER_FLAG: FlagHelp = {
  flag: "-m, --manager <name>",
  description: "Manager to act with (default: the only one registered, else `local`)",
};
const JSON_FLAG: FlagHelp = { flag: "--json", description: "Print the result as JSON" };

/** Every built-in command, in the order `--help` lists them. */
export const COMMANDS: CommandHelp[] = [
  {
    name: "render",
    usage: "nix2dream render [renderer...] [flags]",
    summary: "Write the artifacts of every registered renderer (or the named ones)",
    details:
      "Each renderer's files go to <out>/<deployment>/<renderer>/, written atomically: a failing render writes nothing. A manifest (.nix2dream-manifest.json) records what was written, so the next render removes only its own stale files and never touches anything else in that directory.",
    flags: [JSON_FLAG],
    examples: [
      ["nix2dream render", "render with every renderer in `use`"],
      ["nix2dream render procfile k8s", "render with two of them"],
      [
        "nix2dream render --out build --json",
        "write under build/ and print what was written as JSON",
      ],
    ],
  },
  {
    name: "check",
    usage: "nix2dream check [flags]",
    summary: "Evaluate and render in memory, print diagnostics, write nothing",
    details:
      "Exits 1 when the config has an error or a host file a render would copy (`files.*.source`) is missing or unreadable; with --strict also when a renderer reports something it cannot express on its target.",
    flags: [JSON_FLAG],
    examples: [
      ["nix2dream check", "validate the config and every renderer"],
      ["nix2dream check --strict", "fail on any warning (for CI)"],
    ],
  },
  {
    name: "options",
    usage: "nix2dream options [--json | --markdown | --schema]",
    summary: "Print the options reference for the core and everything registered",
    details:
      "Every option with its type, default, example, description and where it is declared. Without a config, lists the core options only.",
    flags: [
      { flag: "--json", description: "Print the options as a JSON array" },
      { flag: "--markdown", description: "Print the options as Markdown" },
      { flag: "--schema", description: "Print a JSON Schema of the options (for editors)" },
    ],
    examples: [
      ["nix2dream options", "read the reference in the terminal"],
      ["nix2dream options --markdown > OPTIONS.md", "write it as Markdown"],
    ],
  },
  {
    name: "import",
    usage: "nix2dream import [compose.yaml... | Procfile] [flags]",
    summary: "Write nix2dream.config.ts from a Compose file or a Procfile",
    details:
      "Several Compose files (given in order, or with -f) merge as Compose merges them, with the .env beside the first one interpolated as Compose does. A Procfile is read with the .env beside it, as foreman does, and each process type gets foreman's PORT. Whatever has no nix2dream form stays in the generated file, commented out with the reason, and is listed here; --strict fails on it. Without a file, looks for compose.yaml (and compose.override.yaml), docker-compose.yml, then Procfile. An existing config is never replaced without --force.",
    flags: [
      { flag: "-f, --file <file>", description: "An input file (repeat to merge Compose files)" },
      {
        flag: "-o, --out <file>",
        description:
          "Where to write the config (default: nix2dream.config.ts beside the input; - for stdout)",
      },
      { flag: "--force", description: "Replace an existing config" },
    ],
    examples: [
      ["nix2dream import", "import compose.yaml (+ compose.override.yaml) from here"],
      ["nix2dream import -f compose.yaml -f compose.prod.yaml", "merge two Compose files first"],
      ["nix2dream import Procfile --strict", "import a Procfile; fail if anything is not carried"],
    ],
  },
  {
    name: "graph",
    usage: "nix2dream graph [--format mermaid|dot|svg] [flags]",
    summary: "Draw the services, their dependencies and references",
    details:
      "Solid arrows: dependsOn, labelled with the condition; dashed arrows: references (ref.db.host...). Mermaid pastes into a README; dot feeds Graphviz; svg is laid out by Graphviz compiled to WebAssembly, so no system tool is needed.",
    flags: [{ flag: "--format <format>", description: "mermaid (default), dot or svg" }, JSON_FLAG],
    examples: [
      ["nix2dream graph", "Mermaid, for a README"],
      ["nix2dream graph --format svg > deployment.svg", "a picture"],
      ["nix2dream graph --format dot | dot -Tpng > g.png", "through Graphviz"],
    ],
  },
  {
    name: "up",
    usage: "nix2dream up [flags]",
    summary: "Render the manager's renderer, then start the deployment",
    details: "Ctrl-C asks the manager to stop the deployment.",
    flags: [
      { flag: "-d, --detach", description: "Run in the background (when the manager can)" },
      { flag: "-t, --timestamps", description: "Prefix log lines with the time" },
      {
        flag: "--watch",
        description:
          "Follow edits: apply a changed config, restarting only what changed (built-in supervisor)",
      },
      MANAGER_FLAG,
    ],
    examples: [
      ["nix2dream up", "run with the default manager"],
      ["nix2dream up --watch", "run, and follow edits of the config and of `watch` paths"],
      ["nix2dream up --manager compose", "run with docker compose"],
    ],
    manager: true,
  },
  {
    name: "down",
    usage: "nix2dream down [flags]",
    summary: "Stop the deployment",
    flags: [MANAGER_FLAG],
    examples: [["nix2dream down", "stop what `up` started"]],
    manager: true,
  },
  {
    name: "ps",
    usage: "nix2dream ps [flags]",
    summary: "Show the state of each service",
    flags: [MANAGER_FLAG, JSON_FLAG],
    examples: [["nix2dream ps --json", "state, pid, restarts, health, uptime as JSON"]],
    manager: true,
  },
  {
    name: "logs",
    usage: "nix2dream logs [service...] [-f] [flags]",
    summary: "Show the logs of every service (or the named ones)",
    flags: [
      { flag: "-f, --follow", description: "Keep printing new lines" },
      {
        flag: "-n, --tail <lines>",
        description: "Lines of each log to show first (`all` for all)",
      },
      { flag: "-t, --timestamps", description: "Prefix lines with the time" },
      MANAGER_FLAG,
    ],
    examples: [
      ["nix2dream logs", "every service"],
      ["nix2dream logs api -f", "follow one service"],
    ],
    manager: true,
  },
  {
    name: "restart",
    usage: "nix2dream restart <service> [flags]",
    summary: "Restart one service",
    flags: [MANAGER_FLAG],
    examples: [["nix2dream restart api", "restart the service `api`"]],
    manager: true,
  },
  {
    name: "stop",
    usage: "nix2dream stop <service> [flags]",
    summary: "Stop one service",
    flags: [MANAGER_FLAG],
    examples: [["nix2dream stop worker", "stop the service `worker`"]],
    manager: true,
  },
];

/** Long-only flags line up with the long part of `-x, --flag`. */
function flagRows(flags: FlagHelp[]): Array<[string, string]> {
  return flags.map((f) => [f.flag.startsWith("--") ? `    ${f.flag}` : f.flag, f.description]);
}

function table(rows: Array<[string, string]>, style: (x: string) => string): string {
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${style(a.padEnd(width))}  ${b}`).join("\n");
}

/** What the global help says about the config (when one was found and loaded). */
export interface ProjectHelp {
  file: string;
  renderers: string[];
  managers: Manager[];
  /** Set when the config was found but could not be loaded or evaluated. */
  problem?: string;
  /** Set when the config was not loaded (`--help`): said instead of the lists. */
  note?: string;
}

/** `nix2dream --help` and `nix2dream help` (which adds the project's renderers and managers). */
export function globalHelp(version: string, s: Styles, project?: ProjectHelp): string {
  const lines = [
    `${s.bold("nix2dream")} ${version} — define services once as typed modules; render and run them anywhere.`,
    "",
    s.bold("USAGE"),
    "  nix2dream <command> [arguments] [flags]",
    "",
    s.bold("COMMANDS"),
    table(
      COMMANDS.map((c) => [
        c.usage.replace(/^nix2dream /, "").replace(/ \[flags\]$/, ""),
        c.summary,
      ]),
      s.cyan,
    ),
    "",
    s.bold("FLAGS"),
    table(flagRows([MANAGER_FLAG, JSON_FLAG, ...GLOBAL_FLAGS]), s.cyan),
    "",
    s.bold("CONFIG"),
    "  nix2dream reads nix2dream.config.ts (or .mts, .js, .mjs) from the working directory or the",
    "  nearest parent that has one; TypeScript needs no build step. The default export is the",
    "  deployment:",
    "",
    '    import { defineDeployment } from "nix2dream";',
    '    import procfile from "@nix2dream/render-procfile";',
    '    import local from "@nix2dream/manage-local";',
    "",
    "    export default defineDeployment({",
    '      name: "shop",',
    "      use: [procfile(), local()],",
    '      services: { api: { command: ["node", "api.mjs"], ports: { http: { port: 8080 } } } },',
    "    });",
    "",
    "  Commands that act on running services (up, down, ps, logs, restart, stop) are carried out",
    "  by a manager from `use`. Colour is used on a terminal unless NO_COLOR is set.",
  ];
  if (project?.problem) {
    lines.push("", s.bold(`THIS PROJECT (${project.file})`), `  The config ${project.problem}`);
  } else if (project?.note) {
    lines.push("", s.bold(`THIS PROJECT (${project.file})`), `  ${project.note}`);
  } else if (project) {
    lines.push("", s.bold(`THIS PROJECT (${project.file})`));
    lines.push(`  renderers: ${project.renderers.join(", ") || "(none)"}`);
    if (project.managers.length === 0) lines.push("  managers:  (none)");
    for (const m of project.managers) {
      const actions = Object.keys(m.actions).sort();
      lines.push(`  manager ${s.cyan(m.name)} (renders with ${m.renderer}): ${actions.join(", ")}`);
      for (const a of actions) {
        const d = m.descriptions?.[a];
        if (d) lines.push(`    ${a.padEnd(10)} ${d}`);
      }
    }
  }
  lines.push(
    "",
    s.bold("EXAMPLES"),
    table(
      [
        ["nix2dream render", "write every renderer's files to .nix2dream/<deployment>/<renderer>/"],
        ["nix2dream up", "render, then run the services (Ctrl-C stops them)"],
        ["nix2dream logs api -f", "follow the logs of `api` from another terminal"],
        ["nix2dream check --strict", "validate everything, fail on warnings"],
        ["nix2dream options --markdown", "the options reference as Markdown"],
      ],
      (x) => x,
    ),
    "",
    "Run `nix2dream <command> --help` for a command's flags and examples.",
  );
  return `${lines.join("\n")}\n`;
}

/** `nix2dream <command> --help`. */
export function commandHelp(c: CommandHelp, s: Styles): string {
  const lines = [
    `${s.bold(`nix2dream ${c.name}`)} — ${c.summary}`,
    "",
    s.bold("USAGE"),
    `  ${c.usage}`,
  ];
  if (c.details) lines.push("", ...wrap(c.details, 96).map((l) => `  ${l}`));
  // A command's own meaning of a global flag (`import -o <file>`) replaces the global line.
  const longName = (f: FlagHelp) => /--[a-z-]+/.exec(f.flag)?.[0];
  const globals = GLOBAL_FLAGS.filter((g) => !c.flags.some((f) => longName(f) === longName(g)));
  lines.push("", s.bold("FLAGS"), table(flagRows([...c.flags, ...globals]), s.cyan));
  if (c.manager) {
    lines.push(
      "",
      "  Flags not listed here are passed to the manager's action (e.g. `down --volumes`).",
    );
  }
  lines.push(
    "",
    s.bold("EXAMPLES"),
    table(c.examples, (x) => x),
  );
  return `${lines.join("\n")}\n`;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.push(line);
  return out;
}
