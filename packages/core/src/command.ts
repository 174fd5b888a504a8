/**
 * Running a tool as a manager does: output kept and, when asked, copied through while it runs;
 * a non-zero exit is a result, not an exception. Shared by the managers (manage-compose,
 * manage-swarm) so each does not carry its own copy.
 */
import { spawn } from "node:child_process";

/** What a finished command printed. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCommand}. */
export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Copy the command's stdout / stderr here while it runs. */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  signal?: AbortSignal;
}

/** Runs a command; never rejects for a non-zero exit (`code` tells), rejects when it cannot start. */
export function runCommand(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (!cmd) {
      reject(new Error("empty command"));
      return;
    }
    const child = spawn(cmd, args, {
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString("utf8");
      options.stdout?.write(d);
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
      options.stderr?.write(d);
    });
    const onAbort = () => child.kill("SIGTERM");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (err) => {
      options.signal?.removeEventListener("abort", onAbort);
      reject(err);
    });
    child.on("close", (code, signal) => {
      options.signal?.removeEventListener("abort", onAbort);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}
