/**
 * A service's `watch` paths under `watch: true` (`up --watch`): real file edits seen through
 * fs.watch restart that service, not the others; ignore globs and the debounce apply.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { globMatcher } from "../src/watch.js";
import { planOf, supervise, tempDir, waitForStatus } from "./helpers.js";

const sleeper = ["sh", "-c", "echo up; exec sleep 60"];

function watchedPlan(src: string, debounce = 0.2) {
  return planOf([
    { name: "api", command: sleeper, watch: { paths: [src], ignore: ["*.log", "tmp"], debounce } },
    { name: "db", command: sleeper },
  ]);
}

describe("watch paths", () => {
  it("restart the service when a file under them changes, and only that service", async () => {
    const src = tempDir();
    const { sup, out } = supervise(watchedPlan(src), { watch: true });
    await sup.start();
    const api = await waitForStatus(sup, "api", (s) => s.state === "running");
    const db = await waitForStatus(sup, "db", (s) => s.state === "running");
    mkdirSync(path.join(src, "lib"));
    writeFileSync(path.join(src, "lib", "handler.js"), "export {}\n");
    const again = await waitForStatus(
      sup,
      "api",
      (s) => s.state === "running" && s.pid !== api.pid,
    );
    expect(again.restarts).toBe(1);
    expect(out.text()).toMatch(/api: .*lib\/handler\.js changed/);
    expect(sup.status().find((s) => s.name === "db")?.pid).toBe(db.pid);
  });

  it("leave out changes that match an ignore glob", async () => {
    const src = tempDir();
    mkdirSync(path.join(src, "tmp"));
    const { sup, out } = supervise(watchedPlan(src, 1), { watch: true });
    await sup.start();
    const api = await waitForStatus(sup, "api", (s) => s.state === "running");
    writeFileSync(path.join(src, "debug.log"), "x\n");
    writeFileSync(path.join(src, "tmp", "cache.bin"), "x\n");
    writeFileSync(path.join(src, "main.js"), "x\n");
    await waitForStatus(sup, "api", (s) => s.state === "running" && s.pid !== api.pid);
    const changed = out.lines().filter((l) => / changed$/.test(l));
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatch(/main\.js changed$/);
    expect(changed[0]).not.toMatch(/debug\.log|cache\.bin/);
  });

  it("restart once for a burst of changes within the debounce time", async () => {
    const src = tempDir();
    const { sup, out } = supervise(watchedPlan(src, 2), { watch: true });
    await sup.start();
    const api = await waitForStatus(sup, "api", (s) => s.state === "running");
    for (let i = 0; i < 5; i++) writeFileSync(path.join(src, `f${i}.js`), `${i}\n`);
    const again = await waitForStatus(
      sup,
      "api",
      (s) => s.state === "running" && s.pid !== api.pid,
    );
    expect(again.restarts).toBe(1);
    expect(out.text()).toMatch(/api: .*f0\.js, .*f1\.js, .*f2\.js and 2 more changed/);
  });
});

describe("ignore globs", () => {
  it.each([
    ["*.log", "a.log", true],
    ["*.log", "deep/dir/a.log", true],
    ["*.log", "a.log.txt", false],
    ["node_modules", "node_modules/x/index.js", true],
    ["node_modules", "src/node_modules/x.js", true],
    ["build/**", "build/a/b.js", true],
    ["build/**", "src/build/a.js", false],
    ["**/*.tmp", "a/b/c.tmp", true],
    ["**/*.tmp", "c.tmp", true],
    ["src/*.js", "src/a.js", true],
    ["src/*.js", "src/a/b.js", false],
    ["a?.txt", "ab.txt", true],
    ["a?.txt", "a/.txt", false],
    ["(x)+[y]", "(x)+[y]", true],
  ])("`%s` against %s is %s", (glob, file, expected) => {
    expect(globMatcher(glob)(file)).toBe(expected);
  });
});
