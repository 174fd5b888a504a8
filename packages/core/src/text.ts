import * as crypto from "node:crypto";

/**
 * A plain-text table for managers' `ps`-style output: each column padded to its widest cell,
 * columns separated by two spaces, no trailing whitespace. The first row is the header.
 * No trailing newline.
 */
export function textTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

// Node's one-shot `crypto.hash` (20.12+) makes no Hash object: at thousands of services the
// objects `createHash` makes cost more than the hashing. The digest is the same.
const oneShotHash = (
  crypto as { hash?: (algorithm: string, data: string, encoding: "hex") => string }
).hash;

/**
 * Lowercase hex SHA-256 of `text` (as UTF-8): for checksums a renderer writes, such as a pod
 * annotation that changes when its mounted files do.
 *
 * @example sha256Hex("") // "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
 */
export function sha256Hex(text: string): string {
  if (oneShotHash) return oneShotHash("sha256", text, "hex");
  return crypto.createHash("sha256").update(text).digest("hex");
}
