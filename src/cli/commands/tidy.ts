// tripleo-ipsec tidy: what tripleo-ipsec-tidy.timer runs every minute on every node.
import type { Argv } from 'yargs';
import { DEFAULT_CTLSOCKET } from '../../libreswan/whack.js';
import { nodePaths, RUN_DIR } from '../../model/names.js';
import { tidy } from '../../tidy.js';
import { printableLine } from '../../text/printable.js';
import { say } from '../output.js';
import type { Command } from './command.js';

export const tidyCommand: Command = {
  command: 'tidy',
  describe: "Delete the SAs a peer's restart left on this node (IKE SAs superseded by the conn's newest, which carries its newest Child SA; Child SAs beside the conn's newest), and initiate again the conns this node initiates that have no IKE SA",
  builder: (y: Argv) =>
    y
      .option('ctlsocket', { type: 'string', default: DEFAULT_CTLSOCKET, describe: "pluto's control socket" })
      .option('ipsecdir', { type: 'string', default: `/${nodePaths.ipsecD}`, describe: 'where our conn files are (which conns this node initiates)' })
      .option('rundir', { type: 'string', default: RUN_DIR, describe: "where ocf:tripleo:ipsec links the ends of the VIPs held here (the agent's rundir)" })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print what would be deleted, delete nothing' }),
  handler: async (a) => {
    const r = await tidy({ ctlsocket: String(a.ctlsocket), ipsecdir: String(a.ipsecdir), rundir: String(a.rundir), dryRun: a['dry-run'] as boolean });
    if (!r.pluto) say('pluto is not running: nothing to tidy\n');
    for (const s of r.deleted) say(`${a['dry-run'] ? 'would delete' : 'deleted'} stale IKE SA #${s.serial} of ${s.conn} (superseded by #${s.newer})\n`);
    for (const s of r.deletedChildren) say(`${a['dry-run'] ? 'would delete' : 'deleted'} stale Child SA #${s.serial} of ${s.conn} (beside the newest, #${s.newer})\n`);
    for (const s of r.rekeyed) say(`${a['dry-run'] ? 'would rekey' : 'rekeyed'} the IKE SA #${s.newer} of ${s.conn} (its stale #${s.serial} has the higher serial: deleted once the rekeyed one has settled)\n`);
    for (const c of r.initiated) say(`${a['dry-run'] ? 'would initiate' : 'initiated'} ${c} (this node initiates it; it had no IKE SA)\n`);
    for (const x of r.notInitiated) say(`could not initiate ${printableLine(x.conn)}: ${printableLine(x.why)}\n`);
    if (r.pluto && r.deleted.length + r.deletedChildren.length + r.rekeyed.length === 0) say('no stale SA\n');
    return 0;
  },
};
