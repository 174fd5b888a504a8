import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { type ActionResult, type ManagerContext, UserError } from "@nix2dream/core";
import { afterEach, describe, expect, it } from "vitest";
import nixosVmManager, { flakesEnabled, type NixosVmManagerOptions } from "../src/index.js";
import { context, fakeNix, type Run, read, renderShop, tempDir, waitUntil } from "./helpers.js";

type Dirs = ReturnType<typeof renderShop>;

/** VMs started by a test, stopped afterwards whatever happened. */
const started: Array<{ dirs: Dirs; env: NodeJS.ProcessEnv }> = [];
afterEach(async () => {
  for (const s of started.splice(0)) {
    await act({ env: s.env, stopTimeout: 5 }, "down", context(s.dirs).ctx);
  }
});

function act(
  opts: NixosVmManagerOptions,
  name: string,
  ctx: ManagerContext,
): Promise<ActionResult> {
  const action = nixosVmManager(opts).actions[name];
  if (!action) throw new Error(`no action ${name}`);
  return action(ctx);
}

/** Runs `up` with fakes; registers the VM for cleanup. */
async function up(
  dirs: Dirs,
  env: NodeJS.ProcessEnv,
  flags: ManagerContext["flags"] = {},
  opts: NixosVmManagerOptions = {},
): Promise<Run & { result: ActionResult }> {
  const run = context(dirs, [], flags);
  const result = await act({ env, startupGrace: 300, ...opts }, "up", run.ctx);
  if (result.exitCode === 0) started.push({ dirs, env });
  return { ...run, result };
}

/** Runs `up` with fakes where it must fail: the user error it threw, and what it printed. */
async function failingUp(
  dirs: Dirs,
  env: NodeJS.ProcessEnv,
  flags: ManagerContext["flags"] = {},
  opts: NixosVmManagerOptions = {},
): Promise<Run & { error: UserError }> {
  const run = context(dirs, [], flags);
  const thrown = await act({ env, startupGrace: 300, ...opts }, "up", run.ctx).then(
    (r) => new Error(`up did not fail: exit code ${r.exitCode}`),
    (e: unknown) => e,
  );
  if (!UserError.is(thrown)) throw thrown;
  expect(thrown.source).toBe("manager nixos-vm");
  return { ...run, error: thrown };
}

const consoleOf = (dirs: Dirs) => path.join(dirs.stateDir, "console.log");

