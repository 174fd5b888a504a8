import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EvaluatedDeployment, ManagerContext } from "@nix2dream/core";
import {
  managerContext,
  runAction,
  runFailingAction,
  type TestManagerContext,
} from "@nix2dream/testkit";

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

/** A ManagerContext writing into strings, its state directory beside `artifactsDir`. */
export function context(
  deployment: EvaluatedDeployment,
  artifactsDir: string,
  args: string[] = [],
  flags: ManagerContext["flags"] = {},
): TestManagerContext {
  return managerContext({ deployment, artifactsDir, args, flags });
}

/** Runs an action and returns its result with what it printed. */
export const run = runAction;

/** Runs an action that must throw a user error; returns it with what was printed. */
export const fail = runFailingAction;
