/**
 * Entry point of `up --detach`: runs a supervisor in a background process.
 * argv[2] is JSON `{ renderDir, stateDir, timestamps }`. Not part of the public API.
 */
import { readPlan } from "./manager.js";
import { Supervisor } from "./supervisor.js";

const config = JSON.parse(process.argv[2] ?? "{}") as {
  renderDir: string;
  stateDir: string;
  timestamps: boolean;
};
const supervisor = new Supervisor({
  plan: readPlan(config.renderDir),
  renderDir: config.renderDir,
  stateDir: config.stateDir,
  timestamps: config.timestamps,
  handleSignals: true,
});
const result = await supervisor.run();
process.exit(result.exitCode);
