// MTU advice for IPsec. ESP in tunnel mode (RFC 4303) wraps each packet in an
// outer IP header (20 or 40 bytes), the ESP header (8), the cipher's IV, the
// padding that aligns payload + 2-byte trailer to the cipher's block, and the
// integrity check value. The largest packet a tunnel carries on a link is what
// that framing leaves; the data-plane suite checks these figures against DF
// pings through real tunnels (test/dataplane/dpd-mtu.test.ts).
import { InputError } from './model/errors.js';

export interface EspFraming {
  /** What the framing is for, as printed. */
  name: string;
  iv: number;
  icv: number;
  /** payload + trailer is padded to a multiple of this. */
  block: number;
}

const INTEG_ICV: Record<string, number> = { sha1: 12, sha2: 16, sha2_256: 16, sha256: 16, sha2_384: 24, sha384: 24, sha2_512: 32, sha512: 32 };

/** The ESP framing of the first proposal of a phase2alg string (undefined: not one we can model). */
export function espFraming(algorithm: string): EspFraming | undefined {
  const first = algorithm.split(',')[0].trim().toLowerCase();
  const [cipher, integ] = first.split(/[-;]/);
  // libreswan's aes_gcm is aes_gcm_c (16-byte ICV); _b 12, _a 8 (RFC 4106).
  const gcm = /^aes_gcm(?:_([abc]))?(?:\d+)?$/.exec(cipher);
  if (gcm) return { name: `${cipher} (RFC 4106)`, iv: 8, icv: { a: 8, b: 12, c: 16 }[(gcm[1] ?? 'c') as 'a' | 'b' | 'c'], block: 4 };
  if (/^chacha20_poly1305$/.test(cipher)) return { name: 'chacha20_poly1305 (RFC 7634)', iv: 8, icv: 16, block: 4 };
  if (/^aes(?:_cbc)?(?:\d+)?$/.test(cipher)) {
    const icv = INTEG_ICV[integ ?? 'sha2_256'];
    return icv ? { name: `${cipher}-${integ ?? 'sha2_256'} (RFC 3602)`, iv: 16, icv, block: 16 } : undefined;
  }
  return undefined;
}

export type IpFamily = 4 | 6;
const IP_HEADER = { 4: 20, 6: 40 } as const;

/** The largest inner IP packet a tunnel-mode ESP SA carries on a link of `linkMtu`. */
export function largestProtectedPacket(linkMtu: number, family: IpFamily, f: EspFraming): number {
  const room = linkMtu - IP_HEADER[family] - 8 - f.iv - f.icv;
  return Math.floor(room / f.block) * f.block - 2;
}

/** Overlay encapsulation on top of an IP underlay: outer IP + UDP 8 + VXLAN 8 / Geneve 16 with OVN's 8 of options + inner Ethernet 14. */
const ENCAP_OVER_IP = { vxlan: 30, geneve: 38, none: 0 } as const;
export type Encap = keyof typeof ENCAP_OVER_IP;

export interface MtuAdvice {
  linkMtu: number;
  encap: Encap;
  family: IpFamily;
  algorithm: string;
  /** bytes IPsec costs per packet at this link MTU (framing and padding). */
  ipsec: number;
  encapOverhead: number;
  tenantMtu: number;
  arithmetic: string;
}

export const DEFAULT_ALGORITHM = 'aes_gcm128-null';

export function mtuAdvice(linkMtu: number, encap: Encap, family: IpFamily = 4, algorithm = DEFAULT_ALGORITHM): MtuAdvice {
  if (!Number.isInteger(linkMtu) || linkMtu < 576 || linkMtu > 65535) throw new InputError(`link MTU ${linkMtu} is not between 576 and 65535`);
  const f = espFraming(algorithm);
  if (!f) throw new InputError(`cannot model the ESP framing of ${JSON.stringify(algorithm)} (known: aes_gcm*, chacha20_poly1305, aes_cbc*-sha1/sha2_*)`);
  const inner = largestProtectedPacket(linkMtu, family, f);
  const ipsec = linkMtu - inner;
  const encapOverhead = encap === 'none' ? 0 : ENCAP_OVER_IP[encap] + IP_HEADER[family];
  const tenantMtu = inner - encapOverhead;
  return {
    linkMtu,
    encap,
    family,
    algorithm,
    ipsec,
    encapOverhead,
    tenantMtu,
    arithmetic: `${linkMtu} (link) - ${ipsec} (IPsec ESP tunnel, ${f.name}, IPv${family}) - ${encapOverhead} (${encap}) = ${tenantMtu}`,
  };
}
