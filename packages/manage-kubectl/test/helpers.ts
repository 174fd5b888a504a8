import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import type { ActionResult, EvaluatedDeployment, ManagerContext } from "@nix2dream/core";

/** The FAKE kubectl (`fixtures/fake-kubectl.mjs`): records argv, replays scripted answers. */
export const FAKE_KUBECTL = fileURLToPath(new URL("./fixtures/fake-kubectl.mjs", import.meta.url));
chmodSync(FAKE_KUBECTL, 0o755);

/** One scripted answer of the fake kubectl. */
export interface FakeRule {
  match: string[];
  stdout?: string;
  stderr?: string;
  code?: number;
}

/** A fresh temporary directory, removed by `remove`. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `n2d-kubectl-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fake kubectl session: its env (log + rules) and the argv it recorded. */
export function fakeSession(dir: string, rules: FakeRule[] = []) {
  const log = join(dir, "argv.log");
  const rulesFile = join(dir, "rules.json");
  writeFileSync(log, "");
  writeFileSync(rulesFile, JSON.stringify(rules));
  return {
    env: { FAKE_KUBECTL_LOG: log, FAKE_KUBECTL_RULES: rulesFile },
    calls: (): string[][] =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[]),
  };
}

/** A ManagerContext writing into strings. */
export function context(
  deployment: EvaluatedDeployment,
  artifactsDir: string,
  args: string[] = [],
  flags: ManagerContext["flags"] = {},
) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (b) => (out += b));
  stderr.on("data", (b) => (err += b));
  const ctx: ManagerContext = {
    deployment,
    artifactsDir,
    stateDir: join(artifactsDir, "..", "state"),
    args,
    flags,
    stdout,
    stderr,
    color: false,
    signal: new AbortController().signal,
  };
  return { ctx, out: () => out, err: () => err };
}

/** Runs an action and returns its result with what it printed. */
export async function run(
  action: ((ctx: ManagerContext) => Promise<ActionResult>) | undefined,
  c: ReturnType<typeof context>,
) {
  if (!action) throw new Error("no such action");
  const result = await action(c.ctx);
  await new Promise((r) => setImmediate(r));
  return { ...result, stdout: c.out(), stderr: c.err() };
}
