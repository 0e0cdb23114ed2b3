import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connsWithIkeSa, parsePlutoStatus } from '../../../src/libreswan/whackStatus.js';
import { EnvironmentError } from '../../../src/model/errors.js';

const sample = (f: string) => readFileSync(join(__dirname, '..', '..', 'fixtures', 'libreswan', f), 'utf8');

describe('parsePlutoStatus on real libreswan 4.10 output', () => {
  it('reads counters, oriented and unoriented conns, and states (VIP holder)', () => {
    const s = parsePlutoStatus(sample('status-a-vip-up.txt'));
    expect(s.ikeSas).toEqual({ total: 2, halfOpen: 0, open: 0, authenticated: 2, anonymous: 0 });
    expect(s.ipsecSas).toEqual({ total: 0, authenticated: 0, anonymous: 0 });
    expect(s.loaded).toBe(5);
    expect(s.conns.get('overcloud-internal_api-vip-tunnel')).toMatchObject({ oriented: true });
    expect(s.conns.get('overcloud-storage-vip-tunnel')).toMatchObject({ oriented: false });
    expect(s.states).toContainEqual(expect.objectContaining({ serial: 6, conn: 'overcloud-internal_api-vip-tunnel', instance: 1, peer: '192.0.2.2', established: true, kind: 'ike' }));
    expect([...connsWithIkeSa(s)].sort()).toEqual(['overcloud-internal_api-node-192.0.2.2', 'overcloud-internal_api-vip-tunnel']);
  });

  it('reads the initiator side', () => {
    const s = parsePlutoStatus(sample('status-b-vip-up.txt'));
    expect(connsWithIkeSa(s).has('overcloud-internal_api-node-to-vip-tunnel')).toBe(true);
    expect(s.ikeSas.authenticated).toBe(2);
  });

  it('sees no SA at start', () => {
    const s = parsePlutoStatus(sample('status-a-initial.txt'));
    expect(s.states).toEqual([]);
    expect(s.ikeSas.total).toBe(0);
  });

  it('refuses truncated or foreign input with a clear error', () => {
    const full = sample('status-a-vip-up.txt');
    expect(() => parsePlutoStatus(full.slice(0, full.indexOf('IKE SAs:')))).toThrow(EnvironmentError);
    expect(() => parsePlutoStatus('')).toThrow(/not the output of ipsec status, or truncated/);
    expect(() => parsePlutoStatus('<html>')).toThrow(EnvironmentError);
  });
});
