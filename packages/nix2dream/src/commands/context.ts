/** What a built-in command gets from the CLI. */
import type { Styles } from "../output.js";

/** The CLI's streams, styles, working directory and parsed flags, as a command sees them. */
export interface CommandRun {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  out: Styles;
  err: Styles;
  flags: Record<string, string | boolean | string[] | undefined>;
}
