// Inputs that used to pass silently, or end in a stack trace: each now gets
// one clear problem (or a note, where nothing is lost), naming host, field
// and value.
import { spawnSync } from 'node:child_process';
import { writeFileSync, closeSync, openSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/model/errors.js';
import type { Problem } from '../../../src/model/problems.js';
import { pskProblems } from '../../../src/model/ipsecVars.js';
import { readInputBytes } from '../../../src/inputs/read.js';
import { parseAddress, parseCidr, reservedIn } from '../../../src/model/addresses.js';
import { generateFrom, scratchDir, small, TEST_PSK } from '../../helpers/inputs.js';

function problemsOf(fn: () => unknown): Problem[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    throw e;
  }
  return [];
}

const withVars = (vars: Record<string, unknown>) => ({ ...small(), env: { parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK, ...vars } } } });

describe('weak pre-shared keys are refused with a reason', () => {
  it.each([
    [' '.repeat(40), 'is only whitespace'],
    ['\t'.repeat(10) + ' '.repeat(30), 'holds a quote, backslash, newline or other control character'],
    ['x'.repeat(48), 'is one character repeated'],
    ['abcabcabcabcabcabcabcabcabcabcabcabc', 'uses only 3 different characters'],
  ])('%j: %s', (psk, reason) => {
    const p = pskProblems(psk);
    expect(p.map((x) => x.message).join('; ')).toContain(reason);
    expect(JSON.stringify(p)).not.toContain(psk.trim() || '\u0000');
  });

  it('a generated key and a hex key pass', () => {
    expect(pskProblems('0123456789abcdef0123456789abcdef')).toEqual([]);
    expect(pskProblems(TEST_PSK)).toEqual([]);
  });
});

describe('IpsecVars', () => {
  it('__proto__ is an unknown variable, not silently dropped', () => {
    const p = problemsOf(() => generateFrom({ ...small(), env: { parameter_defaults: { IpsecVars: JSON.parse(`{"ipsec_psk": "${TEST_PSK}", "__proto__": {"ipsec_policy": "private-or-clear"}}`) } } }));
    expect(p.map((x) => [x.field, x.value])).toEqual([['IpsecVars.__proto__', '<a mapping of 1 key(s)>']]);
  });

  it('an ipsec_leaf_networks cycle is a problem on each leaf, not a TypeError', () => {
    const inputs = withVars({ ipsec_leaf_networks: { storage: 'tenant', tenant: 'storage' } });
    const p = problemsOf(() => generateFrom(inputs));
    expect(p.map((x) => x.field).sort()).toEqual(['IpsecVars.ipsec_leaf_networks.storage', 'IpsecVars.ipsec_leaf_networks.tenant']);
    expect(p[0].message).toMatch(/is itself a leaf/);
  });
});

describe('addresses no host or VIP may have', () => {
  it("a network's network and broadcast address as a host's address, and as a VIP", () => {
    const o = small();
    const inv = o.inventory as Record<string, any>;
    inv.Controller.hosts['overcloud-controller-0'].internal_api_ip = '192.0.2.0';
    inv.Controller.hosts['overcloud-controller-1'].internal_api_ip = '192.0.2.255';
    inv.overcloud.vars.storage_vip = '198.51.100.255';
    inv.overcloud.vars.storage_mgmt_vip = '2001:db8:30::';
    const p = problemsOf(() => generateFrom(o));
    expect(p.map((x) => [x.host, x.field, x.value, x.message])).toEqual([
      ['overcloud-controller-0', 'internal_api_ip', '192.0.2.0', "the network address of internal_api's subnet 192.0.2.0/24, not a host's"],
      ['overcloud-controller-1', 'internal_api_ip', '192.0.2.255', "the broadcast address of internal_api's subnet 192.0.2.0/24, not a host's"],
      [undefined, 'storage_vip', '198.51.100.255', "the broadcast address of storage's subnet 198.51.100.0/24, not one a VIP can have"],
      [undefined, 'storage_mgmt_vip', '2001:db8:30::', "the network address of storage_mgmt's subnet 2001:db8:30::/64, not one a VIP can have"],
    ]);
  });

  it('a /31, a /32 and an IPv6 /127 have no such addresses; a /30 and an IPv6 /64 do', () => {
    const r = (a: string, c: string) => reservedIn(parseAddress(a)!, parseCidr(c)!);
    expect([r('203.0.113.10', '203.0.113.10/31'), r('203.0.113.11', '203.0.113.10/31'), r('203.0.113.10', '203.0.113.10/32'), r('2001:db8::', '2001:db8::/127')]).toEqual([undefined, undefined, undefined, undefined]);
    expect([r('203.0.113.8', '203.0.113.8/30'), r('203.0.113.11', '203.0.113.8/30'), r('203.0.113.9', '203.0.113.8/30')]).toEqual(['network', 'broadcast', undefined]);
    expect([r('2001:db8::', '2001:db8::/64'), r('2001:db8::ffff:ffff:ffff:ffff', '2001:db8::/64'), r('10.0.0.0', '203.0.113.0/24')]).toEqual(['network', undefined, undefined]);
  });
});

