import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { colorFor } from "../src/lines.js";
import { nodeScript, planOf, supervise } from "./helpers.js";

const print = (text: string) => nodeScript(`process.stdout.write(${JSON.stringify(text)})`);

describe("log multiplexing", () => {
  it("prefixes each line with the process name, padded to the longest name", async () => {
    const plan = planOf([
      { name: "api", command: print("one\ntwo\n") },
      { name: "a-much-longer-name", command: nodeScript("console.error('to stderr')") },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    await sup.wait();
    const lines = out.lines();
    expect(lines).toContain("api                | one");
    expect(lines).toContain("api                | two");
    expect(lines).toContain("a-much-longer-name | to stderr");
  });

  it("colours each name with a stable colour only when colour is enabled", async () => {
    const plan = planOf([{ name: "api", command: print("hi\n") }]);
    const plain = supervise(plan);
    await plain.sup.start();
    await plain.sup.wait();
    expect(plain.out.text()).not.toContain("\x1b[");

    const coloured = supervise(plan, { color: true });
    await coloured.sup.start();
    await coloured.sup.wait();
    const code = colorFor("api");
    expect(coloured.out.text()).toContain(`\x1b[${code}mapi       | \x1b[0mhi\n`);
    expect(colorFor("api")).toBe(code);
    expect(colorFor("worker")).not.toBe(colorFor("api"));
  });

  it("prefixes each line with the time when timestamps are on", async () => {
    const plan = planOf([{ name: "api", command: print("hi\n") }]);
    const { sup, out } = supervise(plan, { timestamps: true });
    await sup.start();
    await sup.wait();
    expect(out.lines()).toContainEqual(
      expect.stringMatching(/^\d\d:\d\d:\d\d\.\d\d\d api {7}\| hi$/),
    );
  });

  it("writes each process's output, unprefixed, to its own log file under the state dir", async () => {
    const plan = planOf([
      { name: "api", command: print("from api\n") },
      { name: "worker", command: print("from worker\n") },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    await sup.wait();
    expect(readFileSync(sup.logFile("api"), "utf8")).toBe("from api\n");
    expect(readFileSync(path.join(sup.stateDir, "logs", "worker.log"), "utf8")).toBe(
      "from worker\n",
    );
  });

  it("flushes a partial last line when the process exits", async () => {
    const plan = planOf([{ name: "api", command: print("complete\nno newline at the end") }]);
    const { sup, out } = supervise(plan);
    await sup.start();
    await sup.wait();
    expect(out.lines()).toContain("api       | no newline at the end");
    expect(readFileSync(sup.logFile("api"), "utf8")).toBe("complete\nno newline at the end\n");
  });

  it("keeps a 1 MiB line intact", async () => {
    const plan = planOf([
      {
        name: "big",
        command: nodeScript("process.stdout.write('x'.repeat(1024 * 1024) + '\\nafter\\n')"),
      },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    await sup.wait();
    const lines = out.lines().filter((l) => l.startsWith("big "));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`big       | ${"x".repeat(1024 * 1024)}`);
    expect(lines[1]).toBe("big       | after");
  });

  it("passes non-UTF-8 bytes through unchanged", async () => {
    const bytes = [0xff, 0xfe, 0x80, 0xc3, 0x28, 0x41];
    const plan = planOf([
      {
        name: "bin",
        command: nodeScript(`process.stdout.write(Buffer.from([${bytes.join(",")}, 10]))`),
      },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    await sup.wait();
    const expected = Buffer.concat([
      Buffer.from("bin       | "),
      Buffer.from(bytes),
      Buffer.from("\n"),
    ]);
    expect(out.buffer().includes(expected)).toBe(true);
    expect(readFileSync(sup.logFile("bin")).equals(Buffer.from([...bytes, 10]))).toBe(true);
  });

  it("loses, splits and interleaves no line from 4 processes writing at once", async () => {
    const count = 20_000;
    // Lines of varying length, written in chunks that cut lines anywhere.
    const writer = (id: string) =>
      nodeScript(`
        let s = "";
        for (let i = 0; i < ${count}; i++) s += "${id}:" + i + ":" + "y".repeat(i % 300) + "\\n";
        const b = Buffer.from(s);
        let off = 0;
        const step = () => { while (off < b.length) { const n = 1 + ((off * 7919) % 5000); const ok = process.stdout.write(b.subarray(off, off + n)); off += n; if (!ok) return process.stdout.once("drain", step); } };
        step();
      `);
    const ids = ["w1", "w2", "w3", "w4"];
    const plan = planOf(ids.map((id) => ({ name: id, command: writer(id) })));
    const { sup, out } = supervise(plan);
    await sup.start();
    await sup.wait();
    // One pass with plain comparisons (80,000 lines; an expect per line is slow on a loaded
    // machine), then one assertion naming the first bad line, if any.
    const next = new Map(ids.map((id) => [id, 0]));
    let bad: string | null = null;
    for (const line of out.lines()) {
      if (line.startsWith("nix2dream")) continue;
      const m = /^(w\d) {8}\| (w\d):(\d+):(y*)$/.exec(line);
      const [, prefix, id, i, ys] = m ?? [];
      const n = Number(i);
      if (!m || id !== prefix || n !== next.get(id as string) || ys?.length !== n % 300) {
        bad = `${line.slice(0, 80)} (expected ${id}:${next.get(id as string)})`;
        break;
      }
      next.set(id as string, n + 1);
    }
    expect(bad).toBeNull();
    for (const id of ids) expect(next.get(id)).toBe(count);
  }, 120_000);

  it("emits a line longer than the line limit as it is, with a newline, instead of holding it", async () => {
    const plan = planOf([
      {
        name: "long",
        command: nodeScript("process.stdout.write('z'.repeat(2500)); setTimeout(() => {}, 200)"),
      },
    ]);
    const { sup } = supervise(plan, { maxLineBytes: 1000 });
    await sup.start();
    await sup.wait();
    const file = readFileSync(sup.logFile("long"), "utf8");
    expect(file.replaceAll("\n", "")).toBe("z".repeat(2500));
    expect(file.split("\n").every((piece) => piece.length <= 2500)).toBe(true);
    expect(file.endsWith("\n")).toBe(true);
  });
});
