// Installing and removing our iptables chain (and its jump from INPUT).
import { execa } from 'execa';
import { IPTABLES_CHAIN } from '../render/firewall.js';

export type Family = 4 | 6;
const tool = (f: Family) => (f === 4 ? 'iptables' : 'ip6tables');

async function sh(cmd: string, args: string[], input?: string) {
  return execa(cmd, args, { reject: false, timeout: 60_000, input });
}

/** The chain's rules as iptables-save prints them, to compare with what we want. */
export async function chainRules(f: Family): Promise<string[] | undefined> {
  const r = await sh(`${tool(f)}-save`, ['-t', 'filter']);
  if (r.exitCode !== 0) throw new Error(`${tool(f)}-save failed: ${r.stderr.trim()}`);
  const lines = r.stdout.split('\n');
  if (!lines.some((l) => l.startsWith(`:${IPTABLES_CHAIN} `))) return undefined;
  return lines.filter((l) => l.startsWith(`-A ${IPTABLES_CHAIN} `));
}

export async function jumpPresent(f: Family): Promise<boolean> {
  return (await sh(tool(f), ['-C', 'INPUT', '-j', IPTABLES_CHAIN])).exitCode === 0;
}

export async function installChain(f: Family, restoreFragment: string): Promise<void> {
  const r = await sh(`${tool(f)}-restore`, ['--noflush'], restoreFragment);
  if (r.exitCode !== 0) throw new Error(`${tool(f)}-restore failed: ${r.stderr.trim()}`);
  if (!(await jumpPresent(f))) {
    const j = await sh(tool(f), ['-I', 'INPUT', '-j', IPTABLES_CHAIN]);
    if (j.exitCode !== 0) throw new Error(`${tool(f)} -I INPUT failed: ${j.stderr.trim()}`);
  }
}

export async function removeChain(f: Family): Promise<boolean> {
  let changed = false;
  while (await jumpPresent(f)) {
    await sh(tool(f), ['-D', 'INPUT', '-j', IPTABLES_CHAIN]);
    changed = true;
  }
  if ((await chainRules(f)) !== undefined) {
    await sh(tool(f), ['-F', IPTABLES_CHAIN]);
    await sh(tool(f), ['-X', IPTABLES_CHAIN]);
    changed = true;
  }
  return changed;
}
