// Every secret this process has read (the master PSK from IpsecVars, --set or
// the kept PSK file, the keys of a node's secrets files) is remembered here
// the moment it is read, valid or not, and every text the CLI prints passes
// through redactSecrets(): an error that quotes a value, a --debug stack, a
// tool's output. A secret is never printed, whatever path a message took.

const known = new Set<string>();

// Shorter strings would redact ordinary words; a real key is 32 bytes or more
// (a shorter one is refused, and its refusal shows only its length).
const MIN_LENGTH = 6;

/** Remember a secret read from an input, so no message can print it. */
export function rememberSecret(value: unknown): void {
  if (typeof value !== 'string') return;
  const v = value.trim();
  if (v.length >= MIN_LENGTH) known.add(v);
}

/** Every `PSK "..."` of a libreswan secrets file's text. */
export function rememberSecretsFileKeys(text: string): void {
  for (const m of text.matchAll(/PSK\s+"([^"\n]*)"/g)) rememberSecret(m[1]);
}

/** `text` with every remembered secret replaced by a marker. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const s of known) if (out.includes(s)) out = out.split(s).join('<redacted>');
  return out;
}

/** For tests: forget what was remembered. */
export function forgetSecrets(): void {
  known.clear();
}
