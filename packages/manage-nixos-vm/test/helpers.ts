/**
 * Test helpers: output sinks, a real VM render, and FAKE Nix tools. No nixpkgs is reachable on
 * these machines (and Debian's Nix 2.8 is too old for current nixpkgs), so no real VM can be
 * built or booted here: `nix-build`, `nix` and the VM start script are fakes that record their
 * argv, and say so in their first line. `nix-instantiate` is the real one unless a test fakes it.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import {
  type DeploymentDefinition,
  type EvaluatedDeployment,
  evaluateDeployment,
  type ManagerContext,
} from "@nix2dream/core";
import nixosVm from "@nix2dream/render-nixos-vm";
import { tempDir as testkitTempDir, writeArtifacts } from "@nix2dream/testkit";

/** A temporary directory, removed after the test (or the file) — testkit's `tempDir`. */
export function tempDir(prefix = "n2d-mvm-"): string {
  return testkitTempDir(prefix);
}

/** A writable stream that keeps what it got and lets a test wait for a pattern. */
export class Sink extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/** Waits until `check` returns true, polling; fails with `what` after `timeoutMs`. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The text of a file, or "" while it does not exist. */
export function read(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

export const definition = {
  name: "shop",
  use: [nixosVm()],
  services: {
    web: {
      package: { nix: "pkgs.hello" },
      ports: { http: { port: 8080, expose: true, hostPort: 18080 } },
    },
  },
} satisfies DeploymentDefinition;

/** Renders the shop VM (the real render-nixos-vm) into a fresh directory. */
export function renderShop(renderers?: DeploymentDefinition["renderers"]): {
  deployment: EvaluatedDeployment;
  artifactsDir: string;
  stateDir: string;
} {
  const { deployment } = evaluateDeployment(
    { ...definition, ...(renderers ? { renderers } : {}) } as DeploymentDefinition,
    { file: "nix2dream.config.ts" },
  );
  const root = tempDir();
  const artifactsDir = path.join(root, "render");
  const { artifacts } = nixosVm().render(deployment);
  writeArtifacts(artifactsDir, artifacts);
  return { deployment, artifactsDir, stateDir: path.join(root, "state") };
}

export interface Run {
  ctx: ManagerContext;
  out: Sink;
  err: Sink;
  abort: () => void;
}

export function context(
  dirs: { deployment: EvaluatedDeployment; artifactsDir: string; stateDir: string },
  args: string[] = [],
  flags: ManagerContext["flags"] = {},
): Run {
  const out = new Sink();
  const err = new Sink();
  const ac = new AbortController();
  return {
    ctx: { ...dirs, args, flags, stdout: out, stderr: err, color: false, signal: ac.signal },
    out,
    err,
    abort: () => ac.abort(),
  };
}

function script(file: string, text: string): void {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

/** A directory of FAKE Nix tools and the environment that puts them first on PATH. */
export function fakeNix(opts: { flakes?: boolean; fakeInstantiate?: boolean } = {}) {
  const bin = tempDir("n2d-fakebin-");
  const store = tempDir("n2d-fakestore-");
  const log = path.join(bin, "argv.log");
  const vm = path.join(bin, "fake-vm.sh");
  script(
    vm,
    `#!/bin/sh
# FAKE VM start script (stands in for run-<host>-vm, which starts qemu): no VM can boot here.
echo "fake VM booting; disk=$NIX_DISK_IMAGE; cwd=$(pwd)"
if [ -n "\${FAKE_VM_FAIL:-}" ]; then echo "qemu: cannot open the disk (fake)"; exit 3; fi
: >"$NIX_DISK_IMAGE"
if [ -n "\${FAKE_VM_IGNORE_TERM:-}" ]; then trap '' TERM; else trap 'echo "fake VM: SIGTERM, powering off"; exit 0' TERM; fi
echo "fake VM: login prompt"
while :; do sleep 1; done
`,
  );
  const build = `mkdir -p "$FAKE_STORE/vm/bin"
cp "$FAKE_VM" "$FAKE_STORE/vm/bin/run-shop-vm"
ln -sfn "$FAKE_STORE/vm" "$out"
echo "$FAKE_STORE/vm"`;
  script(
    path.join(bin, "nix-build"),
    `#!/bin/sh
# FAKE nix-build: records its argv and "builds" a fake VM. No nixpkgs is reachable here.
printf 'nix-build %s\\n' "$*" >>"$FAKE_NIX_LOG"
out=result
while [ $# -gt 0 ]; do case $1 in -o) out=$2; shift 2 ;; *) shift ;; esac; done
if [ -n "\${FAKE_NIX_FAIL:-}" ]; then echo "error: builder for 'shop-vm' failed (fake)" >&2; exit 1; fi
echo "building shop-vm (fake)" >&2
${build}
`,
  );
  script(
    path.join(bin, "nix"),
    `#!/bin/sh
# FAKE nix (new CLI): records its argv and "builds" a fake VM. No nixpkgs is reachable here.
printf 'nix %s\\n' "$*" >>"$FAKE_NIX_LOG"
if [ -n "\${FAKE_NIX_NO_FLAKES:-}" ]; then echo "error: experimental Nix feature 'flakes' is disabled; use '--extra-experimental-features flakes' to override" >&2; exit 1; fi
out=result
while [ $# -gt 0 ]; do case $1 in --out-link) out=$2; shift 2 ;; *) shift ;; esac; done
${build}
`,
  );
  if (opts.fakeInstantiate) {
    script(
      path.join(bin, "nix-instantiate"),
      `#!/bin/sh
# FAKE nix-instantiate: answers whether flakes are enabled.
printf 'nix-instantiate %s\\n' "$*" >>"$FAKE_NIX_LOG"
echo ${opts.flakes ? "true" : "false"}
`,
    );
  }
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: process.env.HOME,
    FAKE_NIX_LOG: log,
    FAKE_STORE: store,
    FAKE_VM: vm,
    // The real nix-instantiate must see flakes off, whatever the machine's nix.conf says.
    NIX_CONFIG: "experimental-features = nix-command",
  };
  return { env, argv: () => read(log).split("\n").filter(Boolean) };
}
