// Per-tunnel keys derived from the operator's master PSK (HKDF-SHA256,
// RFC 5869), so that one compromised node holds only the keys of its own
// tunnels: a key for every node pair (context: network and both addresses
// in canonical order, so both ends derive the same key) and one per VIP and
// peer (a compute knows only its own key with the VIP, so it cannot pose as
// the VIP to another node). Rotating the master rotates them all.
import { createHmac, createSecretKey } from 'node:crypto';

const SALT = 'tripleo-ipsec/psk/v1';

/** Canonical order of two endpoints: both ends of a tunnel compute the same context. */
function canonicalPair(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}

export interface KeyDeriver {
  pair(network: string, a: string, b: string): string;
  vip(vipName: string, vipAddress: string, peerAddress: string): string;
}

/**
 * HKDF-SHA256 with the extract step done once per master: for a 32-byte key,
 * expand is one HMAC(PRK, info || 0x01). Four times faster than hkdfSync per
 * key, which matters for a 1,000-node mesh (5 million keys); a unit test
 * checks it equals crypto.hkdfSync.
 */
export function keyDeriver(master: string): KeyDeriver {
  // A KeyObject: createHmac then takes the key as it is, without copying it for each of millions of keys.
  const prk = createSecretKey(createHmac('sha256', SALT).update(master, 'utf8').digest());
  const expand = (info: string) => createHmac('sha256', prk).update(`${info}\x01`, 'utf8').digest('base64');
  return {
    pair(network, a, b) {
      const [lo, hi] = canonicalPair(a, b);
      return expand(`node-to-node|${network}|${lo}|${hi}`);
    },
    vip(vipName, vipAddress, peerAddress) {
      return expand(`vip|${vipName}|${vipAddress}|${peerAddress}`);
    },
  };
}

export function pairKey(master: string, network: string, a: string, b: string): string {
  return keyDeriver(master).pair(network, a, b);
}

export function vipKey(master: string, vipName: string, vipAddress: string, peerAddress: string): string {
  return keyDeriver(master).vip(vipName, vipAddress, peerAddress);
}
