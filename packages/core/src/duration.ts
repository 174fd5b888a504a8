/**
 * Durations as users write them (`5`, `"5s"`, `"500ms"`, `"1m30s"`) and as the evaluated
 * deployment carries them (seconds, a number).
 */

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Matches a duration string: one or more `<number><unit>` parts, units `ms`, `s`, `m`, `h`. */
export const DURATION_RE: RegExp = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;

/** A duration as a user may write it: seconds, or a string such as `"5s"`, `"500ms"`, `"1m30s"`. */
export type Duration = number | string;

/**
 * Converts a duration to seconds. Numbers are seconds already; strings are `<number><unit>`
 * parts (`ms`, `s`, `m`, `h`) added together, so `"1m30s"` is 90.
 * @throws RangeError when the string is not a duration or the number is negative.
 */
export function parseDuration(value: Duration): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`${value} is not a duration: expected a non-negative number of seconds`);
    }
    return value;
  }
  const text = value.trim();
  if (!DURATION_RE.test(text)) {
    throw new RangeError(
      `"${value}" is not a duration: expected seconds or a string like "5s", "500ms", "1m30s"`,
    );
  }
  let seconds = 0;
  for (const m of text.matchAll(PART_RE)) {
    seconds += Number(m[1]) * (UNIT_SECONDS[m[2] ?? "s"] ?? 1);
  }
  // Avoid 0.30000000000000004-style noise in rendered output.
  return Math.round(seconds * 1000) / 1000;
}
