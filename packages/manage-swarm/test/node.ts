/**
 * A second Docker engine on this machine, as a second swarm node: its own network namespace
 * (joined to the host by a veth pair), data root, exec root and socket. Needs root (`ip netns`,
 * `nsenter`). Everything it creates is removed by `stop()`.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/** A running second engine. */
export interface SecondNode {
  /** `unix://…/docker.sock` of the second engine. */
  host: string;
  /** The host end of the veth pair: the address the swarm manager advertises to this node. */
  managerAddr: string;
  /** This node's own address, inside its namespace. */
  addr: string;
  /** Runs `docker` against the second engine. */
  docker(args: string[], input?: Buffer): string;
  /** Stops the engine (by its PID), removes the namespace, the veth pair and its directory. */
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], input?: Buffer): string {
  return execFileSync(cmd, args, {
    encoding: "utf8",
    input,
    maxBuffer: 1 << 28,
    stdio: ["pipe", "pipe", "pipe"],
  });
}

async function until(what: string, check: () => boolean, seconds = 30): Promise<void> {
  for (let i = 0; i < seconds * 5; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts the second engine; `id` (digits) keeps its names and subnet apart from other runs. */
export async function startSecondNode(dir: string, id: number): Promise<SecondNode> {
  const ns = `n2dsw${id}`;
  const veth = `n2d${id % 1_000_000}`;
  const subnet = `10.231.${id % 250}`;
  const managerAddr = `${subnet}.1`;
  mkdirSync(join(dir, "data"), { recursive: true });
  mkdirSync(join(dir, "tmp"), { recursive: true });
  run("ip", ["netns", "add", ns]);
  run("ip", ["link", "add", `${veth}h`, "type", "veth", "peer", "name", `${veth}n`]);
  run("ip", ["link", "set", `${veth}n`, "netns", ns]);
  run("ip", ["addr", "add", `${managerAddr}/24`, "dev", `${veth}h`]);
  run("ip", ["link", "set", `${veth}h`, "up"]);
  const inNs = (args: string[]) => run("ip", ["netns", "exec", ns, "ip", ...args]);
  inNs(["addr", "add", `${subnet}.2/24`, "dev", `${veth}n`]);
  inNs(["link", "set", `${veth}n`, "up"]);
  inNs(["link", "set", "lo", "up"]);
  const socket = join(dir, "docker.sock");
  const host = `unix://${socket}`;
  // nsenter changes the network namespace only: `ip netns exec` would remount /sys and hide
  // the cgroup mounts dockerd needs.
  const daemon = spawn(
    "nsenter",
    [
      `--net=/run/netns/${ns}`,
      "dockerd",
      "--data-root",
      join(dir, "data"),
      "--exec-root",
      join(dir, "exec"),
      "--pidfile",
      join(dir, "dockerd.pid"),
      "-H",
      host,
    ],
    // Its own TMPDIR, removed with `dir`: containerd may dump `containerd.<pid>.stacks.log` there,
    // which would otherwise be left in the test run's TMPDIR.
    { stdio: "ignore", env: { ...process.env, TMPDIR: join(dir, "tmp") } },
  );
  const docker = (args: string[], input?: Buffer) => run("docker", ["-H", host, ...args], input);
  const answers = () => {
    try {
      docker(["info", "--format", "{{.ServerVersion}}"]);
      return true;
    } catch {
      return false;
    }
  };
  await until("the second dockerd", answers);
  const stop = async () => {
    try {
      docker(["swarm", "leave", "--force"]);
    } catch {
      // not in a swarm
    }
    // nsenter execs dockerd, so this PID is dockerd's.
    if (daemon.exitCode === null) {
      daemon.kill("SIGTERM");
      await until(
        "the second dockerd to stop",
        () => daemon.exitCode !== null || daemon.signalCode !== null,
        60,
      );
    }
    run("ip", ["netns", "del", ns]);
    try {
      run("ip", ["link", "del", `${veth}h`]);
    } catch {
      // went with the namespace
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { host, managerAddr, addr: `${subnet}.2`, docker, stop };
}
