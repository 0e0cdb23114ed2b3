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

/** Thrown once, at the end of validation, carrying every problem found. */
export class ValidationError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/** For errors that are about input files as a whole (unreadable, not YAML). */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
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
