/** The text of a generated `nix2dream.config.ts`. */
import { commentLines, printValue, TsCode, TsObject } from "./emit.js";
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
  const deployment = new TsObject()
    .set("name", parts.name)
    .set("use", new TsCode(t.use))
    .set("services", parts.services);
  deployment.trailing.push(...parts.notes.trailing);
  const nodeImports = ctx.usesFileUrl ? ['import { fileURLToPath } from "node:url";'] : [];
  const nix2dream = `import { defineDeployment${ctx.usesRef ? ", ref" : ""} } from "nix2dream";`;
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
    `export default defineDeployment(${printValue(deployment, 0)});`,
    "",
  ].join("\n");
  return { source, diagnostics: ctx.diagnostics, packages: ["nix2dream", ...t.packages] };
}
