/**
 * `user`/`group` of a service under the built-in supervisor. Run as root, the supervisor starts
 * such a service's processes as that user (uid/gid from /etc/passwd and /etc/group, as
 * `runuser` would: HOME, USER and LOGNAME set, no supplementary groups) and hands it its state
 * directory. Not root, it cannot switch users: the processes run as the supervisor's user and
 * the supervisor says so once.
 */
import { spawnSync } from "node:child_process";
import { lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { PlannedProcess } from "@nix2dream/render-procfile";
import { ActionError } from "./plan.js";

/** Who a process runs as. */
export interface RunAs {
  user: string;
  uid: number;
  gid: number;
  home: string;
}

/** Entries of a colon-separated database (/etc/passwd, /etc/group), by name. */
function database(file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields.length >= 3 && fields[0] && !line.startsWith("#")) out.set(fields[0], fields);
  }
  return out;
}

const NUMBER = /^[0-9]+$/;

/** Finds `user` (a name or a uid) and `group` (a name, a gid, or null: the user's own group). */
export function lookupRunAs(service: string, user: string, group: string | undefined): RunAs {
  const passwd = database("/etc/passwd");
  const entry =
    passwd.get(user) ?? [...passwd.values()].find((f) => NUMBER.test(user) && f[2] === user);
  if (!entry && !NUMBER.test(user)) {
    throw new ActionError(
      `The service \`${service}\` sets \`user\` to \`${user}\`, which is not a user of this machine (not in /etc/passwd). Create the user (\`useradd --system ${user}\`) or change \`services.${service}.user\`.`,
    );
  }
  const uid = entry ? Number(entry[2]) : Number(user);
  let gid = entry ? Number(entry[3]) : uid;
  if (group !== undefined) {
    const g = database("/etc/group").get(group);
    if (!g && !NUMBER.test(group)) {
      throw new ActionError(
        `The service \`${service}\` sets \`group\` to \`${group}\`, which is not a group of this machine (not in /etc/group). Create the group or change \`services.${service}.group\`.`,
      );
    }
    gid = g ? Number(g[2]) : Number(group);
  }
  return { user: entry?.[0] ?? user, uid, gid, home: entry?.[5] || "/" };
}

/**
 * Where the launchers keep each service's files and volumes: `$NIX2DREAM_STATE_DIR` (core's
 * `STATE_DIR_VAR`, spelled out so the background supervisor does not load core), else
 * `<render dir>/../state`, as the launchers find it.
 */
export function launcherStateRoot(renderDir: string, env: NodeJS.ProcessEnv): string {
  return env.NIX2DREAM_STATE_DIR || path.resolve(renderDir, "..", "state");
}

/** Whether this process can switch users (it runs as root). */
export function canSwitchUsers(): boolean {
  return process.getuid?.() === 0;
}

/** What the supervisor says about a service's `user` when it cannot apply it. */
export function notSwitchedNote(p: PlannedProcess): string {
  const me = process.getuid?.() ?? "?";
  return `${p.service} sets user \`${p.user}\`, but only root can switch users and this supervisor runs as uid ${me}: ${p.service} runs as uid ${me}.`;
}

/** Gives `dir` and everything under it to `runAs` (symbolic links themselves, never their targets). */
export function chownTree(dir: string, runAs: RunAs): void {
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.uid !== runAs.uid || st.gid !== runAs.gid) lchownSync(p, runAs.uid, runAs.gid);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
}

/**
 * Makes `<stateRoot>/<service>` (where the launcher writes the service's files and volumes)
 * owned by the user, and checks, as that user, that the launcher can be read and the directory
 * written: a parent directory closed to others (a project under /root) would fail every start.
 */
export function prepareStateFor(
  p: PlannedProcess,
  runAs: RunAs,
  where: { renderDir: string; stateRoot: string; launcher: string },
): void {
  mkdirSync(where.stateRoot, { recursive: true, mode: 0o755 });
  const own = path.join(where.stateRoot, p.service);
  mkdirSync(own, { recursive: true, mode: 0o755 });
  chownTree(own, runAs);
  const r = spawnSync(
    "sh",
    [
      "-c",
      'cd -- "$1" && [ -r "$2" ] && [ -w "$3" ] && [ -x "$3" ]',
      "sh",
      where.renderDir,
      where.launcher,
      own,
    ],
    { uid: runAs.uid, gid: runAs.gid, stdio: "ignore" },
  );
  if (r.status !== 0) {
    throw new ActionError(
      `The service \`${p.service}\` runs as \`${runAs.user}\` (uid ${runAs.uid}), who cannot enter ${where.renderDir}, read its launcher or write ${own}. Every directory above them must be searchable by that user (\`chmod o+x\`): a project inside /root, or a directory made with mode 0700, is not.`,
    );
  }
}
