// MTU advice for IPsec on the tenant network: ESP in tunnel mode costs up to
// 62 bytes (outer IP header, ESP header and IV, padding, trailer and ICV), on
// top of the overlay's own encapsulation (VXLAN 50, Geneve 58 with OVN's
// options). Published figure: a 1500-byte link with VXLAN leaves 1388.

export const IPSEC_OVERHEAD = 62;
export const ENCAP_OVERHEAD = { vxlan: 50, geneve: 58, none: 0 } as const;
export type Encap = keyof typeof ENCAP_OVERHEAD;

export interface MtuAdvice {
  linkMtu: number;
  encap: Encap;
  ipsec: number;
  encapOverhead: number;
  tenantMtu: number;
  arithmetic: string;
}

export function mtuAdvice(linkMtu: number, encap: Encap): MtuAdvice {
  if (!Number.isInteger(linkMtu) || linkMtu < 576 || linkMtu > 65535) throw new RangeError(`link MTU ${linkMtu} is not between 576 and 65535`);
  const encapOverhead = ENCAP_OVERHEAD[encap];
  const tenantMtu = linkMtu - IPSEC_OVERHEAD - encapOverhead;
  return {
    linkMtu,
    encap,
    ipsec: IPSEC_OVERHEAD,
    encapOverhead,
    tenantMtu,
    arithmetic: `${linkMtu} (link) - ${IPSEC_OVERHEAD} (IPsec ESP tunnel) - ${encapOverhead} (${encap}) = ${tenantMtu}`,
  };
}
