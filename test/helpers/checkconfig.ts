// `ipsec addconn --checkconfig`: libreswan's own parser over a host's files.
// It prints some real errors on stderr with exit 0 (docs/FACTS.md), so any output
// at all counts as failure.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { IPSEC } from '../../src/libreswan/whack.js';
import { runCommandSync } from '../../src/system/command.js';
import { VIP_HOLDER_DIR } from '../../src/model/names.js';

export interface CheckconfigResult {
  ok: boolean;
  status: number | null;
  output: string;
}

/** Check every *.conf of an ipsec.d directory as pluto would include it, with the VIP holder's files as on the VIP's holder. */
export function checkconfigIpsecDir(ipsecDir: string): CheckconfigResult {
  const scratch = mkdtempSync(join(tmpdir(), 'tripleo-ipsec-check-'));
  try {
    const conf = join(scratch, 'ipsec.conf');
    const holder = join(ipsecDir, VIP_HOLDER_DIR);
    writeFileSync(conf, `config setup\ninclude ${ipsecDir}/*.conf\n${existsSync(holder) ? `include ${holder}/*.conf\n` : ''}`);
    const r = runCommandSync({ what: "libreswan's check of the generated files (addconn --checkconfig)", argv: [IPSEC, 'addconn', '--checkconfig', '--config', conf], timeoutMs: 10_000 });
    const output = (r.stdout + r.stderr).trim();
    return { ok: r.exitCode === 0 && output === '', status: r.exitCode, output };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
