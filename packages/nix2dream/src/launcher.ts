/**
 * The foreground `up` in two processes, so that the one that stays running is lean. Node cannot
 * `exec`, so the process the user started (this launcher: node and a few built-in modules) runs
 * the CLI in a short-lived child that loads the config, evaluates and renders. A manager that
 * supervises in the foreground (manage-local) then hands over instead of supervising there: it
 * writes `{"handoff":{"module","config"}}` on the child's descriptor `NIX2DREAM_HANDOFF_FD`,
 * and the launcher imports that module and runs it with that config after the child is gone.
 * Only the supervisor stays in memory; the config loader, the module system and zod do not.
 *
 * Under `up --watch` the CLI also sends `{"watch":[files]}`: the config and the local modules
 * it imports. When one changes, the launcher runs the CLI again; a new hand-off goes to the
 * running module's `reload(config)`, an error leaves the running processes as they are.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { Readable } from "node:stream";
import { pathToFileURL } from "node:url";

/** What the CLI child said on its hand-off descriptor, and how it ended. */
interface ChildOutcome {
  code: number;
  handoff: { module: string; config: unknown } | null;
  watch: string[] | null;
}

/** The module a manager hands over to. */
interface HandOffModule {
  default: (config: unknown) => Promise<number>;
  reload?: (config: unknown) => Promise<unknown>;
}

/** Quiet time after the last change of a config file before it is evaluated again. */
const CONFIG_DEBOUNCE_MS = 200;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Runs the CLI (`cli` with `argv`) in a child process; resolves when it hands over or ends. */
function runChild(cli: string, argv: string[], onSpawn: (c: ChildProcess) => void) {
  return new Promise<ChildOutcome>((resolve) => {
    // Node's own flags pass on, except the debugger's: its port is the launcher's.
    const nodeFlags = process.execArgv.filter((f) => !f.startsWith("--inspect"));
    const child = spawn(process.execPath, [...nodeFlags, cli, ...argv], {
      stdio: ["inherit", "inherit", "inherit", "pipe"],
      env: { ...process.env, NIX2DREAM_HANDOFF_FD: "3" },
      // Its own process group: a Ctrl-C reaches the launcher only, which passes it on once.
      detached: true,
    });
    onSpawn(child);
    const outcome: ChildOutcome = { code: 1, handoff: null, watch: null };
    let text = "";
    const read = () => {
      let end = text.indexOf("\n");
      while (end !== -1) {
        const line = text.slice(0, end);
        text = text.slice(end + 1);
        end = text.indexOf("\n");
        if (!line.trim()) continue;
        const message = JSON.parse(line) as Partial<ChildOutcome>;
        if (message.watch) outcome.watch = message.watch;
        if (message.handoff) outcome.handoff = message.handoff;
      }
      // The child has nothing left to do once it handed over: go on without waiting for its exit.
      if (outcome.handoff) resolve({ ...outcome, code: 0 });
    };
    const channel = child.stdio[3] as Readable;
    channel.setEncoding("utf8");
    channel.on("data", (d: string) => {
      text += d;
      read();
    });
    channel.on("error", () => undefined);
    child.on("error", (err) => {
      process.stderr.write(`error: cannot run the nix2dream CLI: ${err.message}\n`);
      resolve(outcome);
    });
    child.on("close", (code, signal) => {
      read();
      outcome.code = code ?? 128 + (signal === "SIGINT" ? 2 : signal === "SIGHUP" ? 1 : 15);
      resolve(outcome);
    });
  });
}

/**
 * Runs `nix2dream <argv>` through a child and continues with the module it hands over to, if
 * any; resolves to the exit code. `cli` is the CLI's entry file (dist/cli.js).
 */
export async function launch(cli: string, argv: string[]): Promise<number> {
  let child: ChildProcess | null = null;
  const forward = (signal: NodeJS.Signals) => child?.kill(signal);
  for (const s of SIGNALS) process.on(s, forward);
  const first = await runChild(cli, argv, (c) => {
    child = c;
  });
  for (const s of SIGNALS) process.off(s, forward);
  if (!first.handoff) return first.code;
  const mod = (await import(pathToFileURL(first.handoff.module).href)) as HandOffModule;
  const running = mod.default(first.handoff.config);
  if (!first.watch || !mod.reload) return running;
  const watcher = new ConfigWatcher(cli, argv, mod, first.watch);
  try {
    return await running;
  } finally {
    watcher.close();
  }
}

/** Evaluates and renders again when the config or a local module it imports changes. */
class ConfigWatcher {
  readonly #cli: string;
  readonly #argv: string[];
  readonly #mod: HandOffModule;
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | null = null;
  #rendering: ChildProcess | null = null;
  #again = false;
  #closed = false;

  constructor(cli: string, argv: string[], mod: HandOffModule, files: string[]) {
    this.#cli = cli;
    this.#argv = argv;
    this.#mod = mod;
    this.#watch(files);
  }

  /** Watches the directories of `files` (editors replace a file by renaming a new one over it). */
  #watch(files: string[]) {
    for (const w of this.#watchers.splice(0)) w.close();
    const byDir = new Map<string, Set<string>>();
    for (const f of files) {
      const names = byDir.get(dirname(f)) ?? new Set<string>();
      names.add(basename(f));
      byDir.set(dirname(f), names);
    }
    for (const [dir, names] of byDir) {
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          if (name !== null && names.has(String(name))) this.#changed();
        });
        w.on("error", () => undefined);
        this.#watchers.push(w);
      } catch {
        // A directory that went away: nothing there to follow.
      }
    }
  }

  #changed() {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#render(), CONFIG_DEBOUNCE_MS);
  }

  async #render() {
    this.#timer = null;
    if (this.#closed) return;
    if (this.#rendering) {
      this.#again = true;
      return;
    }
    process.stderr.write("nix2dream: the config changed; evaluating it again\n");
    const outcome = await runChild(this.#cli, this.#argv, (c) => {
      this.#rendering = c;
    });
    this.#rendering = null;
    if (this.#closed) return;
    if (outcome.watch) this.#watch(outcome.watch);
    if (outcome.handoff) {
      try {
        await this.#mod.reload?.(outcome.handoff.config);
      } catch (err) {
        process.stderr.write(
          `nix2dream: the new plan was not applied: ${(err as Error).message}; the running processes are left as they are\n`,
        );
      }
    } else {
      process.stderr.write(
        "nix2dream: the new config was not applied (see above); the running processes are left as they are\n",
      );
    }
    if (this.#again) {
      this.#again = false;
      void this.#render();
    }
  }

  close() {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const w of this.#watchers.splice(0)) w.close();
    this.#rendering?.kill("SIGTERM");
  }
}
