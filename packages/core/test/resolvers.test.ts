import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { evaluateDeployment, localRefResolver, type Ref, ref, serviceRef } from "../src/index.js";
import { shellWord } from "../src/shell.js";

const { deployment } = evaluateDeployment({
  name: "shop",
  services: {
    db: {
      command: ["db"],
      ports: { pg: 5432 },
      volumes: { data: { path: "/var/lib/pg" } },
      files: { "/etc/db/conf d.ini": { text: "x" } },
    },
    api: { command: ["api"], env: { DB: serviceRef("db").addressOf("pg") } },
  },
});

/** What `sh` prints for one word, with the state directory set to `stateDir`. */
function shellValue(word: string, stateDir: string): string {
  const r = spawnSync("sh", ["-c", `printf '%s' ${word}`], {
    env: { ...process.env, NIX2DREAM_STATE_DIR: stateDir },
    encoding: "utf8",
  });
  expect(r.status).toBe(0);
  return r.stdout;
}

describe("localRefResolver", () => {
  it("resolves hosts to the loopback address and ports to the ports the services listen on", () => {
    const resolve = localRefResolver(deployment);
    expect(resolve({ service: "db", kind: "host" })).toBe("127.0.0.1");
    expect(resolve({ service: "db", kind: "port", port: "pg" })).toBe("5432");
    expect(resolve({ service: "db", kind: "address", port: "pg" })).toBe("127.0.0.1:5432");
  });

  it("puts volumes and files under the state directory, as sh sees it at run time", () => {
    const resolve = localRefResolver(deployment);
    const state = `/run/it's "$(echo pwned)" \`id\` $HOME *`;
    const volume = shellWord(ref.db?.volumes.data ?? "", resolve);
    const file = shellWord(ref.db?.files["/etc/db/conf d.ini"] ?? "", resolve);
    expect(shellValue(volume, state)).toBe(`${state}/db/volumes/data`);
    expect(shellValue(file, state)).toBe(`${state}/db/files/etc/db/conf d.ini`);
  });

  it("reports a reference to nothing, or to a service that does not run here, and resolves it to ''", () => {
    const reported: string[] = [];
    const resolve = localRefResolver(deployment, {
      runsHere: (service) => service !== "api",
      report: (_r: Ref, why) => reported.push(why),
    });
    expect(resolve({ service: "db", kind: "port", port: "nope" })).toBe("");
    expect(resolve({ service: "db", kind: "file", path: "/etc/none" })).toBe("");
    expect(resolve({ service: "api", kind: "host" })).toBe("");
    expect(resolve({ service: "ghost", kind: "host" })).toBe("");
    expect(reported).toEqual([
      "service `db` has no port `nope`",
      "service `db` has no file `/etc/none`",
      "service `api` is not in the rendered deployment",
      "service `ghost` is not in the rendered deployment",
    ]);
  });
});
