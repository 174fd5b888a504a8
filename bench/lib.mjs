// Shared by the benchmark scripts under bench/: each size runs in a fresh child process (so the
// peak RSS is that size's alone), then one Markdown table is printed.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";

/** Median of a list of numbers. */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** First, median and best of a list of run times (ms), as a child reports them. */
export function timings(times) {
  return { firstMs: times[0], medianMs: median(times), bestMs: Math.min(...times) };
}

/** Runs `script --child N` for each size; each child prints one JSON row. */
export function runChildren(script, sizes) {
  return sizes.map((n) =>
    JSON.parse(
      execFileSync(process.execPath, [script, "--child", String(n)], { encoding: "utf8" }),
    ),
  );
}

/** Prints a Markdown table: `head` is the header row, `lines` the rows (strings). */
export function printTable(head, lines) {
  const all = [head, ...lines];
  const widths = head.map((_, i) => Math.max(...all.map((l) => l[i].length)));
  const fmt = (l) => `| ${l.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(fmt(head));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const l of lines) console.log(fmt(l));
}

/** Prints how far from linear the growth of `key` (ms) is between the first and last row. */
export function printGrowth(rows, key) {
  if (rows.length < 2) return;
  const a = rows[0];
  const b = rows[rows.length - 1];
  const growth = b[key] / a[key] / (b.n / a.n);
  console.log(`\ngrowth from N=${a.n} to N=${b.n}: ${growth.toFixed(2)}× linear (1.00 = linear)`);
}

/** Prints the load average: the machine is shared, so numbers are read with it. */
export function printLoad() {
  console.log(
    `load average while running: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
}

/**
 * Writes `dir/usage-hook.mjs`, a module to load with `node --import` into a measured process: at
 * exit it writes the process's CPU time (user + system, ms) to `dir/usage.json`.
 */
export function writeCpuAtExitHook(dir) {
  const usageFile = join(dir, "usage.json");
  const hook = join(dir, "usage-hook.mjs");
  writeFileSync(
    hook,
    `import { writeFileSync } from "node:fs";
process.on("exit", () => {
  const r = process.resourceUsage();
  writeFileSync(${JSON.stringify(usageFile)}, String((r.userCPUTime + r.systemCPUTime) / 1000));
});
`,
  );
  return { hook, usageFile };
}
