import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hkdfSync } from 'node:crypto';
import { pairKey, vipKey } from '../../../src/plan/keys.js';

describe('derived keys', () => {
  it('are the same from both ends, whatever the order (fast-check, 1,000 cases)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 32 }), fc.constantFrom('internal_api', 'storage'), fc.ipV4(), fc.ipV6(), (m, n, a, b) => pairKey(m, n, a, b) === pairKey(m, n, b, a)),
      { numRuns: 1000 },
    );
  });

  it('differ by network, pair, VIP, VIP peer and master', () => {
    const m = 'master-0123456789abcdefghijklmnopqrstuv';
    const k = pairKey(m, 'internal_api', '192.0.2.10', '192.0.2.11');
    expect(pairKey(m, 'storage', '192.0.2.10', '192.0.2.11')).not.toBe(k);
    expect(pairKey(m, 'internal_api', '192.0.2.10', '192.0.2.12')).not.toBe(k);
    expect(pairKey(`${m}!`, 'internal_api', '192.0.2.10', '192.0.2.11')).not.toBe(k);
    const v = vipKey(m, 'internal_api', '192.0.2.100', '192.0.2.10');
    expect(vipKey(m, 'redis', '192.0.2.100', '192.0.2.10')).not.toBe(v);
    expect(vipKey(m, 'internal_api', '192.0.2.100', '192.0.2.11')).not.toBe(v);
    expect(vipKey(m, 'internal_api', '192.0.2.101', '192.0.2.10')).not.toBe(v);
  });

  it('are HKDF-SHA256 with the documented salt and context (a known answer)', () => {
    const m = 'master-0123456789abcdefghijklmnopqrstuv';
    const expected = Buffer.from(hkdfSync('sha256', m, 'tripleo-ipsec/psk/v1', 'node-to-node|internal_api|192.0.2.10|192.0.2.11', 32)).toString('base64');
    expect(pairKey(m, 'internal_api', '192.0.2.11', '192.0.2.10')).toBe(expected);
    expect(Buffer.from(expected, 'base64')).toHaveLength(32);
  });
});
