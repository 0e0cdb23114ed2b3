// tripleo-ipsec generate: every host's tree, the Pacemaker plan and the
// summary, into an output directory of which only our own files are ever
// replaced or removed.
import type { Argv } from 'yargs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { generate } from '../../generate.js';
import { readYamlInput } from '../../inputs/read.js';
import { inOutputLayout, outputPaths } from '../../model/names.js';
import { writeOutputTree } from '../../output/outputTree.js';
import { generateSummary } from '../generateSummary.js';
import { inputOptionsOf, withInputOptions, type InputArgs } from '../inputOptions.js';
import { say } from '../output.js';
import { packageRoot } from '../paths.js';
import { UsageError } from '../../model/errors.js';
import { varsHelp } from './varsHelp.js';
import type { Command } from './command.js';

export const generateCommand: Command = {
  command: 'generate',
  describe: 'Generate per-host libreswan tunnels, secrets and firewall rules from a TripleO inventory',
  builder: (y: Argv) =>
    withInputOptions(y)
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'output directory: new, empty, or one generate wrote (only its own files are replaced or removed)' })
      .option('host', { type: 'string', array: true, default: [] as string[], describe: 'only these hosts (repeatable)' })
      .option('ca-cert', { type: 'string', describe: 'ipsec_auth=cert: the cluster CA certificate (PEM)' })
      .option('ca-key', { type: 'string', describe: 'ipsec_auth=cert: the cluster CA key (PEM)' })
      .option('ca-create', { type: 'boolean', default: false, describe: 'ipsec_auth=cert: create a CA into DIR/ca (reused by later runs)' })
      .option('example', { type: 'boolean', default: false, describe: 'use the built-in sample overcloud (3 controllers, 2 computes, 1 Ceph node)' })
      .check((a) => {
        if (!a.example && !a.inventory) throw new UsageError('either --inventory or --example is required');
        return true;
      })
      .epilogue(`IpsecVars:\n${varsHelp()}`),
  handler: async (a) => {
    const sample = join(packageRoot(), 'examples', 'sample-overcloud');
    const args = a as unknown as InputArgs & { out: string; host: string[]; example: boolean; 'ca-cert'?: string; 'ca-key'?: string; 'ca-create': boolean };
    const outDir = resolve(args.out);
    const hosts = args.host.map(String);
    const r = generate({
      ...inputOptionsOf(args, args.example && !args.inventory ? join(sample, 'inventory.yaml') : args.inventory!, {
        networkDataPath: args.example && !args['network-data'] ? join(sample, 'network_data.yaml') : undefined,
      }),
      outDir,
      hosts,
      caCert: args['ca-cert'],
      caKey: args['ca-key'],
      caCreate: args['ca-create'],
    });
    const inRun = new Set(r.nodes.map((n) => n.name));
    const written = await writeOutputTree(outDir, renderThreads(r.nodes.length) > 1 && bundle ? r.eachFileInWorkers(bundle, renderThreads(r.nodes.length)) : r.eachFile(), {
      kept: r.keptFiles,
      // With --host, the other hosts' trees stay as they are.
      ...(hosts.length ? { scope: (p: string) => !p.includes('/') || p.startsWith('cluster/') || p.startsWith('ca/') || inRun.has(p.slice(0, p.indexOf('/'))) } : {}),
      earlierLayout: (p, dir) => inOutputLayout(p, earlierHosts(dir)),
      stack: r.overcloud.stack,
    });
    say(generateSummary(r, args.out, written));
    return 0;
  },
};

/** The bundled CLI (dist/cli.cjs), which serves render workers; undefined when run from sources (tests): one thread. */
const bundle = typeof __filename === 'string' && __filename.endsWith('.cjs') ? __filename : undefined;

/**
 * Worker threads for the hosts' files: one per core (the writer waits on
 * them more than it works), none for an overcloud small enough that starting
 * them would cost more than they save (about 40 ms each).
 */
function renderThreads(hosts: number): number {
  return hosts < 50 ? 1 : Math.min(availableParallelism(), 8);
}

/** The hosts an earlier version's summary.json names (its output kept no record of its files). */
function earlierHosts(dir: string): Set<string> {
  try {
    const s = readYamlInput(join(dir, outputPaths.summary), 'summary of an earlier run') as { hosts?: { host?: unknown }[] };
    return new Set((s?.hosts ?? []).map((h) => h?.host).filter((h): h is string => typeof h === 'string'));
  } catch {
    return new Set();
  }
}
