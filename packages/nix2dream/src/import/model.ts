/**
 * What an import produces before it is printed: the deployment as a {@link TsObject}, the
 * notes kept in it, and the diagnostics listed on stderr.
 */
import { stringify } from "yaml";
import type { TsObject } from "./emit.js";

/** Something an import could not carry as it was. */
export interface ImportDiagnostic {
  /** Where in the input: `services.web.networks`. */
  path: string;
  /** The input file. */
  file: string;
  /** `unsupported`: not carried (kept commented out); `changed`: carried with a difference. */
  kind: "unsupported" | "changed";
  message: string;
}

/** The state of one import: diagnostics and the comment blocks that go with them. */
export class ImportContext {
  readonly diagnostics: ImportDiagnostic[] = [];
  /** Whether `ref` is used in the generated code. */
  usesRef = false;
  /** Whether `fileURLToPath` is used in the generated code. */
  usesFileUrl = false;

  constructor(readonly file: string) {}

  /** A key that is not carried: a diagnostic, and the key commented out in `where` with the reason. */
  unsupported(where: TsObject, path: string, key: string, value: unknown, reason: string): void {
    this.diagnostics.push({ path, file: this.file, kind: "unsupported", message: reason });
    where.trailing.push([`Not carried — ${reason}`, ...yamlLines({ [key]: value })]);
  }

  /** A value carried with a difference: a diagnostic and a comment above `key` of `where`. */
  changed(where: TsObject | null, key: string, path: string, message: string): void {
    this.diagnostics.push({ path, file: this.file, kind: "changed", message });
    if (where) {
      const entry = where.entries.find((e) => e.key === key);
      if (entry) entry.comment.push(`Note: ${message}`);
      else where.trailing.push([key ? `Note (${key}): ${message}` : `Note: ${message}`]);
    }
  }
}

/** `value` as YAML lines, the way it looked in the input. */
export function yamlLines(value: unknown): string[] {
  return stringify(value, { lineWidth: 0 }).trimEnd().split("\n");
}
