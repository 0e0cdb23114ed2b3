// `ipsec algparse`, libreswan's own parser of algorithm proposals.
import { checkEspBuiltin, lacksConfidentiality, type AlgorithmVerdict } from '../model/algorithms.js';
import { IPSEC, libreswanInstalled } from './whack.js';
import { runCommandSync } from '../system/command.js';


/** Ask libreswan. Always with the `esp=` prefix (docs/FACTS.md: without it algparse guesses). */
export function algparseEsp(algorithm: string): AlgorithmVerdict {
  const r = runCommandSync({ what: `libreswan's check of ipsec_algorithm (ipsec algparse)`, argv: [IPSEC, 'algparse', `esp=${algorithm}`], timeoutMs: 10_000 });
  if (r.exitCode === 0) return { ok: true };
  const err = /ERROR:\s*(.*)/.exec(r.stdout + r.stderr);
  return { ok: false, reason: err ? err[1].trim() : `ipsec algparse exited ${r.exitCode}` };
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

/** The built-in table's verdict alone (no subprocess). */
export function checkEspOffline(algorithm: string): AlgorithmVerdict & { checkedBy: 'builtin' } {
  return { ...checkEspBuiltin(algorithm), checkedBy: 'builtin' };
}
