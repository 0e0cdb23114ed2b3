import { describe, expect, it } from 'vitest';
import { espFraming, largestProtectedPacket, mtuAdvice } from '../../src/mtu.js';
import { InputError } from '../../src/model/errors.js';

describe('mtu advice', () => {
  it('leaves 1446 bytes (IPv4) and 1426 (IPv6) inside an AES-GCM tunnel on a 1500-byte link: the figures DF pings measure in the data-plane guest', () => {
    const gcm = espFraming('aes_gcm128-null')!;
    expect(largestProtectedPacket(1500, 4, gcm)).toBe(1446);
    expect(largestProtectedPacket(1500, 6, gcm)).toBe(1426);
    expect(mtuAdvice(1500, 'none').ipsec).toBe(54);
    expect(mtuAdvice(1500, 'none', 6).ipsec).toBe(74);
  });
  it('gives 1396 for VXLAN on a 1500-byte IPv4 link, with the arithmetic', () => {
    expect(mtuAdvice(1500, 'vxlan').tenantMtu).toBe(1396);
    expect(mtuAdvice(1500, 'vxlan').arithmetic).toBe('1500 (link) - 54 (IPsec ESP tunnel, aes_gcm128 (RFC 4106), IPv4) - 50 (vxlan) = 1396');
  });
  it('covers Geneve, no overlay, IPv6 underlays and jumbo frames', () => {
    expect(mtuAdvice(1500, 'geneve').tenantMtu).toBe(1388);
    expect(mtuAdvice(1500, 'none').tenantMtu).toBe(1446);
    expect(mtuAdvice(1500, 'vxlan', 6).tenantMtu).toBe(1426 - 70);
    expect(mtuAdvice(9000, 'vxlan').tenantMtu).toBe(8946 - 50);
  });
  it('models the padding of block ciphers: AES-CBC with SHA2-256 pads to 16 bytes', () => {
    const cbc = espFraming('aes_cbc256-sha2_256')!;
    expect(cbc).toMatchObject({ iv: 16, icv: 16, block: 16 });
    // 1500 - 20 - 8 - 16 - 16 = 1440, a multiple of 16, less the 2-byte trailer
    expect(largestProtectedPacket(1500, 4, cbc)).toBe(1438);
    expect(largestProtectedPacket(1501, 4, cbc)).toBe(1438);
    expect(espFraming('aes_gcm_a128')!.icv).toBe(8);
    expect(espFraming('chacha20_poly1305')!.icv).toBe(16);
  });
  it('refuses nonsense', () => {
    expect(() => mtuAdvice(100, 'vxlan')).toThrow(InputError);
    expect(() => mtuAdvice(1500.5, 'vxlan')).toThrow(InputError);
    expect(() => mtuAdvice(1500, 'vxlan', 4, 'serpent')).toThrow(/cannot model/);
  });
});
