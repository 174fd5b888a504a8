/**
 * Who holds a TCP port on this machine, from `/proc/net/tcp{,6}` (listening sockets and their
 * inodes) and `/proc/<pid>/fd` (which process has which socket). Linux only; elsewhere every
 * answer is "cannot tell" and the supervisor behaves as before.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** A process that holds a port. */
export interface PortHolder {
  pid: number;
  /** `/proc/<pid>/comm`, e.g. `python3`. */
  program: string;
}

const LISTEN = "0A";

/** Inodes of the sockets listening on `port` (any address, IPv4 or IPv6); null when /proc cannot tell. */
export function listeningSockets(port: number): Set<string> | null {
  const inodes = new Set<string>();
  let readable = false;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "latin1");
    } catch {
      continue;
    }
    readable = true;
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (!local || f[3] !== LISTEN) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16) === port && f[9]) {
        inodes.add(f[9]);
      }
    }
  }
  return readable ? inodes : null;
}

/** The pids to look at, with their process group. */
function processes(): { pid: number; pgrp: number }[] {
  const out: { pid: number; pgrp: number }[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      out.push({
        pid: Number(entry),
        pgrp: Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]),
      });
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Whether the process has one of the sockets open; null when its descriptors cannot be read. */
function holds(pid: number, inodes: Set<string>): boolean | null {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith("socket:[") && inodes.has(target.slice(8, -1))) return true;
    } catch {
      // Closed meanwhile.
    }
  }
  return false;
}

function programOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

/** The first process found holding one of the sockets, or null. */
function holderOf(inodes: Set<string>, among: { pid: number }[]): PortHolder | null {
  for (const { pid } of among) {
    if (holds(pid, inodes)) return { pid, program: programOf(pid) };
  }
  return null;
}

/**
 * Who listens on `port`: `free` (nobody), a known holder, or `unknown` (someone listens but its
 * process cannot be seen, e.g. another user's, or /proc is not there).
 */
export function portHolder(port: number): "free" | "unknown" | PortHolder {
  const inodes = listeningSockets(port);
  if (inodes === null) return "unknown";
  if (inodes.size === 0) return "free";
  return holderOf(inodes, processes()) ?? "unknown";
}

/**
 * Whether the socket answering on `port` belongs to process group `pgid`: `true`, `false` with
 * the holder when another process has it, or null when it cannot be told.
 */
export function portOwnedByGroup(port: number, pgid: number): true | PortHolder | null {
  const inodes = listeningSockets(port);
  if (inodes === null || inodes.size === 0) return null;
  const all = processes();
  const ours = all.filter((p) => p.pgrp === pgid);
  let unreadable = false;
  for (const { pid } of ours) {
    const has = holds(pid, inodes);
    if (has) return true;
    if (has === null) unreadable = true;
  }
  if (unreadable) return null;
  return (
    holderOf(
      inodes,
      all.filter((p) => p.pgrp !== pgid),
    ) ?? null
  );
}

/** `pid 1234 (python3)`. */
export function describeHolder(holder: PortHolder): string {
  return `pid ${holder.pid} (${holder.program})`;
}
