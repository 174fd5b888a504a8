/**
 * Entry point of `up --detach`: runs a supervisor in a background process.
 * argv[2] is JSON `{ renderDir, stateDir, timestamps }`. Not part of the public API.
 *
 * File descriptor 3, when the launcher passes one, is how it learns the outcome: one line,
 * `ok` once this supervisor holds the deployment's lock and serves its control socket, or the
 * reason it could not (another `up` runs). The launcher then exits 0 or 1 with that line.
 */
import { closeSync, writeFileSync, writeSync } from "node:fs";
import { lastRunFile, readPlan } from "./plan.js";
import { Supervisor } from "./supervisor.js";

const config = JSON.parse(process.argv[2] ?? "{}") as {
  renderDir: string;
  stateDir: string;
  timestamps: boolean;
};

function tellLauncher(line: string) {
  try {
    writeSync(3, `${line}\n`);
    closeSync(3);
  } catch {
    // Started without a launcher channel (by hand or by a test).
  }
}

const supervisor = new Supervisor({
  plan: readPlan(config.renderDir),
  renderDir: config.renderDir,
  stateDir: config.stateDir,
  timestamps: config.timestamps,
  handleSignals: true,
});
try {
  await supervisor.claim();
} catch (err) {
  tellLauncher((err as Error).message);
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
tellLauncher("ok");
const result = await supervisor.run();
try {
  // What `up --wait` reads when every process finished before it looked again.
  writeFileSync(lastRunFile(config.stateDir), `${JSON.stringify(result.processes)}\n`);
} catch {
  // Not worth failing the exit for.
}
process.exit(result.exitCode);
