// Validation problems are collected, not thrown one by one, so an operator
// sees every bad field of an inventory in one run (the pcs "reports" habit).

export interface Problem {
  /** Inventory host the value belongs to, when it belongs to one. */
  host?: string;
  /** The field as the operator wrote it (`internal_api_ip`, `IpsecVars.ipsec_psk`). */
  field: string;
  /** The offending value, already made safe to print (secrets redacted). */
  value: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const where = p.host ? `host ${p.host}: ` : '';
  return `${where}${p.field}=${JSON.stringify(p.value)}: ${p.message}`;
}

// Every failure the CLI expects is a TripleoIpsecError: its kind says whose
// it is (the operator's input, the environment's, or ours) and so which exit
// code it gets; the CLI's one handler (src/cli/main.ts) prints it. Anything
// else that reaches the handler is a bug and is printed with its stack.

export type ErrorKind = 'input' | 'validation' | 'environment' | 'bug';

/** 2: the operator can fix the command line or the files; 1: something else failed. */
export const EXIT_CODES: Readonly<Record<ErrorKind, number>> = { input: 2, validation: 2, environment: 1, bug: 1 };

/** Output of another tool as one line of a message: its non-empty lines, joined. */
export function oneLine(text: string): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ');
}

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

/** About input files or arguments as a whole (unreadable, not YAML, not a plan). Nothing was written. */
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

/** A value refused because it could change the meaning of a file it would go into. */
export class RenderError extends InputError {}

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

/** Something outside the operator's files failed: a command, a daemon, the output of a tool. */
export class EnvironmentError extends TripleoIpsecError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { kind: 'environment', cause: opts.cause });
  }
}

/** Printable stand-in for a secret: its length only. */
export function redact(secret: unknown): string {
  if (typeof secret !== 'string') return `<${typeof secret}>`;
  return `<redacted, ${Buffer.byteLength(secret)} bytes>`;
}

/** Printable form of any value for a Problem. */
export function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '<missing>';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
