import { describe, expect, it } from 'vitest';
import { mtuAdvice } from '../../src/mtu.js';

describe('mtu advice', () => {
  it('matches the published figure: 1500 with VXLAN gives 1388', () => {
    expect(mtuAdvice(1500, 'vxlan').tenantMtu).toBe(1388);
    expect(mtuAdvice(1500, 'vxlan').arithmetic).toBe('1500 (link) - 62 (IPsec ESP tunnel) - 50 (vxlan) = 1388');
  });
  it('covers Geneve, no overlay and jumbo frames', () => {
    expect(mtuAdvice(1500, 'geneve').tenantMtu).toBe(1380);
    expect(mtuAdvice(1500, 'none').tenantMtu).toBe(1438);
    expect(mtuAdvice(9000, 'vxlan').tenantMtu).toBe(8888);
  });
  it('refuses nonsense', () => {
    expect(() => mtuAdvice(100, 'vxlan')).toThrow(RangeError);
    expect(() => mtuAdvice(1500.5, 'vxlan')).toThrow(RangeError);
  });
});
