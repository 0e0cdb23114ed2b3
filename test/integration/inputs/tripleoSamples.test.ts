// generate on the files real TripleO deployments produce
// (test/fixtures/tripleo-samples: network_data in every format, routed
// spine-leaf ones included, and tripleo-common's own inventory fixtures),
// each checked for its exact tunnel set and by libreswan's own parser.
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { generate, type GenerateResult } from '../../../src/generate.js';
import { checkconfigIpsecDir } from '../../helpers/checkconfig.js';
import { normalizeInventory, effectiveVars, hostsOfGroup } from '../../../src/model/inventory.js';
import { writeOutputTreeSync } from '../../../src/output/outputTree.js';
import { scratchDir, writeInputs } from '../../helpers/inputs.js';

const SAMPLES = join(__dirname, '..', '..', 'fixtures', 'tripleo-samples');
const ND = join(SAMPLES, 'network_data');
const INV = join(SAMPLES, 'inventory');

/** Each logical network and its subnets, as the files say (read by hand; legacy leaves merged into their network). */
const ROUTED: Record<string, Record<string, string[]>> = {
  'v1-network_data_routed.yaml': {
    storage: ['172.16.16.0/24', '172.16.17.0/24'], storage_mgmt: ['172.16.48.0/24', '172.16.49.0/24'], internal_api: ['172.16.32.0/24', '172.16.33.0/24'],
    tenant: ['172.16.0.0/24', '172.16.1.0/24'], external: ['10.0.0.0/24'], management: ['10.0.1.0/24'],
  },
  'v1-network_data_subnets_routed.yaml': {
    external: ['10.0.0.0/24'], internal_api: ['172.17.0.0/24', '172.17.1.0/24'], storage: ['172.18.0.0/24', '172.18.1.0/24'],
    storage_mgmt: ['172.19.0.0/24', '172.19.1.0/24'], tenant: ['172.16.0.0/24', '172.16.1.0/24'], management: ['172.20.0.0/24', '172.20.1.0/24'],
  },
  'v2-routed-networks.yaml': {
    storage: ['172.16.16.0/24', '172.16.17.0/24'], storage_mgmt: ['172.16.48.0/24', '172.16.49.0/24'], internal_api: ['172.16.32.0/24', '172.16.33.0/24'],
    tenant: ['172.16.0.0/24', '172.16.1.0/24'], external: ['10.0.0.0/24'],
  },
  'v2-legacy-routed-networks.yaml': {
    storage: ['172.16.16.0/24', '172.16.17.0/24'], storage_mgmt: ['172.16.48.0/24', '172.16.49.0/24'], internal_api: ['172.16.32.0/24', '172.16.33.0/24'],
    tenant: ['172.16.0.0/24', '172.16.1.0/24'], external: ['10.0.0.0/24'],
  },
  'v2-routed-networks-ipv6.yaml': {
    storage: ['fd00:fd00:fd00:3000::/64', 'fd00:fd00:fd00:3004::/64'], storage_mgmt: ['fd00:fd00:fd00:4000::/64', 'fd00:fd00:fd00:4004::/64'],
    internal_api: ['fd00:fd00:fd00:2000::/64', 'fd00:fd00:fd00:2004::/64'], tenant: ['fd00:fd00:fd00:5000::/64', 'fd00:fd00:fd00:5004::/64'], external: ['2001:db8:fd00:1000::/64'],
  },
  'v2-legacy-routed-networks-ipv6.yaml': {
    storage: ['fd00:fd00:fd00:3000::/64', 'fd00:fd00:fd00:3004::/64'], storage_mgmt: ['fd00:fd00:fd00:4000::/64', 'fd00:fd00:fd00:4004::/64'],
    internal_api: ['fd00:fd00:fd00:2000::/64', 'fd00:fd00:fd00:2004::/64'], tenant: ['fd00:fd00:fd00:5000::/64', 'fd00:fd00:fd00:5004::/64'], external: ['2001:db8:fd00:1000::/64'],
  },
};
/** Not network_data: the Wallaby VIP definitions (`openstack overcloud network vip provision`), no addresses in them. */
const NOT_NETWORK_DATA = new Set(['v2-vip-data-default-network-isolation.yaml', 'v2-vip-data-routed-networks.yaml']);

