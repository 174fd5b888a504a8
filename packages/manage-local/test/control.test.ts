import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { ManagerContext } from "@nix2dream/core";
import { describe, expect, it } from "vitest";
import { waitUntilSettled } from "../src/actions.js";
import { ConnectionLostError, socketPathFor, tailFile } from "../src/control.js";
import {
  AlreadyRunningError,
  type ControlLogLine,
  controlRequest,
  decodeLogLine,
  NotRunningError,
  type ProcessStatus,
  Supervisor,
} from "../src/programmatic.js";
import { NODE, nodeScript, planOf, supervise, tempDir, waitForStatus } from "./helpers.js";

const ticker = (name: string) =>
  nodeScript(
    `let i = 0; console.log("${name} line " + i++); setInterval(() => console.log("${name} line " + i++), 50);`,
  );

/** Runs a request from a separate node process, as another terminal would. */
function requestFromAnotherProcess(socketPath: string, request: object): Promise<string> {
  const code = `
    const s = require("net").connect(process.argv[1]);
    s.on("connect", () => s.write(process.argv[2] + "\\n"));
    s.pipe(process.stdout);`;
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, ["-e", code, socketPath, JSON.stringify(request)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`client exited ${code}`)),
    );
  });
}

describe("control socket", () => {
  it("answers ps from another process with state, pid, restarts, health and uptime", async () => {
    const plan = planOf([
      {
        name: "api",
        probe: {
          type: "exec",
          command: ["true"],
          interval: 0.05,
          timeout: 1,
          retries: 1,
          startPeriod: 0,
        },
      },
      { name: "worker" },
    ]);
    const { sup } = supervise(plan);
    await sup.start();
    await waitForStatus(sup, "api", (s) => s.health === "healthy");
    await waitForStatus(sup, "worker", (s) => s.state === "running");
    const answer = JSON.parse(await requestFromAnotherProcess(sup.socketPath, { cmd: "ps" }));
    expect(answer.ok).toBe(true);
    const rows = answer.data as ProcessStatus[];
    expect(rows.map((r) => r.name)).toEqual(["api", "worker"]);
    expect(rows[0]).toMatchObject({ state: "running", health: "healthy", restarts: 0 });
    expect(rows[0]?.pid).toBeGreaterThan(0);
    expect(rows[0]?.uptime).toBeGreaterThanOrEqual(0);
    expect(rows[1]).toMatchObject({ state: "running", health: "none" });
  });

  it("restarts a service on request: a new pid and one more restart", async () => {
    const plan = planOf([{ name: "api" }, { name: "other" }]);
    const { sup } = supervise(plan);
    await sup.start();
    const before = await waitForStatus(sup, "api", (s) => s.state === "running");
    const other = await waitForStatus(sup, "other", (s) => s.state === "running");
    const answer = await controlRequest(sup.stateDir, { cmd: "restart", name: "api" });
    expect(answer.ok).toBe(true);
    const after = sup.status().find((s) => s.name === "api");
    expect(after).toMatchObject({ state: "running", restarts: 1 });
    expect(after?.pid).not.toBe(before.pid);
    expect(sup.status().find((s) => s.name === "other")?.pid).toBe(other.pid);
  });

  it("restarts every replica when given a service name", async () => {
    const plan = planOf([{ name: "web" }, { name: "web.2", service: "web", replica: 2 }]);
    const { sup } = supervise(plan);
    await sup.start();
    await waitForStatus(sup, "web.2", (s) => s.state === "running");
    const answer = await controlRequest(sup.stateDir, { cmd: "restart", name: "web" });
    expect(answer.ok && (answer.data as ProcessStatus[]).map((s) => [s.name, s.restarts])).toEqual([
      ["web", 1],
      ["web.2", 1],
    ]);
  });

  it("stops one service on request and leaves the others running", async () => {
    const plan = planOf([{ name: "api" }, { name: "worker" }]);
    const { sup } = supervise(plan);
    await sup.start();
    await waitForStatus(sup, "worker", (s) => s.state === "running");
    const answer = await controlRequest(sup.stateDir, { cmd: "stop", name: "api" });
    expect(answer.ok).toBe(true);
    expect(sup.status().map((s) => s.state)).toEqual(["stopped", "running"]);
  });

  it("starts a stopped service again on `restart`", async () => {
    const plan = planOf([{ name: "api" }, { name: "other" }]);
    const { sup } = supervise(plan);
    await sup.start();
    await waitForStatus(sup, "api", (s) => s.state === "running");
    await controlRequest(sup.stateDir, { cmd: "stop", name: "api" });
    expect(sup.status()[0]?.state).toBe("stopped");
    await controlRequest(sup.stateDir, { cmd: "restart", name: "api" });
    const again = await waitForStatus(sup, "api", (s) => s.state === "running");
    expect(again.pid).toBeGreaterThan(0);
  });

  it("answers an unknown name with an error that lists the known processes", async () => {
    const plan = planOf([{ name: "api" }]);
    const { sup } = supervise(plan);
    await sup.start();
    const answer = await controlRequest(sup.stateDir, { cmd: "restart", name: "nope" });
    expect(answer).toEqual({
      ok: false,
      error: "There is no process or service `nope`; known processes: api.",
    });
  });

  it("sends the tail of a log and then follows new lines", async () => {
    const plan = planOf([
      { name: "a", command: ticker("a") },
      { name: "b", command: ticker("b") },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    await out.waitFor(/a +\| a line 3\n/);
    const got: string[] = [];
    const ac = new AbortController();
    const done = controlRequest(
      sup.stateDir,
      { cmd: "logs", names: ["a"], tail: 2, follow: true },
      (entry: ControlLogLine) => {
        got.push(`${entry.process}: ${decodeLogLine(entry).toString()}`);
        if (got.length >= 6) ac.abort();
      },
      ac.signal,
    );
    await done;
    expect(got.every((l) => l.startsWith("a: a line "))).toBe(true);
    const numbers = got.map((l) => Number(l.split(" ").pop()));
    // Two tail lines, then live ones: consecutive, none repeated, none skipped.
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBe((numbers[i - 1] ?? 0) + 1);
    expect(numbers[0]).toBeGreaterThanOrEqual(2);
  });

  it("sends logs without following and ends the answer", async () => {
    const plan = planOf([
      {
        name: "a",
        command: nodeScript("console.log('one'); console.log('two'); setInterval(() => {}, 1000)"),
      },
    ]);
    const { sup, out } = supervise(plan);
    await sup.start();
    await out.waitFor(/a +\| two/);
    const got: string[] = [];
    const answer = await controlRequest(sup.stateDir, { cmd: "logs", tail: null }, (e) =>
      got.push(decodeLogLine(e).toString()),
    );
    expect(answer.ok).toBe(true);
    expect(got).toEqual(["one", "two"]);
  });

  it("stops everything on `down` and ends the run", async () => {
    const plan = planOf([{ name: "a" }, { name: "b", dependsOn: { a: "started" } }]);
    const { sup } = supervise(plan);
    await sup.start();
    await waitForStatus(sup, "b", (s) => s.state === "running");
    const answer = await controlRequest(sup.stateDir, { cmd: "down" });
    expect(answer.ok).toBe(true);
    const result = await sup.wait();
    expect(result.processes.map((p) => p.state)).toEqual(["stopped", "stopped"]);
    await expect(controlRequest(sup.stateDir, { cmd: "ps" })).rejects.toBeInstanceOf(
      NotRunningError,
    );
  });

  it("refuses to start a second supervisor on the same state dir", async () => {
    const plan = planOf([{ name: "a" }]);
    const { sup, dir } = supervise(plan);
    await sup.start();
    const second = new Supervisor({
      plan,
      renderDir: dir,
      stateDir: sup.stateDir,
      output: process.stderr,
    });
    await expect(second.start()).rejects.toBeInstanceOf(AlreadyRunningError);
  });

  it("says no supervisor is running when nothing listens on the socket", async () => {
    const dir = tempDir();
    await expect(controlRequest(path.join(dir, "state"), { cmd: "ps" })).rejects.toThrow(
      /No `up` is running/,
    );
  });
});

describe("a supervisor that ends a connection without answering", () => {
  // A stand-in server on the control socket path. The race it reproduces (the supervisor exits
  // between accepting a request and answering it, as when every process has finished) cannot be
  // forced with a real supervisor; here the first two connections are dropped on purpose.
  async function droppingServer(stateDir: string, answer: object) {
    mkdirSync(stateDir, { recursive: true });
    let connections = 0;
    const server = net.createServer((socket) => {
      socket.once("data", () => {
        if (++connections <= 2) socket.destroy();
        else socket.end(`${JSON.stringify(answer)}\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPathFor(stateDir), resolve));
    return { server, connections: () => connections };
  }

  it("is a user error saying so, and `up --wait` asks again until it answers", async () => {
    const stateDir = path.join(tempDir(), "state");
    const row: Partial<ProcessStatus> = { name: "api", state: "running", health: "healthy" };
    const { server, connections } = await droppingServer(stateDir, { ok: true, data: [row] });
    try {
      const lost = controlRequest(stateDir, { cmd: "ps" });
      await expect(lost).rejects.toBeInstanceOf(ConnectionLostError);
      await expect(lost).rejects.toThrow(/ended the control connection without an answer/);
      let out = "";
      const ctx = {
        stateDir,
        stdout: { write: (s: string) => (out += s) },
        signal: new AbortController().signal,
      } as unknown as ManagerContext;
      const result = await waitUntilSettled(ctx, 5);
      expect(result.exitCode).toBe(0);
      expect(out).toBe("Every process is up (1).\n");
      expect(connections()).toBe(3);
    } finally {
      server.close();
    }
  });
});

describe("tailFile", () => {
  it("reads the last lines of a file larger than its read block", () => {
    const file = path.join(tempDir(), "big.log");
    const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i} ${"p".repeat(i % 50)}`);
    writeFileSync(file, `${lines.join("\n")}\n`);
    expect(tailFile(file, 3).map(String)).toEqual(lines.slice(-3));
    expect(tailFile(file, null)).toHaveLength(50_000);
    expect(tailFile(path.join(tempDir(), "missing.log"), 10)).toEqual([]);
  });
});
