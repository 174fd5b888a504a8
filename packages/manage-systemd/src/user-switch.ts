import { definitionFilesOf, type EvaluatedDeployment } from "@nix2dream/core";
import type { SystemdScope } from "./manager.js";

/**
 * Warnings for services whose units switch user or group (`User=`/`Group=`, from
 * `services.<svc>.user`/`.group`) when they go to a user manager that does not run as root: such
 * a manager cannot change credentials, so systemd fails the unit with status 216/GROUP before
 * the program runs. `uid` is the manager's user id — `systemctl --user` reaches the caller's own
 * manager, so the caller's uid. One paragraph per service, naming the option and its files.
 */
export function userSwitchWarnings(
  deployment: Pick<EvaluatedDeployment, "services" | "definitionFiles">,
  scope: SystemdScope,
  uid: number | undefined,
): string[] {
  if (scope !== "user" || uid === undefined || uid === 0) return [];
  const out: string[] = [];
  for (const [name, s] of Object.entries(deployment.services).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    const key = s.user !== null ? "user" : s.group !== null ? "group" : null;
    if (key === null) continue;
    const option = `services.${name}.${key}`;
    const files = definitionFilesOf(deployment, option);
    const where = files.length > 0 ? ` (defined in ${files.join(", ")})` : "";
    out.push(
      `Warning: \`${option}\`${where} makes the unit switch to ${key} \`${s[key]}\`, but the systemd user manager runs as uid ${uid}, not root, and cannot switch users: the unit will fail with status 216/GROUP before \`${name}\` runs. Leave \`user\` and \`group\` unset for the user manager, or run the deployment with the system manager as root (\`--system\`).`,
    );
  }
  return out;
}
