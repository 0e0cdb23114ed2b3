// The VIPs that get tunnels (pure). A network's own VIP is `<net>_vip`;
// service VIPs (Redis, OVN DBs, ...) come from the inventory (`redis_vip`,
// what tripleo-ansible-inventory writes) or else from the service VIP data
// config-download writes since Wallaby (service_vip_vars.yaml: {redis: IP,
// ovn_dbs: IP}), and ride on the tunnelled network whose subnet holds them.
// A VIP that is a ctlplane address (a cell stack's redis_vip is its
// ctlplane_vip), or lies in no tunnelled network, gets no tunnel and a note.
import { inSubnet, parseAddress, reservedIn, subnetAround, type ParsedAddress, type ParsedCidr } from './addresses.js';
import { type Problem, show } from './problems.js';
import type { Vars } from './inventory.js';
import { CTLPLANE, NETWORK_NAME } from './names.js';
import type { NetworkModel } from './networks.js';
import type { Vip } from './types.js';

/** TripleO puts the redis VIP on internal_api unless told otherwise (RedisNetwork). */
const DEFAULT_SERVICE_NETWORK: Record<string, string> = { redis: 'internal_api', ovn_dbs: 'internal_api' };

export interface VipInputs {
  /** The stack's group variables (where tripleo-ansible-inventory puts <net>_vip and redis_vip). */
  stackVars: Vars;
  /** Every included host's variables (ctlplane addresses). */
  hostVars: Vars[];
  networks: NetworkModel;
  /** service_vip_vars.yaml, when given: service name -> address (or a list of them). */
  serviceVips?: Record<string, unknown>;
}

export function resolveVips(i: VipInputs, problems: Problem[], notes: string[]): Vip[] {
  const { networks: nets } = i;
  const tunnelled = new Set(nets.tunnelled.map((n) => n.name));
  const leaves = new Set([...nets.all.values()].flatMap((n) => n.leaves));
  // What is ctlplane: its VIP, every host's ctlplane address, and its subnet where a host says it.
  const ctlplane = new Set<string>();
  const ctlVip = parseAddress(i.stackVars.ctlplane_vip);
  if (ctlVip) ctlplane.add(ctlVip.text);
  const ctlSubnets = i.hostVars.flatMap((v): ParsedCidr[] => {
    const a = parseAddress(v.ctlplane_ip);
    if (!a) return [];
    ctlplane.add(a.text);
    const s = subnetAround(a, v.ctlplane_subnet_cidr ?? v.ctlplane_cidr);
    return s ? [s] : [];
  });
  const isCtlplane = (a: ParsedAddress) => ctlplane.has(a.text) || ctlSubnets.some((s) => inSubnet(a, s));
  const holderOf = (a: ParsedAddress) =>
    [...nets.all.entries()].sort(([x], [y]) => (x < y ? -1 : 1)).find(([, n]) => n.subnets.some((s) => inSubnet(a, s)))?.[0];

  const candidates: { name: string; network?: string; raw: unknown; field: string }[] = [];
  for (const net of [...nets.all.keys()].sort()) {
    const raw = i.stackVars[`${net}_vip`];
    if (raw !== undefined && raw !== null && raw !== '') candidates.push({ name: net, network: net, raw, field: `${net}_vip` });
  }
  // Service VIPs: any other <name>_vip of the stack, then the service VIP data for services the inventory does not name.
  const services = new Map<string, { raw: unknown; field: string }>();
  for (const [k, raw] of Object.entries(i.stackVars).sort(([x], [y]) => (x < y ? -1 : 1))) {
    const m = /^([a-z][a-z0-9_]*)_vip$/.exec(k);
    if (!m && /_vip$/i.test(k) && raw !== undefined && raw !== null && raw !== '') {
      notes.push(`${k} looks like a service VIP, but its name is not a plain identifier (a-z, 0-9, _): no tunnel for it`);
      continue;
    }
    if (!m || m[1] === CTLPLANE || nets.all.has(m[1]) || leaves.has(m[1]) || raw === undefined || raw === null || raw === '') continue;
    services.set(m[1], { raw, field: k });
  }
  for (const [svc, raw] of Object.entries(i.serviceVips ?? {}).sort(([x], [y]) => (x < y ? -1 : 1))) {
    if (!services.has(svc) && !nets.all.has(svc)) services.set(svc, { raw, field: `service_vip_vars.${svc}` });
  }
  for (const [svc, s] of services) {
    if (!NETWORK_NAME.test(svc)) {
      problems.push({ field: s.field, value: svc, message: 'a service VIP name must be a plain identifier (a-z, 0-9, _)' });
      continue;
    }
    candidates.push({ name: svc, raw: s.raw, field: s.field });
  }

  const vips: Vip[] = [];
  for (const c of candidates) {
    let raw = c.raw;
    if (Array.isArray(raw)) {
      // A port with several fixed IPs: the first, as Pacemaker's VIP resource takes it.
      if (raw.length > 1) notes.push(`${c.field} lists ${raw.length} addresses: the tunnel is for the first, ${show(raw[0])}`);
      raw = raw[0];
    }
    const a = parseAddress(raw);
    if (!a) {
      problems.push({ field: c.field, value: show(raw), message: 'VIP is not an IP address' });
      continue;
    }
    if (!c.network && isCtlplane(a)) {
      notes.push(`${c.field} ${a.text} is a ctlplane address: no tunnel (ctlplane is never tunnelled)`);
      continue;
    }
    let network = c.network;
    if (!network) {
      network = holderOf(a);
      const fallback = DEFAULT_SERVICE_NETWORK[c.name];
      if (!network && fallback && nets.all.has(fallback) && nets.all.get(fallback)!.subnets.length === 0) {
        network = fallback;
        notes.push(`${c.field} ${a.text}: no subnet holds it; assumed on ${fallback} (TripleO's default)`);
      }
      if (!network) {
        notes.push(`${c.field} ${a.text} lies in no tunnelled network: no tunnel`);
        continue;
      }
    }
    const n = nets.all.get(network)!;
    if (n.subnets.length && !n.subnets.some((s) => inSubnet(a, s))) {
      problems.push({ field: c.field, value: a.text, message: `outside ${network}'s subnet${n.subnets.length > 1 ? 's' : ''} ${n.subnets.map((s) => s.text).join(', ')}` });
      continue;
    }
    const reserved = n.subnets.find((s) => reservedIn(a, s));
    if (reserved) {
      problems.push({ field: c.field, value: a.text, message: `the ${reservedIn(a, reserved)} address of ${network}'s subnet ${reserved.text}, not one a VIP can have` });
      continue;
    }
    if (a.family !== n.family) {
      problems.push({ field: c.field, value: a.text, message: `network ${network} is IPv${n.family}` });
      continue;
    }
    const holder = [...(nets.addresses.get(network)?.entries() ?? [])].find(([, x]) => x.text === a.text);
    if (holder) {
      problems.push({ host: holder[0], field: c.field, value: a.text, message: `VIP equals the address of host ${holder[0]}` });
      continue;
    }
    if (!tunnelled.has(network)) continue;
    vips.push({ name: c.name, network, address: a.text });
  }
  const dup = new Map<string, string>();
  for (const v of vips) {
    const o = dup.get(v.address);
    if (o) problems.push({ field: `${v.name}_vip`, value: v.address, message: `same address as ${o}_vip` });
    dup.set(v.address, v.name);
  }
  return vips.sort((a, b) => (a.name < b.name ? -1 : 1));
}
