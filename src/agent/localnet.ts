// Facts about this node's network namespace, read without spawning anything.
import { networkInterfaces } from 'node:os';

/** Whether `address` (canonical) is configured on an interface here. */
export function isLocalAddress(address: string): boolean {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.address === address) return true;
  }
  return false;
}
