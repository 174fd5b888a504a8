// Runs @nix2dream/manage-local's Supervisor on a plan file, as `nix2dream up` does: output to
// stdout, log files and control socket on, stop on SIGINT/SIGTERM. Used by run.mjs.
import { readFileSync } from "node:fs";
import { Supervisor } from "../../packages/manage-local/dist/supervisor.js";

const [planFile, renderDir, stateDir] = process.argv.slice(2);
const supervisor = new Supervisor({
  plan: JSON.parse(readFileSync(planFile, "utf8")),
  renderDir,
  stateDir,
  handleSignals: true,
});
const result = await supervisor.run();
process.exit(result.exitCode);
