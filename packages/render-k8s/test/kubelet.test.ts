/**
 * What kubelet does to a container's command, args and env values before the program sees
 * them — `$(VAR)` expanded from the container's env, `$$` turned into `$` — applied to the
 * rendered pods (no kubelet runs here), to check every value arrives exactly as written.
 * The expansion follows the rules the Kubernetes API documents for `command`, `args` and
 * `env[].value`: `$$` is an escaped `$`; `$(NAME)` is replaced when NAME is a variable defined
 * earlier, kept as written otherwise; any other `$` is kept.
 */
import { evaluateDeployment, ref } from "@nix2dream/core";
import { HOSTILE } from "@nix2dream/testkit";
import { describe, expect, it } from "vitest";
import k8s, { kubeletLiteral, renderObjects } from "../src/index.js";
import { asKubeletRuns, type Ctr, kubeletExpand } from "./kubelet.js";

// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell ${A}, not a template
const SCRIPT = "kill -TERM $$; echo $(A) ${A}";
const DOLLARS = ["$$", "kill -TERM $$", "$(HOME)", "$(A)", "$$(A)", "$", "a$", "$(", "$(x"];

describe("values through kubelet's $(VAR) expansion", () => {
  const { deployment } = evaluateDeployment(
    {
      name: "shop",
      use: [k8s()],
      services: {
        api: {
          command: ["/bin/sh", "-c", SCRIPT],
          args: [...HOSTILE, ...DOLLARS],
          env: { A: "value of A", B: "$(A) and $$", C: HOSTILE.join("|") },
          ports: { http: 8080 },
          volumes: { data: { path: "/data", init: "echo $$ > pid; echo $(A)" } },
        },
        worker: {
          command: ["/bin/worker", `${ref.api?.address.http}`],
          dependsOn: { api: "started" },
        },
      },
    },
    { file: "nix2dream.config.ts" },
  );
  const objects = renderObjects(deployment).objects as Array<{
    kind: string;
    metadata: { name: string };
    spec?: { template?: { spec: { containers: Ctr[]; initContainers?: Ctr[] } } };
  }>;
  const pod = (name: string) => {
    const o = objects.find((x) => x.metadata.name === name && x.spec?.template);
    if (!o?.spec?.template) throw new Error(`no workload ${name}`);
    return o.spec.template.spec;
  };

  it("gives the program its command and args exactly as written", () => {
    const api = pod("api").containers[0] as Ctr;
    expect(asKubeletRuns(api).argv).toEqual(["/bin/sh", "-c", SCRIPT, ...HOSTILE, ...DOLLARS]);
  });

  it("gives the program its env values exactly as written, $(A) included", () => {
    const { env } = asKubeletRuns(pod("api").containers[0] as Ctr);
    expect(env).toMatchObject({ A: "value of A", B: "$(A) and $$", C: HOSTILE.join("|") });
  });

  it("gives init containers their scripts exactly as written", () => {
    const inits = (pod("api").initContainers ?? []).map((c) => asKubeletRuns(c).argv);
    const volumeInit = inits.find((argv) => argv.includes("echo $$ > pid; echo $(A)"));
    expect(volumeInit, JSON.stringify(inits)).toBeDefined();
    expect(volumeInit?.[2]).toContain('"$(ls -A .)"');
  });

  it("doubles every $ and nothing else", () => {
    expect(kubeletLiteral("a$b$$c$(d)")).toBe("a$$b$$$$c$$(d)");
    for (const s of [...HOSTILE, ...DOLLARS]) {
      expect(kubeletExpand(kubeletLiteral(s), new Map([["A", "x"]]))).toBe(s);
    }
  });
});

describe("a service's references to itself", () => {
  it("resolve to localhost inside its own pod (its Service routes only to ready pods)", () => {
    const { deployment } = evaluateDeployment(
      {
        name: "shop",
        use: [k8s()],
        services: {
          db: {
            command: ["postgres"],
            ports: { pg: 5432 },
            healthcheck: {
              command: ["pg_isready", "-h", ref.db?.host ?? "", "-p", ref.db?.ports.pg ?? ""],
            },
            env: { SELF: `${ref.db?.address.pg}` },
          },
          api: { command: ["api"], env: { DB: `${ref.db?.address.pg}` } },
        },
      },
      { file: "nix2dream.config.ts" },
    );
    const objects = renderObjects(deployment).objects as Array<{
      kind: string;
      metadata: { name: string };
      spec?: {
        template?: {
          spec: { containers: Array<Ctr & { readinessProbe?: { exec?: { command: string[] } } }> };
        };
      };
    }>;
    const container = (name: string) =>
      objects.find((o) => o.metadata.name === name && o.spec?.template)?.spec?.template?.spec
        .containers[0];
    const db = container("db");
    expect(db?.readinessProbe?.exec?.command).toEqual([
      "pg_isready",
      "-h",
      "127.0.0.1",
      "-p",
      "5432",
    ]);
    expect(asKubeletRuns(db as Ctr).env.SELF).toBe("127.0.0.1:5432");
    // Other services still go through db's Service.
    expect(asKubeletRuns(container("api") as Ctr).env.DB).toMatch(
      /^db\.shop\.svc\.cluster\.local:5432$/,
    );
  });
});
