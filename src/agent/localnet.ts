// Facts about this node's network namespace, read without spawning anything.
import { closeSync, openSync, readSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

/** Whether `address` (canonical) is configured on an interface here. */
export function isLocalAddress(address: string): boolean {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.address === address) return true;
  }
  return false;
}

const IKE_PORT_HEX = '01F4'; // 500

/** /proc/net/udp{,6} spelling of an address: 32-bit words in host (little-endian) order. */
export function procNetHex(address: string): string {
  const bytes: number[] = [];
  if (address.includes(':')) {
    const [head, tail = ''] = address.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    for (const g of groups) {
      const v = parseInt(g, 16);
      bytes.push(v >> 8, v & 255);
    }
  } else {
    for (const p of address.split('.')) bytes.push(Number(p));
  }
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    for (let j = 3; j >= 0; j--) out += bytes[i + j].toString(16).padStart(2, '0');
  }
  return out.toUpperCase();
}

/**
 * Whether some process here has a UDP socket bound to address:500 -- on a
 * node that runs pluto, pluto listening on the VIP, which is what lets a
 * conn whose left= is the VIP be oriented (FACTS.md).
 */
export function udpListening(address: string, port = IKE_PORT_HEX): boolean {
  const file = address.includes(':') ? '/proc/net/udp6' : '/proc/net/udp';
  let text: string;
  try {
    text = readProcFile(file);
  } catch {
    return false;
  }
  return text.includes(` ${procNetHex(address)}:${port} `);
}

/** procfs files report size 0: read in large chunks until EOF (readFileSync's growth steps cost more). */
function readProcFile(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const buf = Buffer.allocUnsafe(1 << 16);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
    }
    return Buffer.concat(chunks).toString('latin1');
  } finally {
    closeSync(fd);
  }
}
