// The CLI's one error handler: every failure of every command ends here.
import { EXIT_CODES, TripleoIpsecError } from '../model/errors.js';
import { redactSecrets } from '../secrets/redaction.js';
import { oneLine } from '../text/printable.js';
import { forPeople } from './output.js';

export interface ErrorOutput {
  /** --debug: also print the stack (and the causes) of an expected failure. */
  debug?: boolean;
  /** Where the words go (stderr). */
  write?: (text: string) => void;
}

/**
 * The CLI's one error handler: every command's failures come here. An
 * expected failure (a TripleoIpsecError that is not a bug) is one line per
 * problem and its kind's exit code (2: input or validation, 1: environment);
 * anything else is a bug: its message, its stack, exit 1. Every word goes
 * through forPeople (secrets redacted, control characters escaped), the
 * stacks and causes of --debug too.
 */
export function handleError(e: unknown, o: ErrorOutput = {}): number {
  const raw = o.write ?? ((text: string) => void process.stderr.write(text));
  const write = (text: string) => raw(forPeople(text));
  if (e instanceof TripleoIpsecError && e.kind !== 'bug') {
    for (const line of e.lines()) write(`tripleo-ipsec: ${line}\n`);
    if (o.debug) write(stackOf(e));
    return e.exitCode;
  }
  write(`tripleo-ipsec: ${(e instanceof Error ? oneLine(e.message) : '') || String(e)}\n`);
  if (e instanceof Error) write(stackOf(e));
  return EXIT_CODES.bug;
}

/** The stack of an error and of its causes, for --debug and for bugs. */
function stackOf(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e, depth = 0; c !== undefined && depth < 8; depth++) {
    const text = c instanceof Error ? (c.stack ?? `${c.name}: ${c.message}`) : String(c);
    parts.push(depth === 0 ? text : `caused by: ${text}`);
    c = c instanceof Error ? c.cause : undefined;
  }
  return redactSecrets(parts.join('\n')) + '\n';
}
