// The overcloud's logical networks and every host's address on them (pure).
// A logical network has every subnet TripleO gives it, so a routed
// (spine-leaf) deployment is one mesh per network across its leaves:
//   - network_data v2 `subnets:` or v1 `subnets:` beside the base subnet;
//   - legacy leaf networks: a declared `<net><digits>` (internal_api2)
//     beside `<net>` is a leaf of it, its hosts' `<leaf>_ip` addresses on it
//     (IpsecVars.ipsec_leaf_networks overrides, per leaf);
//   - without network_data: the deployed networks' net_cidr_map (heat
//     environment), else each host's `<net>_cidr` (TripleO writes the prefix
//     length per role) around its own `<net>_ip`.
import { inSubnet, parseAddress, parseCidr, reservedIn, subnetAround, type ParsedAddress, type ParsedCidr } from './addresses.js';
import { type Problem, show } from './problems.js';
import type { Vars } from './inventory.js';
import { CTLPLANE, NETWORK_NAME } from './names.js';
import { defaultNameLower, type NetworkDataEntry } from './networkData.js';
import type { IpFamily, IpsecVars, Network } from './types.js';

export interface HostOnNetworks {
  name: string;
  vars: Vars;
  /** The networks (name_lower, leaves included) the host says it is on. */
  nets: string[];
}

export interface NetworkModel {
  /** Every logical network, skipped ones included (VIPs are placed on these too), by name. */
  all: Map<string, { family: IpFamily; subnets: ParsedCidr[]; source: Network['subnetSource']; leaves: string[] }>;
  /** Logical networks that get tunnels, sorted by name. */
  tunnelled: Network[];
  /** logical network -> host -> address */
  addresses: Map<string, Map<string, ParsedAddress>>;
  /** A leaf's logical network (a network's own name for a network). */
  logicalOf(name: string): string;
}

/** TripleO's default networks (network_data.yaml of tripleo-heat-templates): name -> name_lower. */
const TRIPLEO_NETWORKS: Record<string, string> = {
  External: 'external',
  InternalApi: 'internal_api',
  Storage: 'storage',
  StorageMgmt: 'storage_mgmt',
  Tenant: 'tenant',
  Management: 'management',
  StorageNFS: 'storage_nfs',
};

/**
 * A network name as TripleO writes it in role and host variables
 * (InternalApi) to its name_lower: network_data's own, the inventory's
 * networks_lower map, a name_lower the host's variables already use that
 * differs only by its underscores (StorageMgmt is storage_mgmt), TripleO's
 * default networks, else name.lower() as TripleO's tools do.
 */
export function nameLowerOf(name: string, declared: NetworkDataEntry[] | undefined, hostVars: Vars, known: string[] = []): string | undefined {
  if (NETWORK_NAME.test(name)) return name;
  const fromData = declared?.find((d) => d.name === name)?.nameLower;
  if (fromData) return fromData;
  // tripleo-ansible-inventory (neutron source) writes networks_lower: {InternalApi: internal_api}.
  const map = hostVars.networks_lower;
  if (map && typeof map === 'object' && typeof (map as Record<string, unknown>)[name] === 'string') return (map as Record<string, string>)[name];
  if (!declared) {
    const squashed = name.toLowerCase();
    const matches = [...new Set(known.filter((k) => NETWORK_NAME.test(k) && k.replace(/_/g, '') === squashed))];
    if (matches.length === 1) return matches[0];
    if (TRIPLEO_NETWORKS[name]) return TRIPLEO_NETWORKS[name];
  }
  const lower = defaultNameLower(name);
  return NETWORK_NAME.test(lower) ? lower : undefined;
}

export interface NetworkInputs {
  declared?: NetworkDataEntry[];
  /** name_lower -> CIDRs, from a deployed-networks heat environment (DeployedNetworkEnvironment.net_cidr_map). */
  netCidrMap?: Record<string, string[]>;
  hosts: HostOnNetworks[];
  vars: Pick<IpsecVars, 'ipsec_skip_networks' | 'ipsec_leaf_networks'>;
}

