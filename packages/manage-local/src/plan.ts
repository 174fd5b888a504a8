/**
 * The process plan on disk, without anything of the config loader or the module system: the
 * background supervisor (`daemon.ts`) imports only this and the supervisor, so the process
 * that stays running loads as little as it can.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { ProcessPlan } from "@nix2dream/render-procfile";
import { LocalManagerError } from "./errors.js";

/** The plan file the procfile renderer writes beside the Procfile. */
const PLAN_FILE = "processes.json";

/**
 * A user mistake or a missing precondition in an action (`MANAGE_LOCAL_ACTION`); the CLI prints
 * it as one paragraph, exit code 1.
 */
export class ActionError extends LocalManagerError {
  constructor(message: string, hint?: string) {
    super("MANAGE_LOCAL_ACTION", message, hint);
  }
}

/** Where the background supervisor leaves the final status of its processes when its run ends. */
export function lastRunFile(stateDir: string): string {
  return path.join(stateDir, "last-run.json");
}

/**
 * Reads and checks `processes.json` from a procfile render directory.
 * Throws with a message that says how to produce it when it is missing.
 */
export function readPlan(renderDir: string): ProcessPlan {
  const file = path.join(renderDir, PLAN_FILE);
  if (!existsSync(file)) {
    throw new LocalManagerError(
      "MANAGE_LOCAL_NO_RENDER",
      `There is no process plan at ${file}.`,
      "Render the deployment first (`nix2dream render procfile`), then run `nix2dream up` again.",
    );
  }
  let plan: ProcessPlan;
  try {
    plan = JSON.parse(readFileSync(file, "utf8")) as ProcessPlan;
  } catch (err) {
    throw new LocalManagerError(
      "MANAGE_LOCAL_BAD_PLAN",
      `The process plan ${file} is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (plan.version !== 1 || !Array.isArray(plan.processes)) {
    throw new LocalManagerError(
      "MANAGE_LOCAL_BAD_PLAN",
      `The process plan ${file} has version ${JSON.stringify(plan.version)}; this manage-local reads version 1. Upgrade @nix2dream/manage-local or @nix2dream/render-procfile so they match.`,
    );
  }
  return plan;
}