describe('what used to be dropped without a word', () => {
  it('an inventory variable that looks like a service VIP but is not an identifier: a note', () => {
    const o = small();
    (o.inventory as Record<string, any>).overcloud.vars['OVN-DBs_vip'] = '192.0.2.7';
    expect(generateFrom(o).overcloud.notes).toContain('OVN-DBs_vip looks like a service VIP, but its name is not a plain identifier (a-z, 0-9, _): no tunnel for it');
  });

  it('a canonical_hostname that is not a DNS name: a note', () => {
    const o = small();
    (o.inventory as Record<string, any>).Controller.hosts['overcloud-controller-0'].canonical_hostname = 'bad name!';
    expect(generateFrom(o).overcloud.notes).toContain('overcloud-controller-0: canonical_hostname "bad name!" is not a DNS name: its certificate and ids use the host name');
  });
});

describe("a global enabled_networks in TripleO's own spelling, without network_data", () => {
  it("is matched to each role's tripleo_role_networks: every host keeps its own networks", () => {
    const o = small();
    const inv = o.inventory as Record<string, any>;
    // As THT's EnabledNetworks writes them: the names of the default network_data.
    inv.overcloud.vars.enabled_networks = ['External', 'InternalApi', 'Storage', 'StorageMgmt', 'Tenant', 'Management'];
    const r = generateFrom({ inventory: inv });
    const addressesOf = (h: string) => Object.keys(r.overcloud.nodes.find((n) => n.name === h)!.addresses).sort();
    expect(addressesOf('overcloud-controller-0')).toEqual(['internal_api', 'storage', 'storage_mgmt', 'tenant']);
    expect(addressesOf('overcloud-novacompute-0')).toEqual(['internal_api', 'storage', 'tenant']);
    expect(addressesOf('overcloud-cephstorage-0')).toEqual(['storage', 'storage_mgmt']);
  });
});

describe('inputs that are not regular files, or too large', () => {
  const s = scratchDir();
  afterAll(() => s.cleanup());
  const CLI = join(__dirname, '..', '..', '..', 'bin', 'tripleo-ipsec');
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });

  it('/dev/zero is refused at once as a device', () => {
    const t0 = Date.now();
    const r = run(['generate', '-i', '/dev/zero', '--out', join(s.dir, 'o1')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('tripleo-ipsec: inventory /dev/zero is a device: give a regular file; nothing was written\n');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a FIFO is refused without waiting for a writer', () => {
    const fifo = join(s.dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    const r = run(['generate', '-i', fifo, '--out', join(s.dir, 'o2')]);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`tripleo-ipsec: inventory ${fifo} is a FIFO: give a regular file; nothing was written\n`);
  });

  it('a file over 64 MiB is refused before it is read', () => {
    const big = join(s.dir, 'big.yaml');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 64 * 1024 * 1024 + 1);
    closeSync(fd);
    expect(() => readInputBytes(big, 'inventory')).toThrow(`inventory ${big} has 67108865 bytes, more than the 64 MiB an input may have`);
    writeFileSync(join(s.dir, 'ok.yaml'), 'a: 1\n');
    expect(readInputBytes(join(s.dir, 'ok.yaml'), 'x').toString()).toBe('a: 1\n');
  });
});

describe("the Ansible role's IpsecVars, after the switch", () => {
  it("deploy: its defaults/main.yml (fetched data) as IpsecVars, each variable of its own with a note, the meaningful ones mapped", async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const role = parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'tripleo-samples', 'role', 'defaults-main.yml'), 'utf8')) as Record<string, unknown>;
    const r = generateFrom({ ...small(), env: { parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK, ...role } } } });
    expect(r.overcloud.notes.filter((n) => n.includes('a variable of the Ansible role'))).toEqual([
      "IpsecVars.ipsec_force_install_legacy (a variable of the Ansible role) is ignored: the role's pre-2018 layout; tripleo-ipsec has one",
      'IpsecVars.ipsec_setup_resource_agents (a variable of the Ansible role) is ignored: tripleo-ipsec always installs ocf:tripleo:ipsec (host_prep_tasks) and creates its resources at step 3',
      "IpsecVars.overcloud_controller_identifier (a variable of the Ansible role) is ignored: cluster nodes come from the inventory's pacemaker group",
    ]);
    expect([r.overcloud.vars.ipsec_uninstall_tunnels, r.overcloud.vars.ipsec_upgrade_tunnels]).toEqual([false, false]);
    const nodePlan = r.hostTree('overcloud-controller-0').nodePlan;
    expect([nodePlan.uninstall, nodePlan.upgrade]).toEqual([undefined, undefined]);
    const up = generateFrom({ ...small(), env: { parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK, ...role, ipsec_uninstall_tunnels: true, ipsec_upgrade_tunnels: true } } } });
    const p = up.hostTree('overcloud-novacompute-0').nodePlan;
    expect([p.uninstall, p.upgrade]).toEqual([true, true]);
  });
});