export function resolveNetworks(i: NetworkInputs, problems: Problem[], notes: string[]): NetworkModel {
  const declared = new Map((i.declared ?? []).filter((d) => d.enabled).map((d) => [d.nameLower, d]));
  const names = new Set<string>(i.declared ? declared.keys() : i.hosts.flatMap((h) => h.nets));
  names.delete(CTLPLANE);
  if (!i.declared) notes.push('no network_data.yaml given: subnets come from the inventory (<net>_cidr), where it has them');

  // Leaves of legacy routed deployments.
  const baseOf = new Map<string, string>();
  for (const n of [...names].sort()) {
    const override = i.vars.ipsec_leaf_networks[n];
    if (override !== undefined) {
      if (override === n) continue;
      if (!names.has(override)) {
        problems.push({ field: `IpsecVars.ipsec_leaf_networks.${n}`, value: override, message: 'no such network' });
        continue;
      }
      baseOf.set(n, override);
      continue;
    }
    const m = /^(.*[a-z_])\d+$/.exec(n);
    if (m && names.has(m[1]) && (!declared.size || !declared.get(n)?.vip)) baseOf.set(n, m[1]);
  }
  for (const leaf of Object.keys(i.vars.ipsec_leaf_networks)) {
    if (!names.has(leaf)) problems.push({ field: `IpsecVars.ipsec_leaf_networks.${leaf}`, value: leaf, message: 'no such network' });
  }
  // A leaf belongs to a network, never to another leaf: no chains, no cycles.
  for (const [leaf, base] of [...baseOf.entries()].sort()) {
    if (!baseOf.has(base)) continue;
    problems.push({ field: `IpsecVars.ipsec_leaf_networks.${leaf}`, value: base, message: `${base} is itself a leaf (of ${baseOf.get(base)}): name the network both are leaves of` });
  }
  if ([...baseOf.values()].some((b) => baseOf.has(b))) return { all: new Map(), tunnelled: [], addresses: new Map(), logicalOf: (n) => n };
  const logicalOf = (n: string) => baseOf.get(n) ?? n;
  const logical = [...names].filter((n) => !baseOf.has(n)).sort();
  for (const [leaf, base] of [...baseOf.entries()].sort()) notes.push(`network ${leaf} is a leaf of ${base}: one mesh across both (IpsecVars.ipsec_leaf_networks to change)`);

  for (const s of i.vars.ipsec_skip_networks) {
    if (s !== CTLPLANE && !names.has(s)) {
      problems.push({ field: 'IpsecVars.ipsec_skip_networks', value: s, message: i.declared ? 'no such network in network_data' : 'no host of the inventory is on this network' });
    }
  }
  const skip = new Set(i.vars.ipsec_skip_networks.map(logicalOf));

  // Addresses, per logical network.
  const addresses = new Map<string, Map<string, ParsedAddress>>(logical.map((n) => [n, new Map()]));
  const seenOn = new Map<string, string>(); // `${host} ${logical}` -> the network it came from
  for (const h of i.hosts) {
    const ctl = parseAddress(h.vars.ctlplane_ip);
    for (const net of h.nets) {
      if (net === CTLPLANE) continue;
      if (!names.has(net)) {
        if (i.declared) problems.push({ host: h.name, field: 'networks', value: net, message: 'network not in network_data' });
        continue;
      }
      const field = `${net}_ip`;
      const raw = h.vars[field];
      if (raw === undefined || raw === null || raw === '') {
        problems.push({ host: h.name, field, value: show(raw), message: `host is on network ${net} but has no address there` });
        continue;
      }
      const a = parseAddress(raw);
      if (!a) {
        problems.push({ host: h.name, field, value: show(raw), message: 'not an IP address' });
        continue;
      }
      // TripleO writes the ctlplane address for networks a role does not really use.
      if (ctl && ctl.text === a.text) {
        notes.push(`${h.name}: ${field} is its ctlplane address; treated as not on ${net}`);
        continue;
      }
      const l = logicalOf(net);
      const key = `${h.name} ${l}`;
      const other = seenOn.get(key);
      if (other !== undefined) {
        problems.push({ host: h.name, field, value: a.text, message: `a second address on network ${l} (also ${other}_ip): one leaf per host` });
        continue;
      }
      seenOn.set(key, net);
      addresses.get(l)!.set(h.name, a);
    }
  }

  // Subnets and families.
  const varsOf = new Map(i.hosts.map((h) => [h.name, h.vars]));
  const all: NetworkModel['all'] = new Map();
  const tunnelled: Network[] = [];
  for (const net of logical) {
    const members = [...addresses.get(net)!.entries()].sort(([x], [y]) => (x < y ? -1 : 1));
    const leaves = [...baseOf.entries()].filter(([, b]) => b === net).map(([l]) => l).sort();
    const parts = [net, ...leaves];
    const d = declared.get(net);
    let family: IpFamily = d?.family ?? members[0]?.[1].family ?? 4;
    for (const leaf of leaves) {
      const ld = declared.get(leaf);
      if (ld && ld.family !== family) problems.push({ field: `network ${leaf}`, value: `IPv${ld.family}`, message: `a leaf of ${net}, which is IPv${family}` });
    }
    let source: Network['subnetSource'] = 'none';
    let subnets: ParsedCidr[] = [];
    if (i.declared) {
      subnets = parts.flatMap((p) => declared.get(p)?.subnets ?? []).map((c) => parseCidr(c)!);
      if (subnets.length) source = 'network_data';
    } else if (i.netCidrMap && parts.some((p) => i.netCidrMap![p])) {
      for (const p of parts) {
        for (const c of i.netCidrMap[p] ?? []) {
          const x = typeof c === 'string' ? parseCidr(c) : undefined;
          if (!x) problems.push({ field: `net_cidr_map.${p}`, value: show(c), message: 'not a CIDR' });
          else if (x.family === family) subnets.push(x);
        }
      }
      source = 'deployed networks';
    } else {
      // <net>_cidr is per role: each host's own subnet, around its own address.
      for (const [host, a] of members) {
        const hv = varsOf.get(host)!;
        const x = subnetAround(a, parts.map((p) => hv[`${p}_cidr`]).find((v) => v !== undefined));
        if (x && !subnets.some((s) => s.text === x.text)) subnets.push(x);
      }
      subnets.sort((x, y) => (x.text < y.text ? -1 : 1));
      if (subnets.length) source = 'inventory';
    }
    if (!subnets.length) notes.push(`network ${net}: no subnet known; addresses are not checked against one`);
    // Every address: right family, inside one of the subnets, not shared with another host.
    const byAddress = new Map<string, string>();
    for (const [host, a] of members) {
      const field = `${seenOn.get(`${host} ${net}`)}_ip`;
      if (a.family !== family) problems.push({ host, field, value: a.text, message: `network ${net} is IPv${family}` });
      else if (subnets.length && !subnets.some((s) => inSubnet(a, s))) {
        problems.push({ host, field, value: a.text, message: `outside ${net}'s subnet${subnets.length > 1 ? 's' : ''} ${subnets.map((s) => s.text).join(', ')}` });
      } else {
        const s = subnets.find((x) => reservedIn(a, x));
        if (s) problems.push({ host, field, value: a.text, message: `the ${reservedIn(a, s)} address of ${net}'s subnet ${s.text}, not a host's` });
      }
      const other = byAddress.get(a.text);
      if (other) problems.push({ host, field, value: a.text, message: `same address as host ${other} on ${net}` });
      byAddress.set(a.text, host);
    }
    all.set(net, { family, subnets, source, leaves });
    if (!skip.has(net)) tunnelled.push({ name: net, family, subnets: subnets.map((s) => s.text), subnetSource: source, leaves });
  }
  return { all, tunnelled, addresses, logicalOf };
}
