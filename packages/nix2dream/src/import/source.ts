/** The text of a generated `nix2dream.config.ts`. */
import { commentLines, printValue, TsCode, TsObject, type TsValue } from "./emit.js";
import type { ImportContext, ImportDiagnostic } from "./model.js";

/** A generated config and what the import could not carry as it was. */
export interface ImportedConfig {
  /** The TypeScript source. */
  source: string;
  diagnostics: ImportDiagnostic[];
  /** npm packages the config imports (to install beside nix2dream). */
  packages: string[];
}

/** What {@link configSource} prints. */
export interface ConfigParts {
  kind: "compose" | "procfile";
  name: string;
  /** Input files, relative to the config. */
  from: string[];
  services: TsObject;
  /** Not carried at the top level of the input (commented blocks). */
  notes: TsObject;
  ctx: ImportContext;
  /** `const` declarations printed before the deployment (name → value). */
  consts?: TsObject;
}

const TARGETS = {
  compose: {
    imports: [
      'import compose from "@nix2dream/render-compose";',
      'import composeManager from "@nix2dream/manage-compose";',
    ],
    use: "[compose(), composeManager()]",
    packages: ["@nix2dream/render-compose", "@nix2dream/manage-compose"],
  },
  procfile: {
    imports: [
      'import procfile from "@nix2dream/render-procfile";',
      'import local from "@nix2dream/manage-local";',
    ],
    use: "[procfile(), local()]",
    packages: ["@nix2dream/render-procfile", "@nix2dream/manage-local"],
  },
};

/** The config's source: header, imports, and `defineDeployment({...})`. */
export function configSource(parts: ConfigParts): ImportedConfig {
  const t = TARGETS[parts.kind];
  const { ctx } = parts;
  const nUnsupported = ctx.diagnostics.filter((d) => d.kind === "unsupported").length;
  const nChanged = ctx.diagnostics.length - nUnsupported;
  const header = [
    `Imported by \`nix2dream import\` from ${parts.from.join(", ")}.`,
    nUnsupported + nChanged === 0
      ? "Everything in the input was carried over."
      : `${nUnsupported} ${nUnsupported === 1 ? "key was" : "keys were"} not carried (commented out below, with the reason) and ${nChanged} carried with a difference (see the notes).`,
    "`nix2dream check` validates this file; `nix2dream render` writes every target's files.",
  ];
  const { services, withRefs } = splitReferences(parts.services);
  const deployment = new TsObject()
    .set("name", parts.name)
    .set("use", new TsCode(t.use))
    .set("services", services);
  deployment.trailing.push(...parts.notes.trailing);
  const nodeImports = ctx.usesFileUrl ? ['import { fileURLToPath } from "node:url";'] : [];
  const nix2dream = 'import { defineDeployment } from "nix2dream";';
  const source = [
    ...commentLines(header, ""),
    ...nodeImports,
    ...t.imports,
    nix2dream,
    "",
    ...(parts.consts?.entries ?? []).flatMap((e) => [
      ...commentLines(e.comment, ""),
      `const ${e.key} = ${printValue(e.value, 0)};`,
      "",
    ]),
    ...deploymentCall(deployment, withRefs),
    "",
  ].join("\n");
  return { source, diagnostics: ctx.diagnostics, packages: ["nix2dream", ...t.packages] };
}

/**
 * `defineDeployment(...)`: with references, the typed form, whose callback gets a `ref` that
 * knows every service and its ports (so the config type-checks under `noUncheckedIndexedAccess`
 * and a misspelt name fails `tsc`); the service keys holding references are moved into it.
 */
function deploymentCall(deployment: TsObject, withRefs: TsObject): string[] {
  if (withRefs.size === 0)
    return [`export default defineDeployment(${printValue(deployment, 0)});`];
  return [
    "export default defineDeployment(",
    `  ${printValue(deployment, 1)},`,
    ...commentLines(
      ["The options that refer to other services, with typed references (merged into `services`)."],
      "  ",
    ),
    `  ({ ref }) => (${printValue(withRefs, 1)}),`,
    ");",
  ];
}

/** True when the value holds a reference (`ref.<service>...`) anywhere. */
function holdsRef(value: TsValue): boolean {
  if (value instanceof TsCode) return /\bref[.[]/.test(value.code);
  if (value instanceof TsObject) return value.entries.some((e) => holdsRef(e.value));
  return Array.isArray(value) && value.some(holdsRef);
}

/**
 * The services without the keys that hold references, and those keys by service (each with its
 * comments). A service keeps its place in `services` even when every key moved.
 */
function splitReferences(all: TsObject): { services: TsObject; withRefs: TsObject } {
  const services = new TsObject();
  const withRefs = new TsObject();
  for (const { key, value, comment } of all.entries) {
    if (!(value instanceof TsObject)) {
      services.set(key, value, comment);
      continue;
    }
    const plain = new TsObject();
    plain.trailing.push(...value.trailing);
    for (const e of value.entries) {
      (holdsRef(e.value) ? withRefs.child(key) : plain).set(e.key, e.value, e.comment);
    }
    services.set(key, plain, comment);
  }
  return { services, withRefs };
}
