// tripleo-ipsec install-agent: the OCF agent where Pacemaker finds it.
import type { Argv } from 'yargs';
import { installAgent } from '../installAgent.js';
import { say } from '../output.js';
import type { Command } from './command.js';

export const installAgentCommand: Command = {
  command: 'install-agent',
  describe: 'Install the ocf:tripleo:ipsec resource agent',
  builder: (y: Argv) => y.option('ocf-root', { type: 'string', default: '/usr/lib/ocf', describe: 'OCF root; the agent goes to DIR/resource.d/tripleo/ipsec' }),
  handler: (a) => {
    const r = installAgent(String(a['ocf-root']));
    say(r.changed ? `installed ocf:tripleo:ipsec as ${r.path}\n` : `ocf:tripleo:ipsec is already installed as ${r.path}: no change\n`);
    return 0;
  },
};
