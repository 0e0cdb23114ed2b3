import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/model/errors.js';
import type { Problem } from '../../../src/model/problems.js';
import { generateFrom, small, TEST_PSK } from '../../helpers/inputs.js';

type Inv = Record<string, { hosts?: Record<string, Record<string, unknown>>; vars?: Record<string, unknown> }>;

function problemsOf(mutate: (inv: Inv, nd: Record<string, unknown>[]) => void, vars: Record<string, unknown> = {}, sets: string[] = []): Problem[] {
  const { inventory, networkData } = small();
  mutate(inventory as Inv, networkData as Record<string, unknown>[]);
  try {
    generateFrom({ inventory, networkData, env: { parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK, ...vars } } } }, { sets });
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    throw e;
  }
  throw new Error('expected a ValidationError');
}

const c0 = (inv: Inv) => inv.Controller.hosts!['overcloud-controller-0'];

describe('validation: every bad value is named by host, field and value', () => {
  it('an address outside its network\'s subnet', () => {
    const p = problemsOf((inv) => (c0(inv).internal_api_ip = '198.51.100.77'));
    expect(p).toContainEqual(expect.objectContaining({ host: 'overcloud-controller-0', field: 'internal_api_ip', value: '198.51.100.77', message: expect.stringMatching(/outside internal_api's subnet 192\.0\.2\.0\/24/) }));
  });

  it('an address of the wrong family', () => {
    const p = problemsOf((inv) => (c0(inv).storage_mgmt_ip = '192.0.2.99'));
    expect(p).toContainEqual(expect.objectContaining({ host: 'overcloud-controller-0', field: 'storage_mgmt_ip', message: 'network storage_mgmt is IPv6' }));
  });

  it('something that is not an address', () => {
    for (const bad of ['192.0.2.300', '192.0.2.1\nleftupdown=/bin/sh', '0x7f.1', 'fe80::1%eth0', '192.0.2.1/24', 42]) {
      const p = problemsOf((inv) => (c0(inv).tenant_ip = bad));
      expect(p, String(bad)).toContainEqual(expect.objectContaining({ host: 'overcloud-controller-0', field: 'tenant_ip', message: 'not an IP address' }));
    }
  });

  it('two nodes with one address on a network', () => {
    const p = problemsOf((inv) => (inv.Compute.hosts!['overcloud-novacompute-0'].storage_ip = '198.51.100.10'));
    expect(p).toContainEqual(expect.objectContaining({ field: 'storage_ip', value: '198.51.100.10', message: expect.stringMatching(/same address as host overcloud-controller-0/) }));
  });

  it('a VIP that is not an address, or sits outside its network, or on a node', () => {
    expect(problemsOf((inv) => (inv.overcloud.vars!.internal_api_vip = 'vip.example.com'))).toContainEqual(
      expect.objectContaining({ field: 'internal_api_vip', value: 'vip.example.com', message: 'VIP is not an IP address' }),
    );
    expect(problemsOf((inv) => (inv.overcloud.vars!.storage_vip = '192.0.2.200'))).toContainEqual(
      expect.objectContaining({ field: 'storage_vip', message: expect.stringMatching(/outside storage's subnet/) }),
    );
    expect(problemsOf((inv) => (inv.overcloud.vars!.storage_vip = '198.51.100.10'))).toContainEqual(
      expect.objectContaining({ field: 'storage_vip', message: expect.stringMatching(/equals the address of host overcloud-controller-0/) }),
    );
  });

  it('a service VIP in no tunnelled network is no error: it gets no tunnel and a note', () => {
    const { inventory, networkData } = small();
    (inventory as Inv).overcloud.vars!.redis_vip = '2001:db8:99::1';
    const r = generateFrom({ inventory, networkData });
    expect(r.overcloud.vips.map((v) => v.name)).not.toContain('redis');
    expect(r.overcloud.notes).toContain('redis_vip 2001:db8:99::1 lies in no tunnelled network: no tunnel');
  });

  it('a host name that is not a plain host name', () => {
    const p = problemsOf((inv) => {
      inv.Controller.hosts!['evil host;rm'] = { ...c0(inv), internal_api_ip: '192.0.2.222', storage_ip: '198.51.100.222', storage_mgmt_ip: '2001:db8:30::222', tenant_ip: '203.0.113.222' };
    });
    expect(p).toContainEqual(expect.objectContaining({ host: 'evil host;rm', field: 'inventory host name', value: 'evil host;rm' }));
  });

  it('a network name that is not a plain identifier', () => {
    const p = problemsOf((_inv, nd) => (nd[0].name_lower = 'internal-api\nconn x'));
    expect(p).toContainEqual(expect.objectContaining({ value: 'internal-api\nconn x', message: expect.stringMatching(/not a plain identifier/) }));
  });

  it('a PSK that is short, or holds a quote or a newline, and never prints it', () => {
    for (const psk of ['k3y-xyzzy', `${TEST_PSK}"`, `${TEST_PSK}\n: PSK "x"`, `${TEST_PSK}\\`]) {
      const p = problemsOf(() => {}, { ipsec_psk: psk });
      expect(p.length, JSON.stringify(psk)).toBeGreaterThan(0);
      expect(p[0].field).toBe('IpsecVars.ipsec_psk');
      expect(p[0].value).toMatch(/^<redacted, \d+ bytes>$/);
      expect(JSON.stringify(p)).not.toContain(psk);
    }
  });

  it('an algorithm libreswan rejects', () => {
    for (const alg of ['aes_gcm999-null', 'aes_gcm128-sha2_256', 'aes128-null', 'rot13-null', 'aes128-sha2_256;modp9999', 'aes128-sha1\nleftupdown=x', 'null-sha1']) {
      const p = problemsOf(() => {}, { ipsec_algorithm: alg });
      expect(p, alg).toContainEqual(expect.objectContaining({ field: 'IpsecVars.ipsec_algorithm', value: alg }));
    }
  });

  it('an unknown network in ipsec_skip_networks, an unknown variable, a bad boolean', () => {
    expect(problemsOf(() => {}, { ipsec_skip_networks: ['internal_apii'] })).toContainEqual(
      expect.objectContaining({ field: 'IpsecVars.ipsec_skip_networks', value: 'internal_apii' }),
    );
    expect(problemsOf(() => {}, { ipsec_algoritm: 'aes_gcm128-null' })).toContainEqual(
      expect.objectContaining({ field: 'IpsecVars.ipsec_algoritm', message: expect.stringMatching(/unknown variable/) }),
    );
    expect(problemsOf(() => {}, {}, ['ipsec_configure_vips=maybe'])).toContainEqual(
      expect.objectContaining({ field: 'IpsecVars.ipsec_configure_vips', value: 'maybe' }),
    );
  });

  it('a host on a network without an address there, or on a network network_data lacks', () => {
    expect(problemsOf((inv) => delete c0(inv).tenant_ip)).toContainEqual(
      expect.objectContaining({ host: 'overcloud-controller-0', field: 'tenant_ip', message: expect.stringMatching(/no address there/) }),
    );
    expect(problemsOf((inv) => (inv.Compute.vars!.tripleo_role_networks = ['ctlplane', 'internal_api', 'managment']))).toContainEqual(
      expect.objectContaining({ host: 'overcloud-novacompute-0', field: 'networks', value: 'managment' }),
    );
  });

  it('collects every problem of a run, not just the first', () => {
    const p = problemsOf((inv) => {
      c0(inv).internal_api_ip = 'nope';
      inv.Compute.hosts!['overcloud-novacompute-1'].storage_ip = '192.0.2.1';
    });
    expect(p.map((x) => x.host)).toEqual(expect.arrayContaining(['overcloud-controller-0', 'overcloud-novacompute-1']));
  });
});
