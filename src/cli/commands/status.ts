// tripleo-ipsec status: the guide's check on every node (--inventory), or
// the cluster's VIP tunnels from saved outputs (--plan).
import type { Argv } from 'yargs';
import { collectStatus } from '../../status/collect.js';
import { overcloudStatus } from '../../status/overcloudStatus.js';
import { renderOvercloudStatus } from '../../status/overcloudReport.js';
import { renderStatus } from '../../status/statusReport.js';
import { outputPaths } from '../../model/names.js';
import { UsageError } from '../../model/errors.js';
import { inputOptionsOf, withInputOptions, type InputArgs } from '../inputOptions.js';
import { say, sayFormatted } from '../output.js';
import type { Command } from './command.js';

export const statusCommand: Command = {
  command: 'status',
  describe: "Every node's tunnels against the plan, over SSH (--inventory); or the cluster's VIP tunnels from saved outputs (--plan)",
  builder: (y: Argv) =>
    withInputOptions(y)
      .option('host', { type: 'string', array: true, default: [] as string[], describe: 'only these hosts (repeatable)' })
      .option('forks', { type: 'number', default: 10, describe: 'nodes queried at once' })
      .option('timeout', { type: 'number', default: 30, describe: 'seconds per node before it is reported unreachable' })
      .option('ssh-option', { type: 'string', array: true, default: [] as string[], describe: 'extra ssh -o option (repeatable)' })
      .option('watch', { type: 'number', describe: 'redraw every SECONDS until interrupted' })
      .option('plan', { type: 'string', describe: `without --inventory: ${outputPaths.pacemakerPlan} written by generate` })
      .option('crm-mon-xml', { type: 'string', describe: 'with --plan: saved `crm_mon -1 --output-as=xml` (default: run it)' })
      .option('ipsec-status', { type: 'string', array: true, default: [] as string[], describe: 'with --plan: NODE=FILE, saved `ipsec status` of a node (repeatable)' })
      .option('local', { type: 'boolean', default: false, describe: "with --plan: also read this node's pluto (node name from crm_node -n)" })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output, in full' })
      .check((a) => {
        if (!a.inventory && !a.plan) throw new UsageError('status needs --inventory (every node over SSH) or --plan (saved outputs)');
        if (a.forks !== undefined && !(Number.isInteger(a.forks) && a.forks >= 1)) throw new UsageError(`--forks ${a.forks}: a whole number of at least 1`);
        if (!(a.timeout > 0)) throw new UsageError(`--timeout ${a.timeout}: seconds, more than 0`);
        return true;
      }),
  handler: async (a) => {
    const args = a as InputArgs & Record<string, unknown>;
    if (!args.inventory) {
      const r = await collectStatus({ plan: String(args.plan), crmMonXml: args['crm-mon-xml'] as string | undefined, ipsecStatus: (args['ipsec-status'] as string[]).map(String), local: args.local as boolean });
      if (args.json) say(JSON.stringify(r, null, 2) + '\n');
      else sayFormatted(renderStatus(r, { colour: process.stdout.isTTY === true && !process.env.NO_COLOR }));
      return r.ok ? 0 : 1;
    }
    const tty = process.stderr.isTTY === true;
    const timeout = args.timeout as number;
    const watch = args.watch as number | undefined;
    const once = () =>
      overcloudStatus({
        ...inputOptionsOf(args, String(args.inventory)),
        hosts: (args.host as string[]).map(String),
        forks: args.forks as number,
        timeoutMs: timeout * 1000,
        sshOptions: (args['ssh-option'] as string[]).map(String),
        // On a terminal, one line that counts the nodes answered, erased once all have: the summary stays the first line.
        ...(tty ? { onProgress: (done: number, total: number) => process.stderr.write(done === total ? '\r\x1b[K' : `\rcollecting from ${total} node(s): ${done} answered`) } : {}),
      });
    for (;;) {
      const r = await once();
      if (args.json) say(JSON.stringify(r, null, 2) + '\n');
      else {
        // The report's values were made printable where it put them; its colours and the redraw are ours.
        const text = renderOvercloudStatus(r, { colour: process.stdout.isTTY === true && !process.env.NO_COLOR });
        sayFormatted(watch ? `\x1b[H\x1b[2J${new Date().toISOString()}\n${text}` : text);
      }
      if (!watch) return r.ok ? 0 : 1;
      await new Promise((res) => setTimeout(res, watch * 1000));
    }
  },
};
