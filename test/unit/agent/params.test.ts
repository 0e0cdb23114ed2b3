// The agent's address canonicalization (what it compares a VIP parameter with).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { canonicalAddress } from '../../../src/agent/params.js';

describe('canonicalAddress', () => {
  it('accepts IPv4 and IPv6, canonicalizing IPv6 as getifaddrs prints it', () => {
    expect(canonicalAddress('192.0.2.100')).toBe('192.0.2.100');
    expect(canonicalAddress('2001:DB8:30:0:0:0:0:100')).toBe('2001:db8:30::100');
    expect(canonicalAddress('2001:db8::')).toBe('2001:db8::');
  });

  it('refuses everything that is not a plain address', () => {
    for (const bad of ['192.0.2.300', '192.0.2', '0x7f.0.0.1', '192.0.2.01', '1.2.3.4.5', 'fe80::1%eth0', '2001:db8::/64', '[2001:db8::1]', 'localhost', '', ' 192.0.2.1', '192.0.2.1;x', '2001:db8::g']) {
      expect(canonicalAddress(bad), bad).toBeUndefined();
    }
  });

  it('agrees with node:net isIP on arbitrary strings and addresses (fast-check, 2,000 cases)', () => {
    const candidates = fc.oneof(fc.ipV4(), fc.ipV6(), fc.string(), fc.ipV4Extended());
    fc.assert(
      fc.property(candidates, (s) => {
        const ours = canonicalAddress(s);
        const theirs = isIP(s);
        // node:net accepts zone ids; we refuse them (a VIP has none)
        if (theirs === 0 || s.includes('%')) return ours === undefined;
        return ours !== undefined && isIP(ours) === theirs;
      }),
      { numRuns: 2000 },
    );
  });
});
