// Validation problems are collected, not thrown one by one, so an operator
// sees every bad field of an inventory in one run (the pcs "reports" habit).
// A problem's value is already safe to print: secrets redacted, and nothing
// from a file or an argument shown raw (src/text/printable.ts escapes it
// when it is printed).

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

/** Printable stand-in for a secret: its length only. */
export function redact(secret: unknown): string {
  if (typeof secret !== 'string') return `<${typeof secret}>`;
  return `<redacted, ${Buffer.byteLength(secret)} bytes>`;
}

/**
 * What a value is, without any of its content: for values that may hold a
 * secret (an IpsecVars that is a list holding the PSK, an unknown variable).
 */
export function shapeOf(value: unknown): string {
  if (value === null) return '<null>';
  if (Array.isArray(value)) return `<a list of ${value.length} item(s)>`;
  if (typeof value === 'string') return `<a string of ${Buffer.byteLength(value)} bytes>`;
  if (typeof value === 'object') return `<a mapping of ${Object.keys(value as object).length} key(s)>`;
  return `<${typeof value}>`;
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
