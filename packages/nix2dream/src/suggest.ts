/** "Did you mean" suggestions. */

/** Edit distance between two strings (Levenshtein). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(
        up + 1,
        (prev[j - 1] as number) + 1,
        diag + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      diag = up;
    }
  }
  return prev[b.length] as number;
}

/** The candidate closest to `input`, when it is close enough to be a likely typo. */
export function closest(
  input: string,
  candidates: Iterable<string>,
  limit = Math.max(2, Math.floor(input.length / 3)),
): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(input.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance > 0 && bestDistance <= limit ? best : undefined;
}

const PLACEHOLDER = /^(<[^>]*>|\*)$/;

/**
 * The declared option closest to an undeclared `path`. Declared paths may hold placeholders
 * (`services.<name>.command`), which match any segment of `path`.
 */
export function closestOption(path: string, declared: Iterable<string>): string | undefined {
  const segments = path.split(".");
  const concrete = new Set<string>();
  for (const d of declared) {
    const ds = d.split(".");
    if (ds.length !== segments.length) continue;
    concrete.add(ds.map((s, i) => (PLACEHOLDER.test(s) ? (segments[i] as string) : s)).join("."));
  }
  const last = segments[segments.length - 1] ?? "";
  return closest(path, concrete, Math.max(2, Math.floor(last.length / 3)));
}
