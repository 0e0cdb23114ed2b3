// From parsed inputs to one validated Overcloud value. Everything an
// operator can get wrong is found here, before any file is rendered.
import type { Inventory, Vars } from './inventory.js';
import { directGroupsOf, effectiveVars, hostsOfGroup } from './inventory.js';
import type { NetworkDataEntry } from './networkData.js';
import type { IpFamily, IpsecVars, Network, Overcloud, OvercloudNode, Vip } from './types.js';
import { type Problem, show } from './errors.js';
import { CTLPLANE, HOST_NAME, NETWORK_NAME } from './names.js';
import { cidrOf, inSubnet, parseAddress, parseCidr, type ParsedAddress, type ParsedCidr } from './addresses.js';

export interface OvercloudInputs {
  inventory: Inventory;
  /** undefined when no network_data.yaml was given. */
  networkData?: NetworkDataEntry[];
  vars: Omit<IpsecVars, 'ipsec_psk'> & { ipsec_psk?: string };
}

const OVERCLOUD_GROUPS = ['overcloud', 'allovercloud'];
/** A DNS name we put in a certificate's CN and a libreswan id. */
const FQDN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const NOT_OVERCLOUD_GROUPS = new Set(['Undercloud', 'undercloud']);
/** TripleO puts the redis VIP on internal_api unless told otherwise (RedisNetwork). */
const REDIS_DEFAULT_NETWORK = 'internal_api';

function overcloudHosts(inv: Inventory): string[] {
  for (const g of OVERCLOUD_GROUPS) if (inv.groups.has(g)) return hostsOfGroup(inv, g);
  const under = new Set([...NOT_OVERCLOUD_GROUPS].flatMap((g) => hostsOfGroup(inv, g)));
  return [...inv.hostvars.keys()].filter((h) => !under.has(h));
}

