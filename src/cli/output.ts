// What the CLI prints, through one sanitiser: every remembered secret
// redacted (src/secrets/redaction.ts) and every control character escaped
// (src/text/printable.ts), whatever the text came from.
import { redactSecrets } from '../secrets/redaction.js';
import { printable } from '../text/printable.js';

/** Text for a person's terminal (or a log): no secret, no control sequence. */
export function forPeople(text: string): string {
  return printable(redactSecrets(text));
}

/** Write words to stdout through forPeople. */
export function say(text: string): void {
  process.stdout.write(forPeople(text));
}

/**
 * Write text whose own escape sequences are ours (colour, the --watch
 * redraw): its values were made printable where they were put in, and
 * secrets are still redacted.
 */
export function sayFormatted(text: string): void {
  process.stdout.write(redactSecrets(text));
}
