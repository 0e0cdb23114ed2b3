// Installing and removing our iptables chains (and their jumps from INPUT and OUTPUT).
import { IPTABLES_CHAINS, IPTABLES_JUMPS } from '../render/firewall.js';
import { runCommand, runChecked } from '../system/command.js';

export type Family = 4 | 6;
const tool = (f: Family) => (f === 4 ? 'iptables' : 'ip6tables');
const MS = 60_000;

/** The chain's rules as iptables-save prints them, to compare with what we want. */
export async function chainRules(f: Family): Promise<string[] | undefined> {
  const r = await runChecked({ what: `reading the firewall (${tool(f)}-save)`, argv: [`${tool(f)}-save`, '-t', 'filter'], timeoutMs: MS });
  const lines = r.stdout.split('\n');
  // Every chain must exist (earlier versions had only the INPUT one, then no peer list).
  if (!IPTABLES_CHAINS.every((c) => lines.some((l) => l.startsWith(`:${c} `)))) return undefined;
  return lines.filter((l) => IPTABLES_CHAINS.some((c) => l.startsWith(`-A ${c} `)));
}

async function jumpTo(f: Family, j: (typeof IPTABLES_JUMPS)[number]): Promise<boolean> {
  return (await runCommand({ what: `checking the jump from ${j.from} to ${j.chain}`, argv: [tool(f), '-C', j.from, '-j', j.chain], timeoutMs: MS })).exitCode === 0;
}

export async function jumpPresent(f: Family): Promise<boolean> {
  for (const j of IPTABLES_JUMPS) if (!(await jumpTo(f, j))) return false;
  return true;
}

export async function installChain(f: Family, restoreFragment: string): Promise<void> {
  await runChecked({ what: `installing our chains (${tool(f)}-restore --noflush)`, argv: [`${tool(f)}-restore`, '--noflush'], input: restoreFragment, timeoutMs: MS });
  for (const j of IPTABLES_JUMPS) {
    if (await jumpTo(f, j)) continue;
    await runChecked({ what: `adding the jump from ${j.from} to ${j.chain}`, argv: [tool(f), '-I', j.from, '-j', j.chain], timeoutMs: MS });
  }
}

export async function removeChain(f: Family): Promise<boolean> {
  let changed = false;
  for (const j of IPTABLES_JUMPS) {
    while (await jumpTo(f, j)) {
      await runChecked({ what: `removing the jump from ${j.from} to ${j.chain}`, argv: [tool(f), '-D', j.from, '-j', j.chain], timeoutMs: MS });
      changed = true;
    }
  }
  // Every chain flushed before any is deleted: TRIPLEO-IPSEC-OUT jumps to the peer list.
  const present: string[] = [];
  for (const chain of IPTABLES_CHAINS) {
    const listed = await runCommand({ what: `looking for chain ${chain}`, argv: [tool(f), '-n', '-L', chain], timeoutMs: MS });
    if (listed.exitCode !== 0) continue;
    present.push(chain);
    await runChecked({ what: `flushing chain ${chain}`, argv: [tool(f), '-F', chain], timeoutMs: MS });
  }
  for (const chain of present) await runChecked({ what: `deleting chain ${chain}`, argv: [tool(f), '-X', chain], timeoutMs: MS });
  return changed || present.length > 0;
}
