/**
 * The `ps` table of the local manager (also exported for programs that show a status).
 */
import { textTable } from "@nix2dream/core";
import type { ProcessStatus } from "./supervisor.js";

function formatUptime(s: number | null): string {
  if (s === null) return "-";
  if (s < 60) return `${Math.floor(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${Math.floor(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** The `ps` table: one row per process. */
export function psTable(rows: ProcessStatus[]): string {
  const header = ["NAME", "STATE", "HEALTH", "PID", "RESTARTS", "UPTIME", "PORTS", "REASON"];
  const cells = rows.map((r) => [
    r.name,
    r.state,
    r.health === "none" ? "-" : r.health,
    r.pid === null ? "-" : String(r.pid),
    String(r.restarts),
    formatUptime(r.uptime),
    Object.values(r.ports).join(",") || "-",
    r.reason ?? "",
  ]);
  return textTable([header, ...cells]);
}
