// tripleo-ipsec heat-env: the environment for `openstack overcloud deploy -e`.
import type { Argv } from 'yargs';
import { join } from 'node:path';
import { writeHeatEnv } from '../../heatEnv.js';
import { packageRoot } from '../paths.js';
import { say } from '../output.js';
import { varsHelp } from './varsHelp.js';
import type { Command } from './command.js';

export const heatEnvCommand: Command = {
  command: 'heat-env',
  describe: 'Write the heat environment for `openstack overcloud deploy -e`: IpsecVars validated, a PSK generated when none is given and kept when the file has one (0600)',
  builder: (y: Argv) =>
    y
      .option('environment', { alias: 'e', type: 'string', array: true, default: [] as string[], describe: 'base environments with IpsecVars (later wins)' })
      .option('set', { type: 'string', array: true, default: [] as string[], describe: 'IpsecVars key=value (wins over -e)' })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'the environment file to write (mode 0600); one heat-env wrote earlier keeps its PSK' })
      .epilogue(`IpsecVars:\n${varsHelp()}`),
  handler: (a) => {
    const out = String(a.out);
    const r = writeHeatEnv({
      envPaths: (a.environment as string[]).map(String),
      sets: (a.set as string[]).map(String),
      out,
      serviceTemplate: join(packageRoot(), 'heat-env', 'ipsec-service.yaml'),
    });
    const psk = { generated: ' with a newly generated ipsec_psk', kept: ` keeping the ipsec_psk it had`, given: '', none: '' }[r.psk];
    say(`wrote ${out} (mode 0600)${psk}\n`);
    return 0;
  },
};
