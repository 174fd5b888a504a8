/**
 * Test helpers that check units with systemd's own code: `systemd-analyze verify` and the
 * manager's `--test` mode, which loads the units, dumps every parsed setting and exits without
 * starting anything (no systemd as PID 1 is needed). Both come with Debian's `systemd` package.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Artifact } from "@nix2dream/core";
import { writeArtifacts } from "@nix2dream/testkit";

const SYSTEMD = ["/usr/lib/systemd/systemd", "/lib/systemd/systemd"];

/** Fails loudly, naming the apt package, when a checker is missing. */
export function requireTool(path: string, aptPackage: string): string {
  const found = path.startsWith("/")
    ? existsSync(path)
    : spawnSync("sh", ["-c", `command -v ${path}`]).status === 0;
  if (!found) {
    throw new Error(
      `${path} is missing: install Debian's \`${aptPackage}\` package (apt-get install -y ${aptPackage}); scripts/setup.sh does in CI.`,
    );
  }
  return path;
}

function systemdBinary(): string {
  const found = SYSTEMD.find((p) => existsSync(p));
  if (!found) return requireTool(SYSTEMD[0] as string, "systemd");
  return found;
}

/** A temporary directory removed by `cleanup`. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `n2d-systemd-${prefix}-`));
  chmodSync(dir, 0o755);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function writeUnits(dir: string, artifacts: Artifact[]): void {
  mkdirSync(dir, { recursive: true });
  writeArtifacts(dir, artifacts); // mode 0644 unless the artifact says otherwise
}

const STUB_UNITS = [
  "sysinit.target",
  "basic.target",
  "shutdown.target",
  "default.target",
  "multi-user.target",
  "system.slice",
  "app.slice",
  "exit.target",
];

function writeStubUnits(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const u of STUB_UNITS) writeFileSync(join(dir, u), "[Unit]\nDescription=stub\n");
}

/**
 * Runs `systemd-analyze verify --man=no --root=ROOT` on the units, with a root that holds the
 * units, stub default-dependency targets and a stub executable for every program path given
 * (systemd checks that ExecStart programs exist and are executable). Returns every line of
 * output: the command exits 0 on most mistakes, so callers expect no lines at all.
 */
export function verifyUnits(
  artifacts: Artifact[],
  programs: string[],
): { lines: string[]; status: number | null } {
  const tool = requireTool("systemd-analyze", "systemd");
  const { dir: root, cleanup } = tempDir("verify");
  try {
    const units = join(root, "etc/systemd/system");
    writeUnits(units, artifacts);
    writeStubUnits(join(root, "usr/lib/systemd/system"));
    for (const p of programs) {
      const file = join(root, p.startsWith("/") ? p : `usr/bin/${p}`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, "#!/bin/sh\n", { mode: 0o755 });
    }
    const names = artifacts.map((a) => a.path).sort();
    const r = spawnSync(tool, ["verify", "--man=no", `--root=${root}`, ...names], {
      cwd: units,
      encoding: "utf8",
      env: { ...process.env, SYSTEMD_LOG_COLOR: "0", SYSTEMD_PAGER: "cat" },
    });
    const lines = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.trim() !== "");
    return { lines, status: r.status };
  } finally {
    cleanup();
  }
}

/** One unit as systemd's manager parsed it. */
export interface DumpedUnit {
  /** `Key: value` settings, in dump order; values with newlines are joined back. */
  settings: Array<[string, string]>;
  /** Parsed command lines by Exec kind (`ExecStart`, `ExecStartPre`, …), as argv. */
  exec: Record<string, string[][]>;
}

/** Result of loading units in the manager's test mode. */
export interface Dump {
  units: Record<string, DumpedUnit>;
  /** Warnings printed while loading (anything but the timing line). */
  warnings: string[];
  /** `%t` (runtime directory) and `%S` (state directory) as the manager expanded them. */
  runtimeDir: string;
  home: string;
}

/**
 * Decodes one word of systemd's dump format (`quote_command_line`): bare, or double-quoted with
 * backslash escapes (`\"`, `\\`, `\$`, `` \` ``, C escapes and octal).
 */
function decodeDumpLine(line: string): string[] {
  const argv: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === " ") i++;
    if (i >= line.length) break;
    let word = "";
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === "\\") {
          const e = line[i + 1] as string;
          i += 2;
          const simple: Record<string, string> = {
            n: "\n",
            t: "\t",
            r: "\r",
            a: "\x07",
            b: "\b",
            f: "\f",
            v: "\v",
          };
          if (e in simple) word += simple[e];
          else if (/[0-7]/.test(e)) {
            word += String.fromCharCode(Number.parseInt(e + line.slice(i, i + 2), 8));
            i += 2;
          } else if (e === "x") {
            word += String.fromCharCode(Number.parseInt(line.slice(i, i + 2), 16));
            i += 2;
          } else word += e;
        } else word += line[i++];
      }
      i++;
    } else {
      while (i < line.length && line[i] !== " ") word += line[i++];
    }
    argv.push(word);
  }
  return argv;
}