describe("the nixos-vm manager", () => {
  it("is named nixos-vm, acts on the nixos-vm render and has the VM actions", () => {
    const m = nixosVmManager();
    expect(m.name).toBe("nixos-vm");
    expect(m.renderer).toBe("nixos-vm");
    expect(Object.keys(m.actions).sort()).toEqual([
      "console",
      "down",
      "logs",
      "ps",
      "restart",
      "ssh",
      "status",
      "stop",
      "up",
    ]);
  });

  it("builds default.nix with nix-build when flakes are off (real nix-instantiate) and starts the VM in the background", {
    tags: ["nix"],
  }, async () => {
    const dirs = renderShop();
    const nix = fakeNix();
    const { result, out } = await up(dirs, nix.env);
    expect(result.exitCode).toBe(0);
    expect(nix.argv()).toEqual([
      `nix-build ${dirs.artifactsDir}/default.nix -A shop-vm -o ${dirs.stateDir}/result`,
    ]);
    await waitUntil(() => read(consoleOf(dirs)).includes("login prompt"), "the fake VM's prompt");
    expect(read(consoleOf(dirs))).toContain(
      `disk=${dirs.stateDir}/shop.qcow2; cwd=${dirs.stateDir}`,
    );
    expect(out.text()).toContain("web (http) → 127.0.0.1:18080 (port 8080 in the VM)");
    expect(out.text()).toContain("ssh -p 2222");
    expect(readFileSync(path.join(dirs.stateDir, "build.log"), "utf8")).toContain(
      "building shop-vm (fake)",
    );
  });

  it("builds the flake's system.build.vm with nix build when flakes are enabled", async () => {
    const dirs = renderShop();
    const nix = fakeNix({ fakeInstantiate: true, flakes: true });
    const { result } = await up(dirs, nix.env);
    expect(result.exitCode).toBe(0);
    expect(nix.argv()[1]).toBe(
      `nix build --out-link ${dirs.stateDir}/result path:${dirs.artifactsDir}#nixosConfigurations.shop.config.system.build.vm`,
    );
  });

  it("builds default.nix with --no-flake even when flakes are enabled", async () => {
    const dirs = renderShop();
    const nix = fakeNix({ fakeInstantiate: true, flakes: true });
    const { result } = await up(dirs, nix.env, { "no-flake": true });
    expect(result.exitCode).toBe(0);
    expect(nix.argv()).toEqual([
      `nix-build ${dirs.artifactsDir}/default.nix -A shop-vm -o ${dirs.stateDir}/result`,
    ]);
  });

  it("refuses to start a second VM of the same deployment", { tags: ["nix"] }, async () => {
    const dirs = renderShop();
    const nix = fakeNix();
    expect((await up(dirs, nix.env)).result.exitCode).toBe(0);
    const second = await failingUp(dirs, nix.env);
    expect(second.error.message).toMatch(
      /already running \(pid \d+\); stop it with `nix2dream down`/,
    );
  });

  it("reports a failed build and keeps its output in build.log", { tags: ["nix"] }, async () => {
    const dirs = renderShop();
    const nix = fakeNix();
    const { error, err } = await failingUp(dirs, { ...nix.env, FAKE_NIX_FAIL: "1" });
    expect(err.text()).toContain("error: builder for 'shop-vm' failed (fake)");
    expect(error.message).toContain(
      `Building the VM failed (exit 1); the build output is above and in ${dirs.stateDir}/build.log.`,
    );
    expect(existsSync(path.join(dirs.stateDir, "vm.json"))).toBe(false);
  });

  it("reports a VM that exits at once, pointing at its console log", {
    tags: ["nix"],
  }, async () => {
    const dirs = renderShop();
    const nix = fakeNix();
    const { error } = await failingUp(
      dirs,
      { ...nix.env, FAKE_VM_FAIL: "1" },
      {},
      {
        startupGrace: 20_000,
      },
    );
    expect(error.message).toContain(
      `The VM exited at once (exit 3); see its console log ${consoleOf(dirs)}.`,
    );
    expect(read(consoleOf(dirs))).toContain("qemu: cannot open the disk (fake)");
  });

  it("maps Nix's 'flakes disabled' error of a flake build to the clear message", async () => {
    const dirs = renderShop();
    const nix = fakeNix({ fakeInstantiate: true, flakes: true });
    const { error } = await failingUp(dirs, { ...nix.env, FAKE_NIX_NO_FLAKES: "1" });
    expect(error.code).toBe("FLAKES_DISABLED");
    expect(error.message).toContain("Flakes are disabled in this Nix.");
  });

  it("says to render first when there is no VM render", async () => {
    const dirs = { ...renderShop(), artifactsDir: tempDir() };
    const { error, err } = await failingUp(dirs, fakeNix().env);
    expect(error.message).toContain("Render it first: `nix2dream render nixos-vm`.");
    expect(err.text()).toBe("");
  });
});

