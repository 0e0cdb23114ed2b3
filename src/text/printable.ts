// Everything printed for people passes through printable(): text that came
// from a node (an ssh banner, pluto's conn names), a file or an argument may
// hold terminal control sequences (retitle, clear the screen, move the
// cursor). They are shown escaped (`\x1b`), never sent raw. Newlines and
// tabs of our own layout stay.

// C0 controls but \t and \n, DEL, C1 controls, and the Unicode format
// characters that reorder or hide text (bidi overrides and isolates, zero
// width joiners, the line and paragraph separators).
const UNPRINTABLE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

function escape(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control or invisible formatting character escaped. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escape);
}

/** One line of text: printable, and its own line breaks escaped too. */
export function printableLine(text: string): string {
  return printable(text).replace(/[\n\t]/g, escape);
}

/** Output of another tool as one line of a message: its non-empty lines, joined. */
export function oneLine(text: string): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ');
}