/**
 * Loads the units in systemd's user manager test mode (`systemd --test --user`), as an
 * unprivileged user (the manager refuses test mode as root), and returns what it parsed.
 */
export function dumpUnits(artifacts: Artifact[], target: string): Dump {
  const systemd = systemdBinary();
  const { dir, cleanup } = tempDir("dump");
  try {
    const units = join(dir, "units");
    const stubs = join(dir, "stubs");
    const runtimeDir = join(dir, "run");
    writeUnits(units, artifacts);
    writeStubUnits(stubs);
    mkdirSync(runtimeDir, { mode: 0o700 });
    const asRoot = process.getuid?.() === 0;
    if (asRoot) spawnSync("chown", ["65534:65534", runtimeDir]);
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: "/nonexistent",
      XDG_RUNTIME_DIR: runtimeDir,
      SYSTEMD_UNIT_PATH: `${units}:${stubs}`,
      SYSTEMD_LOG_COLOR: "0",
    };
    const args = ["--test", "--user", `--unit=${target}`, "--log-target=console"];
    const r = asRoot
      ? spawnSync(
          requireTool("setpriv", "util-linux"),
          ["--reuid=65534", "--regid=65534", "--clear-groups", systemd, ...args],
          { env, encoding: "utf8" },
        )
      : spawnSync(systemd, args, { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`systemd --test failed (${r.status}): ${r.stderr}`);
    const warnings = r.stderr
      .split("\n")
      .filter(
        (l) => l.trim() !== "" && !/^Loaded units and determined initial transaction/.test(l),
      );
    const out: Record<string, DumpedUnit> = {};
    const names = new Set(artifacts.map((a) => a.path));
    let current: DumpedUnit | null = null;
    let exec: string | null = null;
    for (const raw of r.stdout.split("\n")) {
      const unit = /^\t-> Unit (.+):$/.exec(raw);
      if (unit) {
        const name = unit[1] as string;
        current = names.has(name) ? { settings: [], exec: {} } : null;
        if (current) out[name] = current;
        exec = null;
        continue;
      }
      if (!current) continue;
      const execHead = /^\t\t-> (Exec\w+):$/.exec(raw);
      if (execHead) {
        exec = execHead[1] as string;
        continue;
      }
      const cmd = /^\t\t\tCommand Line: (.*)$/.exec(raw);
      if (cmd && exec) {
        const list = current.exec[exec] ?? [];
        current.exec[exec] = list;
        list.push(decodeDumpLine(cmd[1] as string));
        continue;
      }
      const setting = /^\t\t([A-Za-z][\w ]*): ?(.*)$/.exec(raw);
      if (setting) {
        current.settings.push([setting[1] as string, setting[2] as string]);
        exec = null;
      } else if (!raw.startsWith("\t\t") && current.settings.length > 0) {
        // A value with a newline continues on the next raw line.
        const last = current.settings[current.settings.length - 1] as [string, string];
        last[1] += `\n${raw}`;
      }
    }
    return { units: out, warnings, runtimeDir, home: "/nonexistent" };
  } finally {
    cleanup();
  }
}

/** Values of one setting of a dumped unit. */
export function settingValues(unit: DumpedUnit | undefined, key: string): string[] {
  return (unit?.settings ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

/** Lists the files below `dir`, relative, sorted. */
export function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** `[section, key, value]` of every setting line of a unit file (no continuation lines are generated). */
export function unitSettings(text: string): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [];
  let section = "";
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = head[1] as string;
      continue;
    }
    const eq = line.indexOf("=");
    out.push([section, line.slice(0, eq), line.slice(eq + 1)]);
  }
  return out;
}

/** Values of `key` in `section` of a unit file. */
export function unitValues(text: string, section: string, key: string): string[] {
  return unitSettings(text)
    .filter(([s, k]) => s === section && k === key)
    .map(([, , v]) => v);
}

/** Expands the specifiers a test needs (`%t`, `%S`, `%%` kept for the Exec-line parser). */
export function expandSpecifiers(value: string, dirs: { t: string; S: string }): string {
  return value.replace(/%(.)/g, (m, c: string) => {
    if (c === "%") return m;
    if (c === "t" || c === "S") return dirs[c];
    throw new Error(`unexpected specifier ${m}`);
  });
}
