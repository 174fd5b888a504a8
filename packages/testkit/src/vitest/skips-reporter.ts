/**
 * Vitest reporter of the monorepo (see vitest.config.ts): a skipped test is never counted as
 * passing. In a full run (`npm test`, CI: scripts/dev.mjs sets NIX2DREAM_TEST_NO_SKIPS) any
 * skipped or todo test fails the run, listed by name. In the fast run (`npm run test:fast`,
 * which sets NIX2DREAM_TEST_FAST to the tags it leaves out) the skips are expected and counted;
 * a run that picks tests by name or tag only says how many it skipped.
 */
import type { Reporter, TestModule } from "vitest/node";

export default class SkipsReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    const skipped: string[] = [];
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        if (t.result().state === "skipped") skipped.push(`${m.moduleId} > ${t.fullName}`);
      }
    }
    const fastTags = process.env.NIX2DREAM_TEST_FAST;
    if (fastTags) {
      console.log(
        `\nFast run: ${skipped.length} test(s) skipped that need ${fastTags.replaceAll(",", ", ")}; \`npm test\` runs them (after ./scripts/setup.sh).`,
      );
      return;
    }
    if (skipped.length === 0) return;
    if (!process.env.NIX2DREAM_TEST_NO_SKIPS) {
      console.log(`\n${skipped.length} test(s) skipped (not a full run).`);
      return;
    }
    console.error(`\n${skipped.length} test(s) were skipped; a full run skips none:`);
    for (const s of skipped.slice(0, 50)) console.error(`  ${s}`);
    process.exitCode = 1;
  }
}
