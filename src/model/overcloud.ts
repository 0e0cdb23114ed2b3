// From parsed inputs to one validated Overcloud value (pure), in small
// resolvers: which hosts (membership.ts), their networks and addresses
// (networks.ts), the VIPs (vips.ts). Everything an operator can get wrong is
// found here, before any file is rendered, and reported all at once.
import type { Inventory, Vars } from './inventory.js';
import { directGroupsOf, effectiveVars } from './inventory.js';
import type { NetworkDataEntry } from './networkData.js';
import type { IpsecVars, Overcloud, OvercloudNode } from './types.js';
import { type Problem, show } from './problems.js';
import { CTLPLANE, HOST_NAME, NETWORK_NAME } from './names.js';
import { resolveMembership } from './membership.js';
import { nameLowerOf, resolveNetworks, type HostOnNetworks } from './networks.js';
import { resolveVips } from './vips.js';

export interface OvercloudInputs {
  inventory: Inventory;
  /** undefined when no network_data.yaml was given. */
  networkData?: NetworkDataEntry[];
  vars: Omit<IpsecVars, 'ipsec_psk'> & { ipsec_psk?: string };
  /** The stack of a multi-stack inventory (default: its only one, or overcloud). */
  stack?: string;
  /** config-download's service_vip_vars.yaml: service -> address. */
  serviceVips?: Record<string, unknown>;
  /** The deployed networks' net_cidr_map (heat environment), name_lower -> CIDRs. */
  netCidrMap?: Record<string, string[]>;
  /** Notes about the variables themselves. */
  varNotes?: string[];
}

/** A DNS name we put in a certificate's CN and a libreswan id. */
const FQDN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Networks a host says it is on: its role's (tripleo_role_networks), kept to
 * the stack's enabled_networks when both are given (a global enabled_networks
 * lists the stack's networks, not each host's); else either one; else every
 * `<net>_ip` it has. Names may be TripleO's own spelling (InternalApi,
 * StorageMgmt, as THT's EnabledNetworks writes them), mapped to name_lower as
 * TripleO does.
 */
function networksOfHost(vars: Vars, host: string, declared: NetworkDataEntry[] | undefined, problems: Problem[]): string[] {
  // name_lower spellings this host's variables already use (`storage_mgmt_ip`, a role's `storage_mgmt`).
  const known = Object.keys(vars).filter((k) => k.endsWith('_ip')).map((k) => k.slice(0, -3));
  const lists: Record<string, string[] | undefined> = {};
  for (const field of ['enabled_networks', 'tripleo_role_networks']) {
    const v = vars[field];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      problems.push({ host, field, value: show(v), message: 'expected a list of network names' });
      return [];
    }
    known.push(...(v as string[]).filter((n) => NETWORK_NAME.test(n)));
    lists[field] = v as string[];
  }
  const lower = (field: string): string[] | undefined => {
    const v = lists[field];
    if (!v) return undefined;
    const out: string[] = [];
    for (const n of v) {
      const l = nameLowerOf(n, declared, vars, known);
      if (l === undefined) {
        problems.push({ host, field, value: n, message: 'not a network name (name or name_lower of network_data)' });
        return [];
      }
      out.push(l);
    }
    return [...new Set(out)];
  };
  const enabled = lower('enabled_networks');
  const role = lower('tripleo_role_networks');
  if (enabled && role) return role.filter((n) => n === CTLPLANE || enabled.includes(n));
  if (enabled || role) return (enabled ?? role)!;
  return Object.keys(vars)
    .filter((k) => k.endsWith('_ip') && k !== 'ansible_ip')
    .map((k) => k.slice(0, -3))
    .filter((n) => NETWORK_NAME.test(n));
}

export function buildOvercloud(inputs: OvercloudInputs, problems: Problem[]): Overcloud | undefined {
  const { inventory: inv, networkData, vars } = inputs;
  const notes: string[] = [...(inputs.varNotes ?? [])];
  if (vars.ipsec_uninstall_tunnels) notes.push('ipsec_uninstall_tunnels is true: every node removes what tripleo-ipsec installed (apply at step 1 uninstalls)');
  const before = problems.length;

  const members = resolveMembership(inv, inputs.stack, problems);
  notes.push(...members.notes);
  if (members.hosts.length === 0 && problems.length === before) problems.push({ field: 'inventory', value: '<no hosts>', message: 'no overcloud hosts found' });

  // Per host: name, role, networks.
  interface RawNode extends HostOnNetworks { fqdn: string; role: string; pacemaker: boolean }
  const rawNodes: RawNode[] = [];
  for (const host of members.hosts) {
    if (!HOST_NAME.test(host)) {
      problems.push({ host, field: 'inventory host name', value: host, message: 'not a plain host name (letters, digits, -)' });
      continue;
    }
    const v = effectiveVars(inv, host);
    const role = typeof v.tripleo_role_name === 'string' ? v.tripleo_role_name : directGroupsOf(inv, host).sort()[0] ?? 'unknown';
    const canonical = v.canonical_hostname;
    const fqdn = typeof canonical === 'string' && FQDN.test(canonical) ? canonical.toLowerCase() : host;
    if (canonical !== undefined && canonical !== null && canonical !== '' && fqdn === host && canonical !== host) {
      notes.push(`${host}: canonical_hostname ${JSON.stringify(show(canonical))} is not a DNS name: its certificate and ids use the host name`);
    }
    rawNodes.push({ name: host, fqdn, role, pacemaker: members.pacemaker.has(host), vars: v, nets: networksOfHost(v, host, networkData, problems) });
  }

  const networks = resolveNetworks({ declared: networkData, netCidrMap: inputs.netCidrMap, hosts: rawNodes, vars }, problems, notes);

  let vips: Overcloud['vips'] = [];
  if (!vars.ipsec_configure_vips) notes.push('ipsec_configure_vips is false: no VIP tunnels');
  else {
    // The stack's group variables: what every host of it inherits (tripleo-ansible-inventory puts the VIPs there).
    const stackVars = { ...(inv.groups.get('all')?.vars ?? {}), ...(rawNodes[0]?.vars ?? {}) };
    vips = resolveVips({ stackVars, hostVars: rawNodes.map((n) => n.vars), networks, serviceVips: inputs.serviceVips }, problems, notes);
    if (vips.length > 0 && members.pacemaker.size === 0) {
      notes.push('VIPs are defined but no host is in the pacemaker group: VIP tunnels left out');
      vips = [];
    }
  }

  if (problems.length > before) return undefined;

  const tunnelled = networks.tunnelled.map((n) => n.name);
  const nodes: OvercloudNode[] = rawNodes.map((n) => {
    const addresses: Record<string, string> = {};
    for (const net of tunnelled) {
      const a = networks.addresses.get(net)?.get(n.name);
      if (a) addresses[net] = a.text;
    }
    return { name: n.name, fqdn: n.fqdn, role: n.role, pacemaker: n.pacemaker, addresses };
  });
  return { nodes, networks: networks.tunnelled, vips, vars: vars as IpsecVars, notes: [...new Set(notes)].sort(), ...(members.stack !== undefined ? { stack: members.stack } : {}) };
}
