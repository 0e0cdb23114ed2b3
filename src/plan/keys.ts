// Per-tunnel keys derived from the operator's master PSK (HKDF-SHA256), so
// that one compromised node holds only the keys of its own tunnels: a key
// for every node pair (context: network and both addresses in canonical
// order, so both ends derive the same key) and one per VIP (every peer of a
// VIP shares the responder's id, hence its key). Rotating the master
// rotates them all.
import { hkdfSync } from 'node:crypto';

const SALT = 'tripleo-ipsec/psk/v1';
const KEY_BYTES = 32;

function derive(master: string, info: string): string {
  return Buffer.from(hkdfSync('sha256', Buffer.from(master, 'utf8'), Buffer.from(SALT), Buffer.from(info, 'utf8'), KEY_BYTES)).toString('base64');
}

/** Canonical order of two endpoints: both ends of a tunnel compute the same context. */
export function canonicalPair(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}

export function pairKey(master: string, network: string, a: string, b: string): string {
  const [lo, hi] = canonicalPair(a, b);
  return derive(master, `node-to-node|${network}|${lo}|${hi}`);
}

export function vipKey(master: string, vipName: string, address: string): string {
  return derive(master, `vip|${vipName}|${address}`);
}
