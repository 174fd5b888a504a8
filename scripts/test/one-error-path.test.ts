/**
 * One way to report a mistake (issue 14): every diagnostic is made with core's `diagnostic()`,
 * which finds the files that defined the option, and no manager prints its own errors (they
 * throw `UserError`s, which the CLI prints as `error: manager X: …`). Checked by reading the
 * sources, so a new hand-built diagnostic or catch-and-print wrapper fails here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Every `.ts` file under `packages/<pkg>/src`, as [path relative to the root, text]. */
function sources(filter: (pkg: string) => boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const pkg of readdirSync(join(ROOT, "packages")).filter(filter)) {
    const src = join(ROOT, "packages", pkg, "src");
    for (const f of readdirSync(src, { recursive: true, encoding: "utf8" })) {
      if (!f.endsWith(".ts")) continue;
      out.push([relative(ROOT, join(src, f)), readFileSync(join(src, f), "utf8")]);
    }
  }
  return out;
}

/** Index of the innermost `{` or `(` still open at `at`, scanning back; -1 when none. */
function openerBefore(text: string, at: number): number {
  let depth = 0;
  for (let i = at - 1; i >= 0; i--) {
    const c = text[i];
    if (c === "}" || c === ")") depth++;
    else if (c === "{" || c === "(") {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/**
 * Lines of `text` with an object literal that has a `severity` property and is not the second
 * argument of `diagnostic(…)`: a Diagnostic built by hand. Type positions (`severity?:`,
 * `severity: Diagnostic["severity"]`) and call arguments (`report(severity, …)`) are not objects.
 */
function handBuiltDiagnostics(text: string): number[] {
  const lines: number[] = [];
  for (const m of text.matchAll(/\bseverity\b(\s*:\s*([^,\n}]*))?(?=\s*[,}\n:])/g)) {
    const value = m[2]?.trim() ?? "";
    if (/^Diagnostic\[|^"[a-z]+"\s*\|/.test(value)) continue; // a type
    if (/^\s*\?/.test(text.slice((m.index ?? 0) + "severity".length))) continue; // optional key in a type
    const open = openerBefore(text, m.index ?? 0);
    if (open < 0 || text[open] !== "{") continue;
    const before = text.slice(Math.max(0, open - 200), open);
    if (/\bdiagnostic\(\s*[^()]*(\([^()]*\))?[^()]*,\s*$/.test(before)) continue;
    if (/(interface\s+\w+[^{]*|type\s+\w+\s*=\s*|:\s*)$/.test(before)) continue; // a type literal
    lines.push(text.slice(0, m.index).split("\n").length);
  }
  return lines;
}

describe("every diagnostic", () => {
  it("the scan finds a hand-built one and accepts one made with diagnostic()", () => {
    const byHand = `const w = () =>\n  diagnostics.push({ severity: "warning", option: "x", message: "m" });\n`;
    const shorthand =
      "const severity = 'error';\ndiagnostics.push({ option, severity, message });\n";
    const helped = `diagnostics.push(\n  diagnostic(d, { severity: "error", option: "x", message: "m" }),\n);\n`;
    const typed = `type R = (severity: Diagnostic["severity"], o: string) => void;\nfunction f(d: { severity?: Diagnostic["severity"] }) {}\n`;
    expect(handBuiltDiagnostics(byHand)).toEqual([2]);
    expect(handBuiltDiagnostics(shorthand)).toEqual([2]);
    expect(handBuiltDiagnostics(helped)).toEqual([]);
    expect(handBuiltDiagnostics(typed)).toEqual([]);
  });

  const files = sources(() => true).filter(([f]) => f !== "packages/core/src/helpers.ts");
  it.each(files)("in %s is made with core's diagnostic()", (_file, text) => {
    expect(handBuiltDiagnostics(text)).toEqual([]);
  });
});

describe("every manager", () => {
  const files = sources((pkg) => pkg.startsWith("manage-"));
  it.each(files)(
    "in %s leaves printing its errors to the CLI (throws them, never writes a message to stderr)",
    (_file, text) => {
      expect(text).not.toMatch(/\b(ctx|io)\.stderr\.write\([^;]*\b(err|e|error)\b[^;]*\.message/);
      // The foreground supervisor runs after the CLI handed over: it prints in the CLI's form.
      expect(text).not.toMatch(
        /catch \(\w+\) \{[^}]*stderr\.write\((?!errorLines\()[^}]*return \{ exitCode: 1/,
      );
    },
  );
});