function globalVars(inv: Inventory): Vars {
  const out: Vars = {};
  for (const g of ['all', ...OVERCLOUD_GROUPS]) Object.assign(out, inv.groups.get(g)?.vars ?? {});
  return out;
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/** Networks a host says it is on: enabled_networks, else its role's, else every `<net>_ip` it has. */
function networksOfHost(vars: Vars, host: string, problems: Problem[]): string[] {
  for (const field of ['enabled_networks', 'tripleo_role_networks']) {
    const v = vars[field];
    if (v === undefined || v === null) continue;
    const list = stringList(v);
    if (!list) {
      problems.push({ host, field, value: show(v), message: 'expected a list of network names' });
      return [];
    }
    const bad = list.find((n) => !NETWORK_NAME.test(n));
    if (bad !== undefined) {
      problems.push({ host, field, value: bad, message: 'not a plain identifier (a-z, 0-9, _)' });
      return [];
    }
    return list;
  }
  return Object.keys(vars)
    .filter((k) => k.endsWith('_ip') && k !== 'ansible_ip')
    .map((k) => k.slice(0, -3))
    .filter((n) => NETWORK_NAME.test(n));
}

export function buildOvercloud(inputs: OvercloudInputs, problems: Problem[]): Overcloud | undefined {
  const { inventory: inv, networkData, vars } = inputs;
  const notes: string[] = [];
  const before = problems.length;
  const skip = new Set(vars.ipsec_skip_networks);

  const hostNames = overcloudHosts(inv).sort();
  if (hostNames.length === 0) problems.push({ field: 'inventory', value: '<no hosts>', message: 'no overcloud hosts found' });
  const pacemakerSet = new Set(hostsOfGroup(inv, 'pacemaker'));
  if (!inv.groups.has('pacemaker')) notes.push('no pacemaker group in the inventory: no VIP responder tunnels and no Pacemaker resources');

  // Networks known to network_data (enabled ones), if given.
  const declared = new Map<string, NetworkDataEntry>();
  if (networkData) {
    for (const n of networkData) if (n.enabled) declared.set(n.nameLower, n);
  } else {
    notes.push('no network_data.yaml given: subnets come from the inventory (<net>_cidr), where it has them');
  }
  for (const s of skip) {
    const known = networkData ? declared.has(s) || s === CTLPLANE : true; // checked again below without network_data
    if (!known) problems.push({ field: 'IpsecVars.ipsec_skip_networks', value: s, message: 'no such network in network_data' });
  }

  // Per host: name, role, networks, addresses.
  interface RawNode { name: string; fqdn: string; role: string; pacemaker: boolean; vars: Vars; nets: string[] }
  const rawNodes: RawNode[] = [];
  for (const host of hostNames) {
    if (!HOST_NAME.test(host)) {
      problems.push({ host, field: 'inventory host name', value: host, message: 'not a plain host name (letters, digits, -)' });
      continue;
    }
    const v = effectiveVars(inv, host);
    const roleVar = v.tripleo_role_name;
    const role = typeof roleVar === 'string' ? roleVar : directGroupsOf(inv, host).sort()[0] ?? 'unknown';
    const nets = networksOfHost(v, host, problems).filter((n) => n !== CTLPLANE);
    if (networkData) {
      for (const n of nets) {
        if (!declared.has(n) && !networkData.some((d) => d.nameLower === n)) {
          problems.push({ host, field: 'networks', value: n, message: 'network not in network_data' });
        }
      }
    }
    const canonical = v.canonical_hostname;
    const fqdn = typeof canonical === 'string' && FQDN.test(canonical) ? canonical.toLowerCase() : host;
    rawNodes.push({ name: host, fqdn, role, pacemaker: pacemakerSet.has(host), vars: v, nets: nets.filter((n) => !networkData || declared.has(n)) });
  }

  // Which networks exist: declared ones, or every one a host is on.
  const networkNames = new Set<string>(networkData ? [...declared.keys()] : rawNodes.flatMap((n) => n.nets));
  networkNames.delete(CTLPLANE);
  if (!networkData) {
    for (const s of skip) {
      if (!networkNames.has(s) && s !== CTLPLANE) {
        problems.push({ field: 'IpsecVars.ipsec_skip_networks', value: s, message: 'no host of the inventory is on this network' });
      }
    }
  }

  // Addresses, parsed and checked per network.
  const addresses = new Map<string, Map<string, ParsedAddress>>(); // network -> host -> address
  for (const net of networkNames) addresses.set(net, new Map());
  for (const node of rawNodes) {
    const ctl = parseAddress(node.vars.ctlplane_ip);
    for (const net of node.nets) {
      if (!networkNames.has(net)) continue;
      const field = `${net}_ip`;
      const raw = node.vars[field];
      if (raw === undefined || raw === null || raw === '') {
        problems.push({ host: node.name, field, value: show(raw), message: `host is on network ${net} but has no address there` });
        continue;
      }
      const a = parseAddress(raw);
      if (!a) {
        problems.push({ host: node.name, field, value: show(raw), message: 'not an IP address' });
        continue;
      }
      // TripleO writes the ctlplane address for networks a role does not really use.
      if (ctl && ctl.text === a.text) {
        notes.push(`${node.name}: ${field} is its ctlplane address; treated as not on ${net}`);
        continue;
      }
      addresses.get(net)!.set(node.name, a);
    }
  }

  // Subnets and families.
  const networks: Network[] = [];
  const cidrs = new Map<string, ParsedCidr | undefined>();
  for (const net of [...networkNames].sort()) {
    const members = addresses.get(net)!;
    const d = declared.get(net);
    let family: IpFamily | undefined = d?.family;
    let cidr: ParsedCidr | undefined = d?.subnet ? parseCidr(d.subnet) : undefined;
    let source: Network['subnetSource'] = cidr ? 'network_data' : 'none';
    const first = [...members.entries()].sort(([x], [y]) => (x < y ? -1 : 1))[0];
    if (family === undefined) family = first?.[1].family ?? 4;
    if (!cidr && first) {
      const len = rawNodes.find((n) => n.name === first[0])?.vars[`${net}_cidr`];
      const prefix = typeof len === 'number' ? len : typeof len === 'string' && /^\/?\d+$/.test(len) ? Number(len.replace('/', '')) : undefined;
      const fromText = typeof len === 'string' && len.includes('/') && len.length > 4 ? parseCidr(len) : undefined;
      cidr = fromText ?? (prefix !== undefined ? cidrOf(first[1], prefix) : undefined);
      if (cidr) source = 'inventory';
    }
    if (!cidr) notes.push(`network ${net}: no subnet known; addresses are not checked against one`);
    cidrs.set(net, cidr);
    // Every address: right family, inside the subnet, not shared with another host.
    const byAddress = new Map<string, string>();
    for (const [host, a] of [...members.entries()].sort(([x], [y]) => (x < y ? -1 : 1))) {
      const field = `${net}_ip`;
      if (a.family !== family) {
        problems.push({ host, field, value: a.text, message: `network ${net} is IPv${family}` });
      } else if (cidr && !inSubnet(a, cidr)) {
        problems.push({ host, field, value: a.text, message: `outside ${net}'s subnet ${cidr.text}` });
      }
      const other = byAddress.get(a.text);
      if (other) problems.push({ host, field, value: a.text, message: `same address as host ${other} on ${net}` });
      byAddress.set(a.text, host);
    }
    if (!skip.has(net)) networks.push({ name: net, family, subnet: cidr?.text, subnetSource: source });
  }

  // VIPs.
  const vips: Vip[] = [];
  if (vars.ipsec_configure_vips) {
    const g = globalVars(inv);
    const fallback = rawNodes[0]?.vars ?? {};
    const vipOf = (key: string) => (g[key] !== undefined ? g[key] : fallback[key]);
    const candidates: { name: string; network?: string; raw: unknown }[] = [];
    for (const net of [...networkNames].sort()) {
      const raw = vipOf(`${net}_vip`);
      if (raw !== undefined && raw !== null && raw !== '') candidates.push({ name: net, network: net, raw });
    }
    const redis = vipOf('redis_vip');
    if (redis !== undefined && redis !== null && redis !== '') candidates.push({ name: 'redis', raw: redis });
    for (const c of candidates) {
      const field = `${c.name}_vip`;
      const a = parseAddress(c.raw);
      if (!a) {
        problems.push({ field, value: show(c.raw), message: 'VIP is not an IP address' });
        continue;
      }
      let network = c.network;
      if (!network) {
        // redis rides on the network whose subnet holds it.
        network = [...networkNames].sort().find((n) => {
          const cidr = cidrs.get(n);
          return cidr !== undefined && inSubnet(a, cidr);
        });
        if (!network && networkNames.has(REDIS_DEFAULT_NETWORK) && !cidrs.get(REDIS_DEFAULT_NETWORK)) {
          network = REDIS_DEFAULT_NETWORK;
          notes.push(`redis_vip ${a.text}: no subnet holds it; assumed on ${REDIS_DEFAULT_NETWORK} (TripleO's default)`);
        }
        if (!network) {
          problems.push({ field, value: a.text, message: 'no network of the inventory has a subnet holding this VIP' });
          continue;
        }
      }
      const cidr = cidrs.get(network);
      if (cidr && !inSubnet(a, cidr)) {
        problems.push({ field, value: a.text, message: `outside ${network}'s subnet ${cidr.text}` });
        continue;
      }
      const fam = networks.find((n) => n.name === network)?.family ?? declared.get(network)?.family;
      if (fam !== undefined && a.family !== fam) {
        problems.push({ field, value: a.text, message: `network ${network} is IPv${fam}` });
        continue;
      }
      const holder = [...(addresses.get(network)?.entries() ?? [])].find(([, x]) => x.text === a.text);
      if (holder) {
        problems.push({ host: holder[0], field, value: a.text, message: `VIP equals the address of host ${holder[0]}` });
        continue;
      }
      if (skip.has(network)) continue;
      vips.push({ name: c.name, network, address: a.text });
    }
    const dup = new Map<string, string>();
    for (const v of vips) {
      const o = dup.get(v.address);
      if (o) problems.push({ field: `${v.name}_vip`, value: v.address, message: `same address as ${o}_vip` });
      dup.set(v.address, v.name);
    }
    if (vips.length > 0 && pacemakerSet.size === 0) {
      notes.push('VIPs are defined but no host is in the pacemaker group: VIP tunnels left out');
      vips.length = 0;
    }
  } else {
    notes.push('ipsec_configure_vips is false: no VIP tunnels');
  }

  if (problems.length > before) return undefined;

  const tunnelNets = new Set(networks.map((n) => n.name));
  const nodes: OvercloudNode[] = rawNodes.map((n) => {
    const addrs: Record<string, string> = {};
    for (const net of [...tunnelNets].sort()) {
      const a = addresses.get(net)?.get(n.name);
      if (a) addrs[net] = a.text;
    }
    return { name: n.name, fqdn: n.fqdn, role: n.role, pacemaker: n.pacemaker, addresses: addrs };
  });
  vips.sort((a, b) => (a.name < b.name ? -1 : 1));
  return {
    nodes,
    networks,
    vips,
    vars: vars as IpsecVars,
    notes: [...new Set(notes)].sort(),
  };
}
