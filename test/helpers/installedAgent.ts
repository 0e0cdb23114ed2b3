// The agent installed where Pacemaker and pcs look for it, put back as it
// was afterwards (tests run as root, like CI).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installAgent } from '../../src/cli/installAgent.js';

export const INSTALLED = '/usr/lib/ocf/resource.d/tripleo/ipsec';

export function installAgentForTest(): () => void {
  const keep = mkdtempSync(join(tmpdir(), 'tripleo-ipsec-agent-'));
  const backup = join(keep, 'ipsec.orig');
  const had = existsSync(INSTALLED);
  if (had) copyFileSync(INSTALLED, backup);
  mkdirSync('/usr/lib/ocf/resource.d/tripleo', { recursive: true });
  installAgent('/usr/lib/ocf');
  return () => {
    if (had) renameSync(backup, INSTALLED);
    else rmSync(INSTALLED, { force: true });
    rmSync(keep, { recursive: true, force: true });
  };
}
