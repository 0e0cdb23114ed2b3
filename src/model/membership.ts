// Which inventory hosts get tunnels (pure): the hosts of one stack (a
// tripleo-ansible-inventory of several stacks names each group <stack>_<group>
// and lists the stacks in Undercloud.vars.plans), only those in the `ipsec`
// service group when the inventory has one (tripleo-common builds a group per
// service, its children the roles that run it), and never those in
// `excluded_overcloud` (BlacklistedHostnames). Whoever is left out is named
// in a note.
import { hostsOfGroup, type Inventory } from './inventory.js';
import type { Problem } from './problems.js';

export interface Membership {
  stack: string | undefined;
  hosts: string[];
  pacemaker: Set<string>;
  notes: string[];
}

const OVERCLOUD_GROUPS = ['overcloud', 'allovercloud'];
const NOT_OVERCLOUD_GROUPS = ['Undercloud', 'undercloud'];

/** The stacks an inventory describes: Undercloud.vars.plans (several stacks merged) or .plan (one). */
function stacksOf(inv: Inventory): string[] {
  const v = inv.groups.get('Undercloud')?.vars ?? {};
  if (Array.isArray(v.plans) && v.plans.every((p) => typeof p === 'string')) return [...(v.plans as string[])].sort();
  if (typeof v.plan === 'string') return [v.plan];
  return [];
}

const list = (hosts: string[]) => (hosts.length > 6 ? `${hosts.slice(0, 6).join(', ')} and ${hosts.length - 6} more` : hosts.join(', '));

export function resolveMembership(inv: Inventory, wantedStack: string | undefined, problems: Problem[]): Membership {
  const notes: string[] = [];
  const stacks = stacksOf(inv);
  let stack = wantedStack;
  if (stack === undefined) stack = stacks.length === 1 ? stacks[0] : stacks.includes('overcloud') ? 'overcloud' : undefined;
  if (stack === undefined && stacks.length > 1) {
    problems.push({ field: '--stack', value: '<none>', message: `the inventory has several stacks (${stacks.join(', ')}): name one` });
    return { stack, hosts: [], pacemaker: new Set(), notes };
  }
  let all: string[];
  if (stack !== undefined && inv.groups.has(stack)) all = hostsOfGroup(inv, stack);
  else if (wantedStack !== undefined) {
    problems.push({ field: '--stack', value: wantedStack, message: `no such stack in the inventory${stacks.length ? ` (it has ${stacks.join(', ')})` : ''}` });
    return { stack, hosts: [], pacemaker: new Set(), notes };
  } else {
    const g = OVERCLOUD_GROUPS.find((x) => inv.groups.has(x));
    if (g) all = hostsOfGroup(inv, g);
    else {
      const under = new Set(NOT_OVERCLOUD_GROUPS.flatMap((x) => hostsOfGroup(inv, x)));
      all = [...inv.hostvars.keys()].filter((h) => !under.has(h));
    }
  }
  for (const other of stacks.filter((s) => s !== stack && inv.groups.has(s))) {
    const theirs = hostsOfGroup(inv, other).sort();
    if (theirs.length) notes.push(`stack ${other} not included (its hosts: ${list(theirs)}): generate it with --stack ${other}`);
  }
  const inStack = new Set(all);
  let hosts = [...inStack].sort();
  if (inv.groups.has('ipsec')) {
    const ipsec = new Set(hostsOfGroup(inv, 'ipsec'));
    const out = hosts.filter((h) => !ipsec.has(h));
    if (out.length) notes.push(`not in the ipsec service group, so no tunnels: ${list(out)}`);
    hosts = hosts.filter((h) => ipsec.has(h));
  }
  const excluded = new Set(hostsOfGroup(inv, 'excluded_overcloud'));
  const gone = hosts.filter((h) => excluded.has(h));
  if (gone.length) notes.push(`in excluded_overcloud, so no tunnels: ${list(gone)}`);
  hosts = hosts.filter((h) => !excluded.has(h));
  // A cluster node left out above gets no files at all, so it cannot hold a VIP's tunnel either.
  const included = new Set(hosts);
  const pacemaker = new Set(hostsOfGroup(inv, 'pacemaker').filter((h) => included.has(h)));
  if (!inv.groups.has('pacemaker')) notes.push('no pacemaker group in the inventory: no VIP responder tunnels and no Pacemaker resources');
  return { stack, hosts, pacemaker, notes };
}
