// Shared by the benchmark scripts under bench/: each size runs in a fresh child process (so the
// peak RSS is that size's alone), then one Markdown table is printed.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

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

/** The seven built-in renderers, in the order the benchmarks put them in `use`. */
export const ALL_RENDERERS = ["procfile", "compose", "oci", "k8s", "systemd", "nixos", "nixos-vm"];

/**
 * The source of a `nix2dream.config.mjs` of `n` realistic services (bench/realistic.mjs) with
 * every built-in renderer in `use`, importing the built packages of the checkout at `root`.
 */
export function realisticConfigSource(root, n) {
  const url = (path) => JSON.stringify(pathToFileURL(join(root, path)).href);
  const dist = (pkg) => url(`packages/${pkg}/dist/index.js`);
  return [
    `import { ref } from ${dist("core")};`,
    `import { mkDefault, mkForce } from ${dist("modules")};`,
    `import { realisticDefinition } from ${url("bench/realistic.mjs")};`,
    ...ALL_RENDERERS.map((name, i) => `import r${i} from ${dist(`render-${name}`)};`),
    `export default realisticDefinition(${n}, { ref, mkDefault, mkForce }, [${ALL_RENDERERS.map((_, i) => `r${i}()`).join(", ")}]);`,
    "",
  ].join("\n");
}

// Loaded with --import into a measured process: its CPU time and peak RSS, written at exit.
const USAGE_HOOK = `import { writeFileSync } from "node:fs";
process.on("exit", () => {
  const r = process.resourceUsage();
  writeFileSync(process.env.BENCH_USAGE_FILE, JSON.stringify({ cpuMs: (r.userCPUTime + r.systemCPUTime) / 1000, maxRssMiB: r.maxRSS / 1024 }));
});
`;

/**
 * Runs `node argv…` once in `cwd` (which gets the hook's files); its wall time, CPU time (user +
 * system, ms) and peak RSS (MiB). Throws with its stderr when it fails.
 */
export function measureProcess(argv, cwd) {
  const usageFile = join(cwd, "usage.json");
  const hook = join(cwd, "usage-hook.mjs");
  writeFileSync(hook, USAGE_HOOK);
  const t = performance.now();
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(hook).href, ...argv], {
    cwd,
    encoding: "utf8",
    maxBuffer: 2 ** 30,
    env: { ...process.env, BENCH_USAGE_FILE: usageFile },
  });
  const wallMs = performance.now() - t;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed:\n${r.stderr}`);
  return { wallMs, ...JSON.parse(readFileSync(usageFile, "utf8")) };
}
