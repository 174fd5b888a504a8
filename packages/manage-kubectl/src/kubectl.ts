/** Running kubectl: argv in, exit code and output out, with the errors a user can act on. */
import { spawn } from "node:child_process";
import { UserError } from "@nix2dream/core";

/** A failure the user can fix, printed as one paragraph without a stack trace. */
export class KubectlError extends UserError {
  /** `KUBECTL_MISSING`, `NO_CLUSTER`, `NO_RENDER`, `BAD_ARGS` or `UNSUPPORTED` (an action Kubernetes has no form for). */
  declare readonly code:
    | "KUBECTL_MISSING"
    | "NO_CLUSTER"
    | "NO_RENDER"
    | "BAD_ARGS"
    | "UNSUPPORTED";
  constructor(code: KubectlError["code"], message: string, options: { hint?: string } = {}) {
    super(code, message, { ...options, source: "manager kubectl" });
    this.name = "KubectlError";
  }
}

/** What one kubectl run gave back. */
export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** How to run kubectl. */
export interface KubectlInvocation {
  /** The kubectl program (a name on PATH or a path). */
  kubectl: string;
  /** Global flags put before the subcommand (`--context`). */
  global: string[];
  /** Extra environment (e.g. `KUBECONFIG`). */
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
}

const NO_CLUSTER = [
  /The connection to the server .* was refused/,
  /Unable to connect to the server/,
  /couldn't get current server API group list/,
  /dial tcp .*: (connect: )?connection refused/,
  /no such host/,
  /i\/o timeout/,
  /context was not found for specified context/,
  /context ".*" does not exist/,
  /no configuration has been provided/,
  /Missing or incomplete configuration info/,
];

/** True when kubectl's stderr says that no cluster answered (or none is configured). */
export function isNoCluster(stderr: string): boolean {
  return NO_CLUSTER.some((re) => re.test(stderr));
}

/** The line of kubectl's stderr worth showing: the last non-log line. */
function reason(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^[EIW]\d{4} /.test(l));
  const last = (lines.at(-1) ?? "").replace(/^error: /, "");
  return /[.?!]$/.test(last) ? last : `${last}.`;
}

/**
 * Runs kubectl with `args`. Output goes to `tee` streams as it arrives when given, and is kept
 * either way. Throws {@link KubectlError} `KUBECTL_MISSING` when kubectl cannot be started and
 * `NO_CLUSTER` when its error says that no cluster answered; other failures are returned.
 */
export function runKubectl(
  inv: KubectlInvocation,
  args: string[],
  tee: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream } = {},
): Promise<KubectlRun> {
  const argv = [...inv.global, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(inv.kubectl, argv, {
      env: { ...process.env, ...inv.env },
      stdio: ["ignore", "pipe", "pipe"],
      ...(inv.signal ? { signal: inv.signal } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (s: string) => {
      stdout += s;
      tee.stdout?.write(s);
    });
    child.stderr.on("data", (s: string) => {
      stderr += s;
    });
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT" || e.code === "EACCES") {
        reject(
          new KubectlError(
            "KUBECTL_MISSING",
            `kubectl was not found (\`${inv.kubectl}\` ${e.code === "ENOENT" ? "is not on PATH" : "cannot be run"}). Install kubectl (https://kubernetes.io/docs/tasks/tools/) or set \`managers.kubectl.kubectl\` to its path.`,
          ),
        );
      } else if (e.name === "AbortError") {
        resolve({ code: 130, stdout, stderr });
      } else reject(e);
    });
    child.on("close", (code) => {
      const run = { code: code ?? 1, stdout, stderr };
      if (run.code !== 0 && isNoCluster(stderr)) {
        const context = inv.global.includes("--context")
          ? `context \`${inv.global[inv.global.indexOf("--context") + 1]}\``
          : "the current kubeconfig context";
        reject(
          new KubectlError(
            "NO_CLUSTER",
            `No Kubernetes cluster answered for ${context}: ${reason(stderr)} Check \`kubectl config current-context\`, KUBECONFIG, and that the cluster is running; choose another with --context.`,
          ),
        );
        return;
      }
      if (run.code !== 0) tee.stderr?.write(stderr);
      else if (stderr) tee.stderr?.write(stderr);
      resolve(run);
    });
  });
}
