/**
 * Text V8 stores one byte a character. Reference tokens and raw unit text are marked with
 * private-use characters, so V8 stores a string holding one two bytes a character, and also what
 * is sliced out of it and every string built from such a slice, whatever its characters: one
 * resolved reference in a service made a whole rendered file (10 MB at 5000 services) twice as
 * big to build and copy. Internal to core.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: every Latin-1 character, controls too
const LATIN1 = /^[\u0000-\u00ff]*$/;

/**
 * `text` (the same characters), stored one byte a character where every character fits, for a
 * slice of a marked string. Short text is rebuilt from its characters (V8 keeps one string of
 * each Latin-1 character), longer text through a Latin-1 buffer.
 */
export function oneByteText(text: string): string {
  if (text.length <= 16) {
    let out = "";
    for (let i = 0; i < text.length; i++) out += text[i];
    return out;
  }
  return LATIN1.test(text) ? Buffer.from(text, "latin1").toString("latin1") : text;
}
