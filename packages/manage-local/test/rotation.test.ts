import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { nodeScript, planOf, supervise } from "./helpers.js";

describe("log rotation", () => {
  it("rotates a process's log file by size at line boundaries, keeping `keep` old files", async () => {
    // 400 lines of 50 bytes (20 000 bytes), in small writes, through a 2 000-byte limit.
    const print = nodeScript(`
      let i = 0;
      const t = setInterval(() => {
        for (let k = 0; k < 20; k++, i++) console.log(("line " + i).padEnd(49, "."));
        if (i >= 400) clearInterval(t);
      }, 5);
    `);
    const { sup, dir } = supervise(planOf([{ name: "chatty", command: print }]), {
      logRotation: { maxBytes: 2000, keep: 2 },
    });
    await sup.start();
    await sup.wait();
    const file = path.join(dir, "state", "logs", "chatty.log");
    const files = [`${file}.2`, `${file}.1`, file];
    expect(existsSync(`${file}.3`)).toBe(false);
    const contents = files.map((f) => readFileSync(f, "utf8"));
    for (const c of contents.slice(0, 2)) {
      expect(c.length).toBeGreaterThanOrEqual(2000);
      expect(c.endsWith("\n")).toBe(true);
    }
    // Oldest to newest, the kept files hold consecutive whole lines ending with the last one.
    const lines = contents.join("").trimEnd().split("\n");
    const numbers = lines.map((l) => Number(/^line (\d+)\.+$/.exec(l)?.[1]));
    expect(numbers.at(-1)).toBe(399);
    expect(numbers).toEqual(numbers.map((_, k) => (numbers[0] ?? 0) + k));
    expect(numbers[0]).toBeGreaterThan(0);
  });
});
