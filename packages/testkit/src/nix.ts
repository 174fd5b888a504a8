// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Nix and shell source and hostile values hold literal ${...}
/**
 * Running the real `nix-instantiate` (Debian `nix-bin`) on generated Nix, and the stubs that let a
 * NixOS module be evaluated without nixpkgs (none is reachable on the test machines).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { tempDir } from "./temp.js";

function nixInstantiate(args: string[]): string {
  try {
    return execFileSync("nix-instantiate", args, { encoding: "utf8", stdio: "pipe" });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") {
      throw new Error(
        "nix-instantiate is missing: install Debian's nix-bin (apt-get install -y nix-bin)",
      );
    }
    throw new Error(`nix-instantiate ${args.join(" ")} failed:\n${e.stderr ?? e.message}`);
  }
}

/** Parses a Nix file with `nix-instantiate --parse`; throws with Nix's message on a syntax error. */
export function parseNix(file: string): string {
  return nixInstantiate(["--parse", file]);
}

/** Evaluates a Nix expression strictly and returns its JSON value. */
export function evalNix(expr: string): unknown {
  const dir = tempDir("n2d-nixeval-");
  const file = path.join(dir, "expr.nix");
  writeFileSync(file, expr);
  return JSON.parse(nixInstantiate(["--eval", "--strict", "--json", file]));
}

/**
 * STUB, not nixpkgs: the few `lib` functions a generated module calls, with nixpkgs' meaning
 * (priorities are not modelled: `mkForce v` is `v`). Enough to evaluate the module's `config`.
 */
export const STUB_LIB = `{
  mkIf = cond: value: if cond then value else { };
  mkEnableOption = name: { _type = "option"; description = "Whether to enable \${name}."; };
  mkForce = v: v;
  mkDefault = v: v;
  getExe = p: "\${p}/bin/\${p.meta.mainProgram or p.pname}";
  getExe' = p: name: "\${p}/bin/\${name}";
}`;

/**
 * STUB, not nixpkgs: packages are attribute sets with an `outPath` under `store` (a real
 * directory when a test wants to run their programs), `writeText`/`writeScript` return paths
 * that carry their text, `runtimeShell` is the given shell.
 */
export function stubPkgs(store: string, shell = "/bin/sh"): string {
  const names = ["bash", "curl", "jq", "netcat", "postgresql_16", "nodejs_20", "hello", "redis"];
  return `let
  drv = name: { type = "derivation"; outPath = "${store}/\${name}"; pname = name; meta.mainProgram = name; };
  text = kind: name: text: "${store}/\${kind}-\${name}-" + builtins.hashString "sha256" text;
in builtins.listToAttrs (map (n: { name = n; value = drv n; }) ${JSON.stringify(names).replaceAll(",", " ")}) // {
  runtimeShell = "${shell}";
  stdenv.hostPlatform.system = "x86_64-linux";
  writeText = text "text";
  writeScript = text "script";
  writeShellScript = name: text: "STUBSCRIPT" + builtins.toJSON { inherit name text; } + "ENDSTUB";
}`;
}

/**
 * Replaces each stub `pkgs.writeShellScript` result in `line` with a real script file under
 * `dir` (`#!/bin/sh` + its text, executable), as nixpkgs would build it in the store; the
 * path written into the line is relative to `root` when given (for `systemd-analyze --root`).
 */
export function materializeScripts(line: string, dir: string, root = ""): string {
  let out = line;
  for (;;) {
    const start = out.indexOf("STUBSCRIPT");
    if (start < 0) return out;
    let end = out.indexOf("ENDSTUB", start);
    let script: { name: string; text: string } | undefined;
    while (end >= 0 && script === undefined) {
      try {
        script = JSON.parse(out.slice(start + 10, end));
      } catch {
        end = out.indexOf("ENDSTUB", end + 1);
      }
    }
    if (!script || end < 0) throw new Error(`unterminated stub script in ${line}`);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, script.name);
    writeFileSync(file, `#!/bin/sh\n${script.text}`, { mode: 0o755 });
    out = `${out.slice(0, start)}${file.slice(root.length)}${out.slice(end + 7)}`;
  }
}

/**
 * Evaluates the module in `file` as NixOS would call it, with the stub `lib`/`pkgs` and the
 * deployment enabled (or not), and returns its `config` as JSON.
 */
export function evalModuleConfig(
  file: string,
  deployment: string,
  opts: { enable?: boolean; store?: string; shell?: string } = {},
): Record<string, unknown> {
  const enable = opts.enable ?? true;
  return evalNix(`let
  lib = ${STUB_LIB};
  pkgs = ${stubPkgs(opts.store ?? "/nix/store/stub", opts.shell)};
  config.services.nix2dream.${JSON.stringify(deployment)}.enable = ${enable};
in (import ${file} { inherit config lib pkgs; }).config`) as Record<string, unknown>;
}