describe("status, logs, ssh and console", () => {
  it("reports a stopped VM, then a running one with its ports and the ssh command", {
    tags: ["nix"],
  }, async () => {
    const dirs = renderShop();
    const nix = fakeNix();
    const before = context(dirs);
    expect(await act({}, "status", before.ctx)).toEqual({ exitCode: 0, data: { running: false } });
    expect(before.out.text()).toContain("is not running");
    await up(dirs, nix.env);
    const after = context(dirs);
    const r = await act({}, "ps", after.ctx);
    expect(r.data).toMatchObject({ running: true, console: consoleOf(dirs) });
    expect(after.out.text()).toMatch(/The VM `shop` is running \(pid \d+, since /);
    expect(after.out.text()).toContain("127.0.0.1:18080");
  });

  it("prints the console log and follows it until aborted", { tags: ["nix"] }, async () => {
    const dirs = renderShop();
    const nix = fakeNix();
    await up(dirs, nix.env);
    await waitUntil(() => read(consoleOf(dirs)).includes("login prompt"), "the fake VM's prompt");
    const tail = context(dirs, [], { tail: "1" });
    await act({}, "logs", tail.ctx);
    expect(tail.out.text()).toBe("fake VM: login prompt\n");

    const follow = context(dirs, [], { follow: true, tail: "all" });
    const done = act({}, "logs", follow.ctx);
    await waitUntil(() => follow.out.text().includes("login prompt"), "the log so far");
    await act({ stopTimeout: 10 }, "down", context(dirs).ctx);
    await waitUntil(() => follow.out.text().includes("SIGTERM, powering off"), "the followed line");
    follow.abort();
    expect((await done).exitCode).toBe(0);
  });

  it("rejects a --tail that is not a number", { tags: ["nix"] }, async () => {
    const dirs = renderShop();
    await up(dirs, fakeNix().env);
    const run = context(dirs, [], { tail: "lots" });
    await expect(act({}, "logs", run.ctx)).rejects.toThrow(
      "`--tail` takes a number of lines or `all`",
    );
  });

  it("refuses restart and stop of a service, saying to use the VM's systemctl", async () => {
    for (const action of ["restart", "stop"]) {
      const run = context(renderShop(), ["api"]);
      const thrown = await act({}, action, run.ctx).catch((e: unknown) => e);
      expect(UserError.is(thrown), action).toBe(true);
      expect(thrown, action).toMatchObject({
        code: "UNSUPPORTED",
        source: "manager nixos-vm",
        hint: `Run \`nix2dream ssh\`, then \`sudo systemctl ${action} shop-api.service\` inside the VM; \`nix2dream down\` stops the whole VM.`,
      });
    }
  });

  it("prints the ssh command, or says ssh is off", async () => {
    const on = context(renderShop());
    await act({}, "ssh", on.ctx);
    expect(on.out.text()).toContain(
      "ssh -p 2222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null tester@127.0.0.1",
    );
    const off = context(renderShop({ "nixos-vm": { sshPort: null } }));
    await act({}, "ssh", off.ctx);
    expect(off.out.text()).toContain("ssh is off");
  });

  it("says where the console is and how to get an interactive one", async () => {
    const dirs = renderShop();
    const run = context(dirs);
    await act({}, "console", run.ctx);
    expect(run.out.text()).toContain(`${dirs.stateDir}/console.log`);
    expect(run.out.text()).toContain(`nix run ${dirs.artifactsDir}#shop-vm`);
  });
});

describe("down", () => {
  it("stops the VM's whole process group with SIGTERM and forgets it", {
    tags: ["nix"],
  }, async () => {
    const dirs = renderShop();
    await up(dirs, fakeNix().env);
    const pid = (JSON.parse(read(path.join(dirs.stateDir, "vm.json"))) as { pid: number }).pid;
    const run = context(dirs);
    expect((await act({ stopTimeout: 20 }, "down", run.ctx)).exitCode).toBe(0);
    expect(run.out.text()).toBe(`Stopped the VM (pid ${pid}).\n`);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(read(consoleOf(dirs))).toContain("fake VM: SIGTERM, powering off");
    expect(existsSync(path.join(dirs.stateDir, "vm.json"))).toBe(false);
    expect(existsSync(path.join(dirs.stateDir, "shop.qcow2"))).toBe(true);
  });

  it("kills a VM that ignores SIGTERM once the timeout has passed", { tags: ["nix"] }, async () => {
    const dirs = renderShop();
    const env = { ...fakeNix().env, FAKE_VM_IGNORE_TERM: "1" };
    await up(dirs, env);
    await waitUntil(() => read(consoleOf(dirs)).includes("login prompt"), "the fake VM's prompt");
    const run = context(dirs);
    await act({ stopTimeout: 1 }, "down", run.ctx);
    expect(run.out.text()).toMatch(/Stopped the VM \(pid \d+\) with SIGKILL after the timeout\./);
  });

  it("removes the VM's disk with --volumes", { tags: ["nix"] }, async () => {
    const dirs = renderShop();
    await up(dirs, fakeNix().env);
    await waitUntil(() => existsSync(path.join(dirs.stateDir, "shop.qcow2")), "the disk");
    const run = context(dirs, [], { volumes: true });
    await act({ stopTimeout: 20 }, "down", run.ctx);
    expect(existsSync(path.join(dirs.stateDir, "shop.qcow2"))).toBe(false);
    expect(run.out.text()).toContain("Removed the VM's disk");
  });

  it("says so when no VM is running", async () => {
    const run = context(renderShop());
    expect((await act({}, "down", run.ctx)).exitCode).toBe(0);
    expect(run.out.text()).toBe("No VM is running for `shop`.\n");
  });
});

describe("Nix itself (real, no fakes)", () => {
  const noNix = { PATH: tempDir("n2d-empty-path-"), HOME: process.env.HOME };

  it("says Nix is not installed, and how to install it, when nix-instantiate is missing", async () => {
    const { error, err } = await failingUp(renderShop(), noNix);
    expect(error.code).toBe("NIX_MISSING");
    expect(error.message).toBe(
      "Nix is not installed (`nix-instantiate` is not on PATH). Install it (Debian: `apt-get install nix-bin`; elsewhere https://nixos.org/download), then run `nix2dream up` again.",
    );
    expect(err.text()).toBe("");
  });

  it("says Nix is not installed when nix-build is missing for a build without flakes", async () => {
    const { error } = await failingUp(renderShop(), noNix, { "no-flake": true });
    expect(error.message).toContain("Nix is not installed (`nix-build` is not on PATH).");
  });

  it("evaluates the real default.nix with the real nix-build and explains a missing <nixpkgs>", {
    tags: ["nix"],
  }, async () => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NIX_PATH: "",
      NIX_CONFIG: "experimental-features = nix-command",
    };
    const dirs = renderShop();
    const { error, err } = await failingUp(dirs, env);
    expect(err.text() + error.message).toContain(
      "file 'nixpkgs' was not found in the Nix search path",
    );
    expect(error.message).toContain(
      "This Nix has no `<nixpkgs>`: pin one with `renderers.nixos-vm.nixpkgsRev`",
    );
  });

  it("tells whether flakes are enabled by asking the real nix-instantiate", {
    tags: ["nix"],
  }, async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    expect(await flakesEnabled({ ...env, NIX_CONFIG: "experimental-features = nix-command" })).toBe(
      false,
    );
    expect(
      await flakesEnabled({ ...env, NIX_CONFIG: "experimental-features = nix-command flakes" }),
    ).toBe(true);
  });

  it("says flakes are disabled, and what to do, when --flake is asked of a Nix without them", {
    tags: ["nix"],
  }, async () => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NIX_CONFIG: "experimental-features = nix-command",
    };
    const { error, err } = await failingUp(renderShop(), env, { flake: true });
    expect(error.message).toBe(
      "Flakes are disabled in this Nix. Enable them with `experimental-features = nix-command flakes` in /etc/nix/nix.conf (or ~/.config/nix/nix.conf), or build default.nix without flakes: `nix2dream up --no-flake`.",
    );
    expect(err.text()).toBe("");
  });
});
