// tripleo-ipsec rotate-psk: a new kept PSK; the next deploy installs it.
import type { Argv } from 'yargs';
import { outputPaths } from '../../model/names.js';
import { rotatePskFile } from '../../secrets/psk.js';
import { say } from '../output.js';
import type { Command } from './command.js';

export const rotatePskCommand: Command = {
  command: 'rotate-psk',
  describe: 'Replace the PSK generate made and keeps (TripleO: on the undercloud); the next deploy installs the new keys at step 1 and re-authenticates every tunnel at step 3',
  builder: (y: Argv) =>
    y.option('out', { alias: 'o', type: 'string', demandOption: true, describe: `generate's output directory, with ${outputPaths.pskFile} (TripleO: ~/overcloud-deploy/<stack>/tripleo-ipsec/out)` }),
  handler: (a) => {
    const path = rotatePskFile(String(a.out));
    say(
      `wrote a new PSK into ${path} (mode 0600)\n` +
        'next: run the same deploy (openstack overcloud deploy ..., or generate then apply --step 1 on every node, then apply --step 3 on every node):\n' +
        '  step 1 installs the new keys everywhere, tunnels keep running; step 3 re-authenticates each tunnel once, from its initiator\n',
    );
    return 0;
  },
};
