import { describe, expect, it } from "vitest";
import { planOf, supervise } from "./helpers.js";

describe("children's output", () => {
  it("is a real pipe: a child can open /dev/stdout and /dev/stderr (as nginx's access_log does)", async () => {
    const plan = planOf([
      {
        name: "web",
        command: [
          "sh",
          "-c",
          "echo to-stdout > /dev/stdout && echo to-stderr > /dev/stderr && echo done",
        ],
      },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    const result = await sup.wait();
    expect(result.processes[0]?.exitCode).toBe(0);
    expect(out.lines()).toEqual(
      expect.arrayContaining([
        "web       | to-stdout",
        "web       | to-stderr",
        "web       | done",
      ]),
    );
  });
});
