// Address arithmetic through ipaddr.js (never regexes): parsing, canonical
// text, subnet membership. Not used by the agent (it needs only net.isIP).
import ipaddr from 'ipaddr.js';
import type { IpFamily } from './types.js';

export interface ParsedAddress {
  family: IpFamily;
  /** Canonical text: IPv4 dotted quad, IPv6 RFC 5952 short form. */
  text: string;
  addr: ipaddr.IPv4 | ipaddr.IPv6;
}

/** Strictly an address: four-part dotted decimal for IPv4, no zone, no prefix. */
export function parseAddress(text: unknown): ParsedAddress | undefined {
  if (typeof text !== 'string') return undefined;
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    const addr = ipaddr.IPv4.parse(text);
    return { family: 4, text: addr.toString(), addr };
  }
  if (text.includes(':') && !text.includes('%') && ipaddr.IPv6.isValid(text)) {
    const addr = ipaddr.IPv6.parse(text);
    if (addr.isIPv4MappedAddress()) return undefined;
    return { family: 6, text: addr.toRFC5952String(), addr };
  }
  return undefined;
}

export interface ParsedCidr {
  family: IpFamily;
  /** network address / prefix length */
  text: string;
  range: [ipaddr.IPv4 | ipaddr.IPv6, number];
}

export function parseCidr(text: string): ParsedCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const a = parseAddress(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!a || !/^\d{1,3}$/.test(lenText)) return undefined;
  const len = Number(lenText);
  if (len > (a.family === 4 ? 32 : 128)) return undefined;
  const net =
    a.family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
  const netText = a.family === 4 ? net.toString() : (net as ipaddr.IPv6).toRFC5952String();
  return { family: a.family, text: `${netText}/${len}`, range: [net, len] };
}

export function inSubnet(address: ParsedAddress, cidr: ParsedCidr): boolean {
  if (address.family !== cidr.family) return false;
  return (address.addr as ipaddr.IPv4).match(cidr.range as [ipaddr.IPv4, number]);
}

/** CIDR of `address` with prefix length `len` (inventory fallback: `<net>_cidr: 24`). */
function cidrOf(address: ParsedAddress, len: number): ParsedCidr | undefined {
  return parseCidr(`${address.text}/${len}`);
}

/**
 * The subnet around `address` that TripleO's `<net>_cidr` variable gives:
 * a prefix length (the inventory writes 24, '24'; older ones '/24'), or a
 * whole CIDR. undefined when the value is neither.
 */
export function subnetAround(address: ParsedAddress, cidrVar: unknown): ParsedCidr | undefined {
  if (typeof cidrVar === 'string' && cidrVar.includes('/') && cidrVar.length > 4) return parseCidr(cidrVar);
  const len = typeof cidrVar === 'number' ? cidrVar : typeof cidrVar === 'string' && /^\/?\d{1,3}$/.test(cidrVar) ? Number(cidrVar.replace('/', '')) : undefined;
  return len !== undefined && Number.isInteger(len) ? cidrOf(address, len) : undefined;
}

/** Sort key that orders addresses numerically within a family. */
export function addressSortKey(a: ParsedAddress): string {
  return `${a.family}:${Buffer.from(a.addr.toByteArray()).toString('hex')}`;
}

/**
 * Whether `address` is one of `cidr`'s addresses no host may have: its
 * network address (IPv4 up to /30; IPv6's Subnet-Router anycast up to /126,
 * RFC 4291) or its IPv4 broadcast address. undefined when it is a host's.
 */
export function reservedIn(address: ParsedAddress, cidr: ParsedCidr): 'network' | 'broadcast' | undefined {
  if (!inSubnet(address, cidr)) return undefined;
  const len = cidr.range[1];
  const bits = address.family === 4 ? 32 : 128;
  if (len >= bits - 1) return undefined;
  const bytes = address.addr.toByteArray();
  const hostBits = (value: number) => bytes.every((b, i) => {
    const first = i * 8;
    // The host part of this byte, masked.
    const mask = first >= len ? 0xff : first + 8 <= len ? 0 : 0xff >> (len - first);
    return (b & mask) === (value & mask);
  });
  if (hostBits(0)) return 'network';
  if (address.family === 4 && hostBits(0xff)) return 'broadcast';
  return undefined;
}
