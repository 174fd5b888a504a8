import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import type { PlannedProbe } from "@nix2dream/render-procfile";

/** Where and how an exec probe runs: the process's render dir, env and exec prefix. */
export interface ProbeEnvironment {
  cwd: string;
  env: NodeJS.ProcessEnv;
  execPrefix: string[];
  /** The service's user and group, when the supervisor switches to them. */
  uid?: number;
  gid?: number;
}

/** The outcome of one probe attempt; `detail` says why it failed. */
export interface ProbeOutcome {
  ok: boolean;
  detail: string;
}

/** Runs one probe attempt, bounded by the probe's timeout. Never throws. */
export function runProbe(probe: PlannedProbe, where: ProbeEnvironment): Promise<ProbeOutcome> {
  const timeoutMs = Math.max(1, probe.timeout * 1000);
  switch (probe.type) {
    case "exec":
      return execProbe([...where.execPrefix, ...probe.command], where, timeoutMs);
    case "http":
      return httpProbe(probe, timeoutMs);
    case "tcp":
      return tcpProbe(probe.host, probe.port, timeoutMs);
  }
}

function execProbe(argv: string[], where: ProbeEnvironment, timeoutMs: number) {
  return new Promise<ProbeOutcome>((resolve) => {
    const [file, ...args] = argv;
    if (file === undefined) return resolve({ ok: false, detail: "empty probe command" });
    const child = spawn(file, args, {
      cwd: where.cwd,
      env: where.env,
      ...(where.uid === undefined ? {} : { uid: where.uid, gid: where.gid }),
      stdio: "ignore",
      detached: true,
    });
    let done = false;
    const finish = (outcome: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      killGroup(child.pid, "SIGKILL");
      finish({ ok: false, detail: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    child.on("error", (err) => finish({ ok: false, detail: err.message }));
    child.on("exit", (code, signal) => {
      // Whatever the probe left behind in its group goes with it.
      killGroup(child.pid, "SIGKILL");
      finish(
        code === 0
          ? { ok: true, detail: "exit code 0" }
          : { ok: false, detail: signal ? `killed by ${signal}` : `exit code ${code}` },
      );
    });
  });
}

async function httpProbe(probe: Extract<PlannedProbe, { type: "http" }>, timeoutMs: number) {
  // Loaded on first use: a supervisor without http probes stays lighter (TLS above all).
  const mod = probe.scheme === "https" ? await import("node:https") : await import("node:http");
  return new Promise<ProbeOutcome>((resolve) => {
    const req = mod.get(
      {
        host: probe.host,
        port: probe.port,
        path: probe.path,
        agent: false,
        timeout: timeoutMs,
        rejectUnauthorized: false,
        headers: { "user-agent": "nix2dream-manage-local" },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        clearTimeout(timer);
        req.destroy();
        resolve({ ok: status >= 200 && status < 400, detail: `HTTP ${status}` });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ ok: false, detail: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    req.on("error", (err) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: err.message });
    });
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number) {
  return new Promise<ProbeOutcome>((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, detail: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    socket.on("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: true, detail: "connected" });
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: err.message });
    });
  });
}

/** Sends `signal` to a whole process group; a group that is already gone is not an error. */
export function killGroup(pgid: number | undefined, signal: NodeJS.Signals | number): boolean {
  if (pgid === undefined || pgid <= 0) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Whether any process of the group is still alive. */
export function groupAlive(pgid: number | undefined): boolean {
  return killGroup(pgid, 0);
}

let scanCache: { at: number; live: Map<number, number> } | null = null;

/**
 * Live (non-zombie) members of each process group, from `/proc`. A zombie is dead but
 * unreaped, which is common when PID 1 does not reap orphans (containers, microVMs), and
 * `kill(-pgid, 0)` still succeeds for it. Cached for a few milliseconds because every
 * stopping process polls it; a scan older than `since` is never used, so a group created
 * after a scan is never missed.
 */
function liveGroups(since: number): Map<number, number> | null {
  const now = Date.now();
  if (scanCache && scanCache.at >= since && now - scanCache.at < 15) return scanCache.live;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  const live = new Map<number, number>();
  for (const entry of entries) {
    const c = entry.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "latin1");
    } catch {
      continue;
    }
    // Fields after the command name (which may contain spaces and parentheses).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const state = fields[0];
    const pgrp = Number(fields[2]);
    if (state === "Z" || state === "X") continue;
    live.set(pgrp, (live.get(pgrp) ?? 0) + 1);
  }
  scanCache = { at: now, live };
  return live;
}

/**
 * Whether a process group still has a live member (zombies do not count). `since`: accept a
 * cached `/proc` scan taken at or after this time (default: now, i.e. always scan).
 */
export function groupHasLiveMembers(pgid: number | undefined, since = Date.now()): boolean {
  if (pgid === undefined || pgid <= 0) return false;
  if (!groupAlive(pgid)) return false;
  const live = liveGroups(since);
  if (live === null) return true;
  return (live.get(pgid) ?? 0) > 0;
}

/** Whether a single process is alive and not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return !existsSync("/proc/self");
  }
}
