// The floor of a supervisor written for Node: node itself, spawning each child with a pipe and
// copying its output to stdout, with nothing else loaded (no line handling, no probes, no
// restarts, no logs). `node bare-node.mjs <plan.json>`; not a supervisor anyone should use.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const children = plan.processes.map((p) => {
  const [file, ...args] = p.command;
  const child = spawn(file, args, { stdio: ["ignore", "pipe", "inherit"], detached: true });
  child.stdout.pipe(process.stdout, { end: false });
  return child;
});
const stop = () => {
  for (const c of children) {
    try {
      process.kill(-c.pid, "SIGTERM");
    } catch {}
  }
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
