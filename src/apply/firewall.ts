// Installing and removing our iptables chains (and their jumps from INPUT and OUTPUT).
import { execa } from 'execa';
import { IPTABLES_CHAIN, IPTABLES_JUMPS } from '../render/firewall.js';
import { EnvironmentError, oneLine } from '../model/errors.js';

export type Family = 4 | 6;
const tool = (f: Family) => (f === 4 ? 'iptables' : 'ip6tables');

async function sh(cmd: string, args: string[], input?: string) {
  return execa(cmd, args, { reject: false, timeout: 60_000, input });
}

/** The chain's rules as iptables-save prints them, to compare with what we want. */
export async function chainRules(f: Family): Promise<string[] | undefined> {
  const r = await sh(`${tool(f)}-save`, ['-t', 'filter']);
  if (r.exitCode !== 0) throw new EnvironmentError(`${tool(f)}-save failed: ${oneLine(r.stderr)}`);
  const lines = r.stdout.split('\n');
  // Every chain must exist (an earlier version had only the INPUT one).
  if (!IPTABLES_JUMPS.every((j) => lines.some((l) => l.startsWith(`:${j.chain} `)))) return undefined;
  return lines.filter((l) => IPTABLES_JUMPS.some((j) => l.startsWith(`-A ${j.chain} `)));
}

async function jumpTo(f: Family, j: (typeof IPTABLES_JUMPS)[number]): Promise<boolean> {
  return (await sh(tool(f), ['-C', j.from, '-j', j.chain])).exitCode === 0;
}

export async function jumpPresent(f: Family): Promise<boolean> {
  for (const j of IPTABLES_JUMPS) if (!(await jumpTo(f, j))) return false;
  return true;
}

export async function installChain(f: Family, restoreFragment: string): Promise<void> {
  const r = await sh(`${tool(f)}-restore`, ['--noflush'], restoreFragment);
  if (r.exitCode !== 0) throw new EnvironmentError(`${tool(f)}-restore failed: ${oneLine(r.stderr)}`);
  for (const j of IPTABLES_JUMPS) {
    if (await jumpTo(f, j)) continue;
    const x = await sh(tool(f), ['-I', j.from, '-j', j.chain]);
    if (x.exitCode !== 0) throw new EnvironmentError(`${tool(f)} -I ${j.from} failed: ${oneLine(x.stderr)}`);
  }
}

export async function removeChain(f: Family): Promise<boolean> {
  let changed = false;
  for (const j of IPTABLES_JUMPS) {
    while (await jumpTo(f, j)) {
      await sh(tool(f), ['-D', j.from, '-j', j.chain]);
      changed = true;
    }
    if ((await sh(tool(f), ['-n', '-L', j.chain])).exitCode === 0) {
      await sh(tool(f), ['-F', j.chain]);
      await sh(tool(f), ['-X', j.chain]);
      changed = true;
    }
  }
  return changed;
}