type RawNet = { name: string; name_lower?: string; ipv6?: boolean; vip?: boolean; enabled?: boolean; ip_subnet?: string; ipv6_subnet?: string; subnets?: Record<string, { ip_subnet?: string; ipv6_subnet?: string }> };

/** A network's subnets in its family: the top-level one (v1), then the `subnets:` map's. */
const subnetsOf = (n: RawNet) => [n.ipv6 ? n.ipv6_subnet : n.ip_subnet, ...Object.values(n.subnets ?? {}).map((s) => (n.ipv6 ? s.ipv6_subnet : s.ip_subnet))].filter((x): x is string => !!x);

/** The nth address of a CIDR (IPv4 /24 or IPv6 /64 in these files). */
function nth(cidr: string, n: number): string {
  const [net] = cidr.split('/');
  if (net.includes(':')) return `${net.replace(/::$/, '')}::${n.toString(16)}`;
  const p = net.split('.').map(Number);
  return `${p[0]}.${p[1]}.${p[2]}.${p[3] + n}`;
}

/**
 * The inventory tripleo-ansible-inventory would write for a routed overcloud
 * on these networks: 3 controllers (pacemaker) in the first leaf, 2 computes
 * in the last; a legacy leaf network's hosts have `<leaf>_ip` and the leaf in
 * their role's networks.
 */
function inventoryFor(nets: RawNet[]) {
  const sub = subnetsOf;
  const lower = (n: RawNet) => n.name_lower ?? n.name.toLowerCase();
  const enabled = nets.filter((n) => n.enabled !== false);
  const leafOf = new Map<string, RawNet>();
  for (const n of enabled) {
    const base = enabled.find((b) => b !== n && lower(n) === `${lower(b)}2`);
    if (base) leafOf.set(lower(base), n);
  }
  const bases = enabled.filter((n) => ![...leafOf.values()].includes(n));
  const controllers: Record<string, Record<string, unknown>> = {};
  const computes: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < 3; i++) {
    const h: Record<string, unknown> = { ctlplane_ip: `192.168.24.${10 + i}` };
    for (const n of bases) h[`${lower(n)}_ip`] = nth(sub(n)[0], 10 + i);
    controllers[`overcloud-controller-${i}`] = h;
  }
  const computeNets: string[] = ['ctlplane'];
  for (let i = 0; i < 2; i++) {
    const h: Record<string, unknown> = { ctlplane_ip: `192.168.25.${20 + i}` };
    for (const n of bases) {
      const leaf = leafOf.get(lower(n));
      const net = leaf ? lower(leaf) : lower(n);
      const s = leaf ? sub(leaf) : sub(n);
      h[`${net}_ip`] = nth(s[s.length - 1], 20 + i);
      if (i === 0) computeNets.push(leaf ? leaf.name : n.name);
    }
    computes[`overcloud-novacompute-${i}`] = h;
  }
  const vars: Record<string, string> = {};
  for (const n of bases.filter((x) => x.vip)) vars[`${lower(n)}_vip`] = nth(sub(n)[0], 100);
  return {
    Undercloud: { hosts: { undercloud: {} }, vars: { plan: 'overcloud' } },
    // tripleo_role_networks in TripleO's own spelling (network names, CamelCase)
    Controller: { hosts: controllers, vars: { tripleo_role_name: 'Controller', tripleo_role_networks: ['ctlplane', ...bases.map((n) => n.name)] } },
    Compute: { hosts: computes, vars: { tripleo_role_name: 'Compute', tripleo_role_networks: computeNets } },
    allovercloud: { children: { Controller: {}, Compute: {} }, vars },
    overcloud: { children: { allovercloud: {} } },
    pacemaker: { children: { Controller: {} } },
  };
}

