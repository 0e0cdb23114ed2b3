// tripleo-ipsec apply: what a deploy step runs on one node.
import type { Argv } from 'yargs';
import { applyNode } from '../../apply/applyNode.js';
import { DEFAULT_CTLSOCKET } from '../../libreswan/whack.js';
import { nodePaths } from '../../model/names.js';
import { INPUT_OPTION_NAMES, inputOptionsOf, withInputOptions, type InputArgs } from '../inputOptions.js';
import { say } from '../output.js';
import type { Command } from './command.js';

export const applyCommand: Command = {
  command: 'apply',
  describe: 'What a deploy step runs on one node: its files, ipsec.conf includes, pluto reloads, firewall, and on the bootstrap node the Pacemaker plan',
  builder: (y: Argv) =>
    withInputOptions(y)
      .option('tree', { type: 'string', describe: `this host's tree as generate wrote it elsewhere (OUT/<host>, with ${nodePaths.nodePlan}): installed without the inventory` })
      .conflicts('tree', [...INPUT_OPTION_NAMES, 'cert-bundle'])
      .option('host', { type: 'string', describe: "this node's inventory host name (all but --restore-firewall)" })
      .check((a) => (a.host !== undefined || a['restore-firewall'] ? true : 'Missing required argument: host'))
      .option('root', { type: 'string', default: '/', describe: 'the root of the file system written (an image being built); include lines name paths as the booted system sees them' })
      .option('step', { type: 'number', choices: [1, 3], describe: '1: node-to-node tunnels and firewall; 3: VIP tunnels and (bootstrap node) Pacemaker' })
      .option('ctlsocket', { type: 'string', default: DEFAULT_CTLSOCKET, describe: "pluto's control socket" })
      .option('pacemaker', { type: 'boolean', default: true, describe: 'apply the Pacemaker plan on the bootstrap node (--no-pacemaker to skip)' })
      .option('bootstrap-node', { type: 'string', describe: 'the node that applies the Pacemaker plan (default: first pacemaker node)' })
      .option('cert-bundle', { type: 'string', describe: `ipsec_auth=cert: this host's ${nodePaths.stateDir} directory from generate (certificate, PKCS#12, CA)` })
      .option('nssdir', { type: 'string', describe: `pluto's NSS database, where ipsec_auth=cert imports the node's certificate (default: ${nodePaths.nssDir} under --root)` })
      .option('uninstall', { type: 'boolean', describe: 'remove exactly what earlier runs created (also after a run that was interrupted)' })
      .option('upgrade', { type: 'boolean', default: false, describe: 'replace overcloud-* files an earlier installation left' })
      .option('restore-firewall', { type: 'boolean', describe: 'put back the firewall chains the last apply installed, from its installed files (at boot: tripleo-ipsec-firewall.service)' })
      .conflicts('restore-firewall', ['tree', 'uninstall', ...INPUT_OPTION_NAMES]),
  handler: async (a) => {
    const args = a as InputArgs & Record<string, unknown>;
    // The tree option conflicts with the input options, whose arrays default to []: only an inventory makes it the inputs' run.
    const source = args.tree
      ? { tree: String(args.tree) }
      : args.inventory
        ? { inputs: { ...inputOptionsOf(args, String(args.inventory)), certBundleDir: args['cert-bundle'] as string | undefined } }
        : undefined;
    const r = await applyNode({
      source,
      host: String(args.host ?? ''),
      root: String(args.root),
      step: args.step as 1 | 3 | undefined,
      ctlsocket: String(args.ctlsocket),
      pacemaker: args.pacemaker as boolean,
      bootstrapNode: args['bootstrap-node'] as string | undefined,
      nssdir: args.nssdir as string | undefined,
      uninstall: args.uninstall === true,
      upgrade: args.upgrade as boolean,
      restoreFirewall: args['restore-firewall'] === true,
    });
    for (const c of r.changes) say(`${c}\n`);
    for (const p of r.pluto) say(`pluto: ${p}\n`);
    if (r.plutoSkipped) say('pluto is not running: files only\n');
    if (r.offline) say(`--root ${String(args.root)}: an image being built: its files only (pluto, the firewall and the cluster are the booted node's)\n`);
    if (r.changes.length === 0 && r.pluto.length === 0) say('no change\n');
    return 0;
  },
};
