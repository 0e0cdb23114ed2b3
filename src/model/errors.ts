// The one error type. Every failure the CLI expects is a TripleoIpsecError:
// its kind says whose it is (the operator's input, the environment's, or
// ours) and so which exit code it gets; the CLI's one handler
// (src/cli/handleError.ts) prints it. Anything else that reaches the handler
// is a bug and is printed with its stack.
import { formatProblem, type Problem } from './problems.js';
import { oneLine } from '../text/printable.js';

export type ErrorKind = 'input' | 'validation' | 'environment' | 'bug';

/** 2: the operator can fix the command line or the files; 1: something else failed. */
export const EXIT_CODES: Readonly<Record<ErrorKind, number>> = { input: 2, validation: 2, environment: 1, bug: 1 };

export class TripleoIpsecError extends Error {
  readonly kind: ErrorKind;
  readonly exitCode: number;
  constructor(message: string, opts: { kind: ErrorKind; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.kind = opts.kind;
    this.exitCode = EXIT_CODES[opts.kind];
  }

  /** What the CLI prints, one line each (without the `tripleo-ipsec: ` prefix). */
  lines(): string[] {
    return [oneLine(this.message)];
  }
}

/** About input files or arguments as a whole (unreadable, not YAML, not a plan, a value that cannot be rendered). Nothing was written. */
export class InputError extends TripleoIpsecError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { kind: 'input', cause: opts.cause });
  }

  override lines(): string[] {
    return [`${oneLine(this.message)}; nothing was written`];
  }
}

/** The command line itself is wrong (yargs' complaints, a missing option). */
export class UsageError extends InputError {
  override lines(): string[] {
    return [`${oneLine(this.message)}; run 'tripleo-ipsec --help' for usage`];
  }
}

/** Thrown once, at the end of validation, carrying every problem found. */
export class ValidationError extends TripleoIpsecError {
  readonly problems: Problem[];
  constructor(problems: Problem[], opts: { cause?: unknown } = {}) {
    super(problems.map(formatProblem).join('; '), { kind: 'validation', cause: opts.cause });
    this.problems = problems;
  }

  override lines(): string[] {
    return [...this.problems.map((p) => oneLine(formatProblem(p))), `${this.problems.length} problem(s); nothing was written`];
  }
}

/** Something outside the operator's files failed: a command, a daemon (pcs, pluto), the output of a tool. */
export class EnvironmentError extends TripleoIpsecError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { kind: 'environment', cause: opts.cause });
  }
}