/** conn names per host, from the files generate wrote. */
function connsByHost(r: GenerateResult): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of r.files) {
    const m = /^([^/]+)\/etc\/ipsec\.d\/(?!overcloud-vip-holder\/).*\.conf$/.exec(f.path);
    if (!m) continue;
    const set = out.get(m[1]) ?? new Set<string>();
    for (const c of f.content.matchAll(/^conn (\S+)$/gm)) set.add(c[1]);
    out.set(m[1], set);
  }
  return out;
}

/** What every host must have: a conn to every other host on each network they share, its end of each VIP on its networks, nothing else. */
function expectExactTunnels(r: GenerateResult, hosts: Record<string, Record<string, string>>, vips: Record<string, string>) {
  const got = connsByHost(r);
  for (const [h, nets] of Object.entries(hosts)) {
    const want = new Set<string>();
    for (const net of Object.keys(nets)) {
      for (const [p, pn] of Object.entries(hosts)) if (p !== h && pn[net] !== undefined) want.add(`overcloud-${net}-to-${p}`);
      for (const [vip, vnet] of Object.entries(vips)) if (vnet === net) want.add(`overcloud-${vip}-vip-tunnel`);
    }
    expect([...(got.get(h) ?? [])].sort(), h).toEqual([...want].sort());
  }
}

/** generate on an inventory (an object in Ansible's shape, or a file's text) and a network_data.yaml's text. */
function generateIn(dir: string, inventory: unknown, networkData?: string, extra: { stack?: string; sets?: string[] } = {}) {
  mkdirSync(dir, { recursive: true });
  const text = typeof inventory === 'string' ? inventory : stringify(inventory);
  return generate(writeInputs(dir, { inventory: text, networkData }, { sets: extra.sets ?? [], stack: extra.stack }));
}

function checkconfigAll(r: GenerateResult, dir: string) {
  const out = join(dir, 'out');
  writeOutputTreeSync(out, r.eachFile());
  for (const n of r.overcloud.nodes) {
    const c = checkconfigIpsecDir(join(out, n.name, 'etc', 'ipsec.d'));
    expect(c.output, n.name).toBe('');
    expect(c.ok, n.name).toBe(true);
  }
}

/** Run `fn` in a scratch directory removed afterwards, failed or not. */
function inScratch(fn: (dir: string) => void) {
  const s = scratchDir();
  try {
    fn(s.dir);
  } finally {
    s.cleanup();
  }
}

const noCtlplaneIn = (r: GenerateResult) => {
  for (const f of r.files) if (/\.conf$/.test(f.path)) expect(f.content, f.path).not.toMatch(/=192\.168\.2[45]\./);
};

