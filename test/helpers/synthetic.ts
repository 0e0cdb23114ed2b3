// Synthetic overclouds of any size, in both inventory shapes, for tests and
// the generation benchmark. Documentation addresses only.
import { stringify } from 'yaml';

export interface SyntheticOptions {
  controllers: number;
  computes: number;
  ceph?: number;
  /** Extra isolated networks beyond the four standard ones (for scale tests). */
  extraNetworks?: number;
}

interface NetSpec { name: string; v6: boolean; subnet: string; addr: (i: number) => string; vip?: string }

function ipv4(base: string, i: number): string {
  const p = base.split('.').map(Number);
  const n = p[0] * 2 ** 24 + p[1] * 2 ** 16 + p[2] * 2 ** 8 + p[3] + i;
  return [Math.floor(n / 2 ** 24), Math.floor(n / 2 ** 16) % 256, Math.floor(n / 2 ** 8) % 256, n % 256].join('.');
}

export function syntheticNetworks(extra = 0): NetSpec[] {
  const nets: NetSpec[] = [
    // Large overclouds need more than a /24: the 2001:db8::/32 space is used for IPv4-sized needs too.
    { name: 'internal_api', v6: false, subnet: '192.0.2.0/24', addr: (i) => ipv4('192.0.2.0', 10 + i), vip: '192.0.2.5' },
    { name: 'storage', v6: false, subnet: '198.51.100.0/24', addr: (i) => ipv4('198.51.100.0', 10 + i), vip: '198.51.100.5' },
    { name: 'storage_mgmt', v6: true, subnet: '2001:db8:30::/64', addr: (i) => `2001:db8:30::${(0x10 + i).toString(16)}`, vip: '2001:db8:30::5' },
    { name: 'tenant', v6: false, subnet: '203.0.113.0/24', addr: (i) => ipv4('203.0.113.0', 10 + i) },
  ];
  for (let k = 0; k < extra; k++) {
    nets.push({ name: `extra${k}`, v6: true, subnet: `2001:db8:${(0x100 + k).toString(16)}::/64`, addr: (i) => `2001:db8:${(0x100 + k).toString(16)}::${(0x10 + i).toString(16)}` });
  }
  return nets;
}

/** When there are more nodes than a /24 holds, all networks move to IPv6 documentation space. */
export function syntheticOvercloud(o: SyntheticOptions) {
  const total = o.controllers + o.computes + (o.ceph ?? 0);
  let nets = syntheticNetworks(o.extraNetworks ?? 0);
  if (total > 200) {
    nets = nets.map((n, k) => ({
      ...n,
      v6: true,
      subnet: `2001:db8:${(0x200 + k).toString(16)}::/64`,
      addr: (i: number) => `2001:db8:${(0x200 + k).toString(16)}::${(0x10 + i).toString(16)}`,
      vip: n.vip ? `2001:db8:${(0x200 + k).toString(16)}::5` : undefined,
    }));
  }
  const roles = [
    { role: 'Controller', prefix: 'overcloud-controller', count: o.controllers, nets: nets.map((n) => n.name) },
    { role: 'Compute', prefix: 'overcloud-novacompute', count: o.computes, nets: nets.filter((n) => n.name !== 'storage_mgmt').map((n) => n.name) },
    { role: 'CephStorage', prefix: 'overcloud-cephstorage', count: o.ceph ?? 0, nets: ['storage', 'storage_mgmt'] },
  ];
  const inventory: Record<string, unknown> = {};
  let idx = 0;
  for (const r of roles) {
    if (r.count === 0) continue;
    const hosts: Record<string, Record<string, string>> = {};
    for (let i = 0; i < r.count; i++, idx++) {
      const h: Record<string, string> = { ctlplane_ip: `2001:db8:ff::${(0x10 + idx).toString(16)}` };
      for (const n of nets) if (r.nets.includes(n.name)) h[`${n.name}_ip`] = n.addr(idx);
      hosts[`${r.prefix}-${i}`] = h;
    }
    inventory[r.role] = { hosts, vars: { tripleo_role_name: r.role, tripleo_role_networks: ['ctlplane', ...r.nets] } };
  }
  const vipVars: Record<string, string> = {};
  for (const n of nets) if (n.vip) vipVars[`${n.name}_vip`] = n.vip;
  const internal = nets[0];
  vipVars.redis_vip = internal.v6 ? internal.vip!.replace(/::5$/, '::6') : '192.0.2.6';
  inventory.overcloud = { children: Object.fromEntries(roles.filter((r) => r.count).map((r) => [r.role, {}])), vars: vipVars };
  inventory.pacemaker = { children: { Controller: {} } };
  const networkData = nets.map((n) => ({
    name: n.name.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase()),
    name_lower: n.name,
    vip: !!n.vip,
    enabled: true,
    ...(n.v6 ? { ipv6: true, ipv6_subnet: n.subnet } : { ip_subnet: n.subnet }),
  }));
  return { inventory, networkData };
}

export function toStaticYaml(inv: Record<string, unknown>): string {
  return stringify(inv);
}

/** The dynamic-inventory JSON shape: group host lists, children lists, _meta.hostvars. */
export function toDynamicJson(inv: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  const hostvars: Record<string, unknown> = {};
  for (const [g, body] of Object.entries(inv) as [string, Record<string, unknown>][]) {
    const entry: Record<string, unknown> = {};
    if (body.hosts) {
      entry.hosts = Object.keys(body.hosts as object);
      Object.assign(hostvars, body.hosts);
    }
    if (body.children) entry.children = Object.keys(body.children as object);
    if (body.vars) entry.vars = body.vars;
    out[g] = entry;
  }
  out._meta = { hostvars };
  return JSON.stringify(out, null, 1);
}
