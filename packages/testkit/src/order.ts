/** Checking that events happened, in order. */

/**
 * Fails unless every one of `expected` occurs in `events` (an entry equal to the string, or
 * matching the RegExp), each after the previous one. A missing event fails too, naming it and
 * listing what did happen: comparing `indexOf` positions cannot, since a missing event is -1
 * and so always "before" everything.
 */
export function expectInOrder(
  events: readonly string[],
  expected: readonly (string | RegExp)[],
): void {
  const matches = (e: string, want: string | RegExp) =>
    typeof want === "string" ? e === want : want.test(e);
  let from = 0;
  for (const want of expected) {
    const at = events.findIndex((e, i) => i >= from && matches(e, want));
    if (at === -1) {
      const anywhere = events.findIndex((e) => matches(e, want));
      const what = anywhere === -1 ? "never happened" : `happened too early (at ${anywhere})`;
      throw new Error(
        `expected ${String(want)} after position ${from - 1}, but it ${what}; events:\n${events.map((e, i) => `  ${i}: ${e}`).join("\n")}`,
      );
    }
    from = at + 1;
  }
}

/** {@link expectInOrder} over the lines of a text (e.g. a process's output). */
export function expectLinesInOrder(text: string, expected: readonly (string | RegExp)[]): void {
  expectInOrder(text.split("\n"), expected);
}