describe('generate on every real network_data sample (3 controllers in the first leaf, 2 computes in the last)', () => {
  const files = readdirSync(ND).filter((f) => f.endsWith('.yaml') && !NOT_NETWORK_DATA.has(f)).sort();

  it.each(files)('%s: one mesh per logical network across its leaves, every VIP end, nothing to ctlplane, checkconfig clean', (file) => {
    inScratch((dir) => {
      const text = readFileSync(join(ND, file), 'utf8');
      const nets = (parse(text) ?? []) as RawNet[];
      if (nets.length === 0) {
        // The default (ctlplane only): no isolated network, nothing to tunnel.
        const r = generateIn(dir, inventoryFor(nets), text);
        expect(r.overcloud.networks).toEqual([]);
        expect(connsByHost(r).size).toBe(0);
        return;
      }
      const r = generateIn(dir, inventoryFor(nets), text);
      const expected = ROUTED[file];
      if (expected) {
        expect(Object.fromEntries(r.overcloud.networks.map((n) => [n.name, n.subnets]))).toEqual(expected);
      } else {
        // Flat files: each enabled network is its own, with its one subnet.
        const flat = Object.fromEntries(nets.filter((n) => n.enabled !== false).map((n) => [n.name_lower ?? n.name.toLowerCase(), subnetsOf(n)]));
        expect(Object.fromEntries(r.overcloud.networks.map((n) => [n.name, n.subnets]))).toEqual(flat);
      }
      // Hosts' logical addresses, as the test placed them.
      const hosts: Record<string, Record<string, string>> = {};
      for (const n of r.overcloud.nodes) hosts[n.name] = n.addresses;
      expect(Object.keys(hosts).sort()).toEqual(['overcloud-controller-0', 'overcloud-controller-1', 'overcloud-controller-2', 'overcloud-novacompute-0', 'overcloud-novacompute-1']);
      for (const h of Object.values(hosts)) expect(Object.keys(h).sort()).toEqual(Object.keys(expected ?? hosts['overcloud-controller-0']).sort());
      const vips = Object.fromEntries(r.overcloud.vips.map((v) => [v.name, v.network]));
      expect(Object.keys(vips).sort()).toEqual(nets.filter((n) => n.vip && n.enabled !== false).map((n) => n.name_lower ?? n.name.toLowerCase()).sort());
      expectExactTunnels(r, hosts, vips);
      noCtlplaneIn(r);
      checkconfigAll(r, dir);
    });
  });

  it('a leaf1 address outside every subnet of its network is still an error naming host, field and value', () => {
    inScratch((dir) => {
      const text = readFileSync(join(ND, 'v2-routed-networks.yaml'), 'utf8');
      const inv = inventoryFor(parse(text) as RawNet[]);
      (inv.Compute.hosts['overcloud-novacompute-0'] as Record<string, unknown>).internal_api_ip = '172.16.34.20';
      expect(() => generateIn(dir, inv, text)).toThrow(/host overcloud-novacompute-0: internal_api_ip="172\.16\.34\.20": outside internal_api's subnets 172\.16\.32\.0\/24, 172\.16\.33\.0\/24/);
    });
  });

  it('ipsec_leaf_networks keeps a legacy leaf network a mesh of its own', () => {
    inScratch((dir) => {
      const text = readFileSync(join(ND, 'v2-legacy-routed-networks.yaml'), 'utf8');
      const r = generateIn(dir, inventoryFor(parse(text) as RawNet[]), text, { sets: ['ipsec_leaf_networks={internal_api2: internal_api2}'] });
      expect(r.overcloud.networks.find((n) => n.name === 'internal_api')!.subnets).toEqual(['172.16.32.0/24']);
      expect(r.overcloud.networks.find((n) => n.name === 'internal_api2')!.subnets).toEqual(['172.16.33.0/24']);
      const c0 = connsByHost(r).get('overcloud-controller-0')!;
      expect([...c0].filter((c) => c.startsWith('overcloud-internal_api-to-')).sort()).toEqual(['overcloud-internal_api-to-overcloud-controller-1', 'overcloud-internal_api-to-overcloud-controller-2']);
    });
  });
});

describe("generate on tripleo-common's own inventory fixtures (no network_data: subnets from the inventory)", () => {
  /** The tunnels each host must have, from the fixture's own variables: every network it lists whose address is not its ctlplane address. */
  function expectedHosts(text: string, stack?: string) {
    const inv = normalizeInventory(parse(text) as Record<string, unknown>);
    const group = stack ?? (inv.groups.has('overcloud') ? 'overcloud' : 'allovercloud');
    const hosts: Record<string, Record<string, string>> = {};
    for (const h of hostsOfGroup(inv, group)) {
      const v = effectiveVars(inv, h);
      const nets = (v.tripleo_role_networks as string[]).filter((n) => n !== 'ctlplane');
      hosts[h] = Object.fromEntries(nets.filter((n) => v[`${n}_ip`] !== v.ctlplane_ip).map((n) => [n, String(v[`${n}_ip`])]));
    }
    return hosts;
  }

  const cases: [string, string | undefined, Record<string, string>][] = [
    // file, --stack, VIPs expected (name -> network)
    ['overcloud_static.pcmk.yaml', undefined, { internal_api: 'internal_api', redis: 'internal_api', storage: 'storage', storage_mgmt: 'storage_mgmt', external: 'external' }],
    ['overcloud_dynamic.pcmk.json', undefined, { internal_api: 'internal_api', redis: 'internal_api', storage: 'storage', storage_mgmt: 'storage_mgmt', external: 'external' }],
    ['merged_static.pcmk.yaml', undefined, { internal_api: 'internal_api', redis: 'internal_api', storage: 'storage', storage_mgmt: 'storage_mgmt', external: 'external' }],
    // cell1's nodes are in no pacemaker group of the merged fixture (only overcloud_pacemaker is): no VIP tunnels.
    ['merged_static.pcmk.yaml', 'cell1', {}],
    ['cell1_static.pcmk.yaml', undefined, { internal_api: 'internal_api', storage: 'storage', storage_mgmt: 'storage_mgmt', external: 'external' }],
  ];

  it.each(cases)('%s (stack %s): exactly the hosts of the stack, every pair on each network, the VIPs, nothing to ctlplane, checkconfig clean', (file, stack, vips) => {
    inScratch((dir) => {
      const text = readFileSync(join(INV, file), 'utf8');
      const r = generateIn(dir, text, undefined, { stack });
      const hosts = expectedHosts(text, stack === 'cell1' ? 'cell1' : file.startsWith('cell1') ? 'cell1' : 'overcloud');
      expect(r.overcloud.nodes.map((n) => n.name).sort()).toEqual(Object.keys(hosts).sort());
      for (const n of r.overcloud.nodes) expect(n.addresses, n.name).toEqual(hosts[n.name]);
      expect(Object.fromEntries(r.overcloud.vips.map((v) => [v.name, v.network]))).toEqual(vips);
      expectExactTunnels(r, hosts, vips);
      noCtlplaneIn(r);
      checkconfigAll(r, dir);
      if (file.startsWith('merged')) expect(r.overcloud.notes.join('\n')).toMatch(stack === 'cell1' ? /stack overcloud not included .*--stack overcloud/ : /stack cell1 not included \(its hosts: cell1-cellcontrol-0, cell1-compute-0\)/);
      // A cell stack's redis_vip is its ctlplane_vip: no tunnel, and a note says so.
      if (stack === 'cell1' || file.startsWith('cell1')) expect(r.overcloud.notes).toContain('redis_vip 192.168.24.21 is a ctlplane address: no tunnel (ctlplane is never tunnelled)');
    });
  });

  it('the ipsec service group and excluded_overcloud decide who gets tunnels, and a note names who was left out', () => {
    inScratch((dir) => {
      const doc = parse(readFileSync(join(INV, 'overcloud_static.pcmk.yaml'), 'utf8')) as Record<string, unknown>;
      const with1 = { ...doc, ipsec: { children: { Controller: {} } } };
      const r = generateIn(join(dir, 'a'), with1);
      expect(r.overcloud.nodes.map((n) => n.name)).toEqual(['overcloud-controller-0']);
      expect(r.overcloud.notes).toContain('not in the ipsec service group, so no tunnels: overcloud-novacompute-0');
      const with2 = { ...doc, excluded_overcloud: { hosts: { 'overcloud-novacompute-0': {} } } };
      const r2 = generateIn(join(dir, 'b'), with2);
      expect(r2.overcloud.nodes.map((n) => n.name)).toEqual(['overcloud-controller-0']);
      expect(r2.overcloud.notes).toContain('in excluded_overcloud, so no tunnels: overcloud-novacompute-0');
      expect(r2.files.some((f) => f.path.startsWith('overcloud-novacompute-0/'))).toBe(false);
    });
  });

  it('a multi-stack inventory with no overcloud stack and no --stack: one error naming the stacks', () => {
    inScratch((dir) => {
      const doc = parse(readFileSync(join(INV, 'merged_static.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
      (doc.Undercloud.vars as Record<string, unknown>).plans = ['cell1', 'edge1'];
      expect(() => generateIn(dir, doc)).toThrow(/--stack="<none>": the inventory has several stacks \(cell1, edge1\): name one/);
    });
  });
});
