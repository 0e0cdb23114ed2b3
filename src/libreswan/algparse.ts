// `ipsec algparse`, libreswan's own parser of algorithm proposals.
import { checkEspBuiltin, lacksConfidentiality, type AlgorithmVerdict } from './algorithms.js';
import { IPSEC, libreswanInstalled, runSync } from './commands.js';

/** Ask libreswan. Always with the `esp=` prefix (FACTS.md: without it algparse guesses). */
export function algparseEsp(algorithm: string): AlgorithmVerdict {
  const r = runSync(IPSEC, ['algparse', `esp=${algorithm}`]);
  if (r.status === 0) return { ok: true };
  const err = /ERROR:\s*(.*)/.exec(r.stdout + r.stderr);
  return { ok: false, reason: err ? err[1].trim() : `ipsec algparse exited ${r.status}` };
}

/** libreswan's verdict when it is installed, the built-in table's otherwise; plus our confidentiality rule. */
export function checkEsp(algorithm: string): AlgorithmVerdict & { checkedBy: 'algparse' | 'builtin' } {
  const builtin = checkEspBuiltin(algorithm);
  // Characters outside the grammar never reach a subprocess.
  if (!builtin.ok && /only letters/.test(builtin.reason ?? '')) return { ...builtin, checkedBy: 'builtin' };
  if (!libreswanInstalled()) return { ...builtin, checkedBy: 'builtin' };
  const real = algparseEsp(algorithm);
  if (real.ok && lacksConfidentiality(algorithm)) {
    return { ok: false, reason: builtin.reason, checkedBy: 'algparse' };
  }
  return { ...real, checkedBy: 'algparse' };
}
