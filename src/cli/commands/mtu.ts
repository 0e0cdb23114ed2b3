// tripleo-ipsec mtu: the tenant MTU that leaves room for IPsec.
import type { Argv } from 'yargs';
import { DEFAULT_ALGORITHM, mtuAdvice } from '../../mtu.js';
import { say } from '../output.js';
import type { Command } from './command.js';

export const mtuCommand: Command = {
  command: 'mtu',
  describe: 'The tenant (SDN) MTU that leaves room for IPsec, with the arithmetic',
  builder: (y: Argv) =>
    y
      .option('link-mtu', { type: 'number', default: 1500, describe: 'MTU of the physical/isolated network' })
      .option('encap', { choices: ['vxlan', 'geneve', 'none'] as const, default: 'vxlan' as const, describe: 'tenant overlay encapsulation' })
      .option('ipv6', { type: 'boolean', default: false, describe: 'the tenant network (the underlay) is IPv6' })
      .option('algorithm', { type: 'string', default: DEFAULT_ALGORITHM, describe: 'ipsec_algorithm (its ESP framing sets the overhead)' })
      .option('json', { type: 'boolean', default: false }),
  handler: (a) => {
    const m = mtuAdvice(a['link-mtu'] as number, a.encap as 'vxlan' | 'geneve' | 'none', a.ipv6 ? 6 : 4, String(a.algorithm));
    say(a.json ? JSON.stringify(m) + '\n' : `tenant MTU ${m.tenantMtu}: ${m.arithmetic}\n`);
    return 0;
  },
};
