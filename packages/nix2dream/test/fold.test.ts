import type { Diagnostic } from "@nix2dream/core";
import { describe, expect, it } from "vitest";
import { foldDiagnostics, foldWarnings, type Reported } from "../src/fold.js";
import { formatDiagnostic, formatFolded, styles } from "../src/output.js";

const plain = styles(false);
const same = (f: string) => f;

function reported(
  renderer: string,
  service: string,
  message: string,
  extra: Partial<Diagnostic> = {},
): Reported {
  const diagnostic: Diagnostic = {
    severity: "warning",
    option: `services.${service}.labels`,
    service,
    message,
    files: ["nix2dream.config.ts"],
    ...extra,
  };
  return { renderer, diagnostic, isError: diagnostic.severity === "error" };
}

/** The text the CLI prints for `list`, folded. */
function printed(list: Reported[]): string {
  return foldDiagnostics(list)
    .map((p) =>
      p.kind === "folded"
        ? formatFolded(p.folded, plain, same)
        : formatDiagnostic(
            p.reported.diagnostic,
            p.reported.renderer,
            p.reported.isError,
            plain,
            same,
          ),
    )
    .join("\n");
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `svc${i}`);

describe("folding diagnostics", () => {
  it("prints a diagnostic with no look-alike exactly as one line", () => {
    const one = reported("systemd", "api", "systemd units have no labels.");
    expect(printed([one])).toBe(
      "warning: services.api.labels: systemd units have no labels. (defined in nix2dream.config.ts) [systemd]",
    );
  });

  it("folds the same warning for many services into one paragraph naming the first few", () => {
    const list = names(1000).map((s) => reported("systemd", s, "systemd units have no labels."));
    expect(printed(list)).toBe(
      "warning: services.<name>.labels: systemd units have no labels. (defined in nix2dream.config.ts) [systemd]\n" +
        "  for 1000 services: svc0, svc1, svc2, svc3, svc4 and 995 more (--all-warnings lists each)",
    );
  });

  it("lists every service when there are only a few", () => {
    const list = names(3).map((s) => reported("procfile", s, "no labels."));
    expect(printed(list)).toContain("\n  for 3 services: svc0, svc1, svc2");
    expect(printed(list)).not.toContain("more");
  });

  it("folds messages that name their own service, showing <name> where the name stood", () => {
    const list = ["api", "web.v2", "db"].map((s) =>
      reported("k8s", s, `No image: the pod uses \`bench/${s}:latest\`; see ${s}.`),
    );
    expect(printed(list).split("\n")[0]).toBe(
      "warning: services.<name>.labels: No image: the pod uses `bench/<name>:latest`; see <name>. (defined in nix2dream.config.ts) [k8s]",
    );
  });

  it("does not treat a service name inside a longer word as the name", () => {
    // `api` is in `rapid` and `api-gateway`: only the whole word is the service's name, so
    // these messages differ and nothing folds.
    const list = [
      reported("k8s", "api", "api is rapid"),
      reported("k8s", "web", "api-gateway is rapid"),
    ];
    expect(foldDiagnostics(list).map((p) => p.kind)).toEqual(["single", "single"]);
  });

  it("merges the folds of several renderers over the same services", () => {
    const list = ["systemd", "nixos"].flatMap((r) =>
      names(4).map((s) => reported(r, s, "systemd units have no labels.")),
    );
    const paragraphs = foldDiagnostics(list);
    expect(paragraphs).toHaveLength(1);
    expect(printed(list).split("\n")[0]).toMatch(/\[systemd, nixos\]$/);
  });

  it("keeps the folds of renderers apart when their services differ", () => {
    const list = [
      ...names(4).map((s) => reported("systemd", s, "no labels.")),
      ...names(3).map((s) => reported("nixos", s, "no labels.")),
    ];
    expect(foldDiagnostics(list)).toHaveLength(2);
  });

  it("never folds an error with a warning, and labels a folded error as an error", () => {
    const list = [
      ...names(2).map((s) => reported("k8s", s, "bad.", { severity: "error" })),
      ...names(2).map((s) => reported("k8s", s, "bad.")),
    ];
    const text = printed(list);
    expect(text).toMatch(/^error: services\.<name>\.labels: bad\./);
    expect(text).toContain("\nwarning: services.<name>.labels: bad.");
  });

  it("keeps diagnostics that are not about one service as they are", () => {
    const list = [1, 2].map(() =>
      reported("k8s", "", "the namespace is long.", { option: "renderers.k8s.namespace" }),
    );
    for (const r of list) delete r.diagnostic.service;
    expect(foldDiagnostics(list).map((p) => p.kind)).toEqual(["single", "single"]);
  });

  it("names the files of every folded service, the first few of them", () => {
    const list = names(8).map((s) =>
      reported("oci", s, "no image.", { files: [`modules/${s}.ts`] }),
    );
    expect(printed(list)).toContain(
      "(defined in modules/svc0.ts, modules/svc1.ts, modules/svc2.ts, modules/svc3.ts, modules/svc4.ts and 3 more files)",
    );
  });

  it("keeps the order in which the first of each kind was reported", () => {
    const list = [
      reported("oci", "a", "first."),
      reported("oci", "a", "lonely.", { option: "services.a.ports" }),
      reported("oci", "b", "first."),
    ];
    expect(printed(list)).toBe(
      "warning: services.<name>.labels: first. (defined in nix2dream.config.ts) [oci]\n" +
        "  for 2 services: a, b\n" +
        "warning: services.a.ports: lonely. (defined in nix2dream.config.ts) [oci]",
    );
  });
});

describe("evaluation warnings", () => {
  const about = (name: string) => `The option \`services.${name}.x\` is deprecated.`;

  it("fold when they differ only in a service's name, names with dots included", () => {
    const names = ["api", "my.app", "web", "other"];
    const warnings = [about("api"), "A warning about no service.", about("my.app"), about("web")];
    expect(foldWarnings(warnings, names)).toEqual([
      {
        kind: "folded",
        parts: ["The option `services.", ".x` is deprecated."],
        services: ["api", "my.app", "web"],
      },
      { kind: "single", text: "A warning about no service." },
    ]);
  });

  it("stay as they are when no other service has the same one, or the name is not a service", () => {
    expect(foldWarnings([about("api"), about("ghost")], ["api", "web"])).toEqual([
      { kind: "single", text: about("api") },
      { kind: "single", text: about("ghost") },
    ]);
    // `api` inside `api2` is not the service `api`.
    const longer = ["`services.api2.x` is deprecated.", "`services.web.x` is deprecated."];
    expect(foldWarnings(longer, ["api", "web"]).map((w) => w.kind)).toEqual(["single", "single"]);
  });

  it("take a service's name out of option paths only: in prose a short name may be a word", () => {
    const prose = (name: string) => `\`services.${name}.x\` is set for a service.`;
    expect(foldWarnings([prose("a"), prose("b")], ["a", "b"])).toEqual([
      { kind: "folded", parts: ["`services.", ".x` is set for a service."], services: ["a", "b"] },
    ]);
  });
});
