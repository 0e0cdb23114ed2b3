// tripleo-ipsec pacemaker apply|remove: the plan as one CIB change.
import type { Argv } from 'yargs';
import { applyPlan, removePlan } from '../../pacemaker/cibUpdate.js';
import { outputPaths } from '../../model/names.js';
import { readPlan } from '../../pacemaker/planFile.js';
import { say } from '../output.js';
import type { Command } from './command.js';

export const pacemakerCommand: Command = {
  command: 'pacemaker <action>',
  describe: 'Apply or remove the generated Pacemaker resources and constraints (one CIB change)',
  builder: (y: Argv) =>
    y
      .positional('action', { choices: ['apply', 'remove'] as const, describe: 'apply: create or update; remove: take out what the plan names' })
      .option('plan', { type: 'string', demandOption: true, describe: `${outputPaths.pacemakerPlan} written by generate` })
      .option('cib-file', { type: 'string', describe: 'work on this CIB file instead of the live cluster' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print what would change, change nothing' })
      .option('upgrade', { type: 'boolean', default: false, describe: "replace the Ansible role's resources of the same names (ocf:heartbeat:ipsec) and their constraints" }),
  handler: async (a) => {
    const plan = readPlan(String(a.plan));
    const opts = { cibFile: a['cib-file'] as string | undefined, dryRun: a['dry-run'] as boolean, replaceRoleResources: a.upgrade as boolean };
    const r = a.action === 'apply' ? await applyPlan(plan, opts) : await removePlan(plan, opts);
    for (const c of r.changes) say(`${opts.dryRun ? 'would ' : ''}${c}\n`);
    say(r.changes.length === 0 ? 'no change: the cluster already matches the plan\n' : r.pushed ? `pushed ${r.changes.length} change(s) as one CIB update\n` : '');
    return 0;
  },
};
