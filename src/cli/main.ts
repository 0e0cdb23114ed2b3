// tripleo-ipsec: the operator's CLI. Parses arguments, calls the library,
// turns results into words and exit codes.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { join, resolve } from 'node:path';
import { generate } from '../generate.js';
import { writeTreeAtomically } from '../output/atomicTree.js';
import { checkEsp } from '../libreswan/algparse.js';
import { IPSEC_VAR_DEFAULTS, IPSEC_VAR_DOCS } from '../model/ipsecVars.js';
import { handleError } from './handleError.js';
import { generateSummary } from './generateSummary.js';
import { TripleoIpsecError, UsageError } from '../model/errors.js';
import { version } from '../../package.json';
import { installAgent } from './installAgent.js';
import { packageRoot } from './paths.js';
import { applyPlan, removePlan } from '../pacemaker/cibUpdate.js';
import { readPlan, parseVipResources } from './planFile.js';
import { collectStatus } from '../status/collect.js';
import { overcloudStatus } from '../status/overcloudStatus.js';
import { renderOvercloudStatus } from '../status/overcloudReport.js';
import { applyNode } from '../apply/applyNode.js';
import { writeHeatEnv } from '../heatEnv.js';
import { DEFAULT_ALGORITHM, mtuAdvice } from '../mtu.js';
import { renderStatus } from '../status/statusReport.js';
import { DEFAULT_CTLSOCKET } from '../libreswan/whack.js';
import { nodePaths, outputPaths } from '../model/names.js';
import { rotatePskFile } from '../secrets/psk.js';

const varsHelp = Object.entries(IPSEC_VAR_DOCS)
  .map(([k, doc]) => `  ${k}: ${doc} (default: ${k in IPSEC_VAR_DEFAULTS ? JSON.stringify((IPSEC_VAR_DEFAULTS as Record<string, unknown>)[k]) : 'generated'})`)
  .join('\n');

/**
 * Every command runs here and every failure, of any command, goes to the one
 * handler (handleError): commands only throw.
 */
export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (e) {
    return handleError(e, { debug: wantsDebug(argv) });
  }
}

/** --debug, read before yargs does: a failure may come before (or from) yargs' parsing. */
function wantsDebug(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((x) => x === '--debug' || x === '--debug=true');
}

/** yargs' own complaints (unknown option, missing argument) are usage errors; what commands throw passes through. */
function failure(msg: string | null | undefined, err: Error | undefined): Error {
  if (err instanceof TripleoIpsecError || (err && !msg)) return err;
  return new UsageError(msg ?? String(err), { cause: err });
}

async function run(argv: string[]): Promise<number> {
  let code = 0;
  await yargs(argv)
    .scriptName('tripleo-ipsec')
    .usage('$0 <command> [options]\n\nIPsec (libreswan) for the isolated networks of a TripleO overcloud.')
    .option('debug', { type: 'boolean', default: false, global: true, describe: 'on any error, also print its stack trace (and its causes)' })
    .command(
      'generate',
      'Generate per-host libreswan tunnels, secrets and firewall rules from a TripleO inventory',
      (y) =>
        y
          .option('inventory', { alias: 'i', type: 'string', describe: 'tripleo-ansible-inventory output (static YAML or dynamic JSON)' })
          .option('network-data', { alias: 'n', type: 'string', describe: 'TripleO network_data.yaml (subnets); without it, the inventory\'s <net>_cidr' })
          .option('environment', { alias: 'e', type: 'string', array: true, default: [], describe: 'heat environment with parameter_defaults.IpsecVars (repeatable; later wins)' })
          .option('set', { type: 'string', array: true, default: [], describe: 'IpsecVars key=value (wins over -e)' })
          .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'output directory (replaced atomically)' })
          .option('host', { type: 'string', array: true, default: [], describe: 'only these hosts (repeatable)' })
          .option('stack', { type: 'string', describe: 'the stack of a multi-stack inventory (default: its only one, or overcloud)' })
          .option('service-vips', { type: 'string', describe: "config-download's service_vip_vars.yaml (Redis, OVN DBs VIPs) for VIPs the inventory lacks" })
          .option('ca-cert', { type: 'string', describe: 'ipsec_auth=cert: the cluster CA certificate (PEM)' })
          .option('ca-key', { type: 'string', describe: 'ipsec_auth=cert: the cluster CA key (PEM)' })
          .option('ca-create', { type: 'boolean', default: false, describe: 'ipsec_auth=cert: create a CA into DIR/ca (reused by later runs)' })
          .option('vip-resource', { type: 'string', array: true, default: [], describe: 'VIP name=Pacemaker resource, where it is not ip-<address> (repeatable)' })
          .option('example', { type: 'boolean', default: false, describe: 'use the built-in sample overcloud (3 controllers, 2 computes, 1 Ceph node)' })
          .check((a) => {
            if (!a.example && !a.inventory) throw new UsageError('either --inventory or --example is required');
            return true;
          })
          .epilogue(`IpsecVars:\n${varsHelp}`),
      (a) => {
        const sample = join(packageRoot(), 'examples', 'sample-overcloud');
        const outDir = resolve(a.out);
        let checkedBy = 'builtin';
        const r = generate({
          inventoryPath: a.example && !a.inventory ? join(sample, 'inventory.yaml') : a.inventory!,
          networkDataPath: a.example && !a['network-data'] ? join(sample, 'network_data.yaml') : a['network-data'],
          envPaths: a.environment as string[],
          sets: a.set as string[],
          outDir,
          hosts: a.host as string[],
          stack: a.stack,
          serviceVipsPath: a['service-vips'],
          vipResources: parseVipResources(a['vip-resource'] as string[]),
          caCert: a['ca-cert'],
          caKey: a['ca-key'],
          caCreate: a['ca-create'],
          checkAlgorithm: (alg) => {
            const v = checkEsp(alg);
            checkedBy = v.checkedBy;
            return v;
          },
        });
        if (checkedBy === 'builtin' && !a.set.some((s) => String(s).startsWith('ipsec_algorithm'))) checkedBy = 'default';
        const written = writeTreeAtomically(outDir, r.eachFile());
        process.stdout.write(generateSummary(r, a.out, checkedBy, written));
      },
    )
    .command('heat-env', 'Write the heat environment for `openstack overcloud deploy -e`: IpsecVars validated, a PSK generated when none is given (0600)', (y) =>
      y
        .option('environment', { alias: 'e', type: 'string', array: true, default: [], describe: 'base environments with IpsecVars (later wins)' })
        .option('set', { type: 'string', array: true, default: [], describe: 'IpsecVars key=value (wins over -e)' })
        .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'the environment file to write (mode 0600)' })
        .epilogue(`IpsecVars:\n${varsHelp}`),
      (a) => {
        const r = writeHeatEnv({
          envPaths: a.environment as string[],
          sets: a.set as string[],
          out: a.out,
          serviceTemplate: join(packageRoot(), 'heat-env', 'ipsec-service.yaml'),
          checkAlgorithm: checkEsp,
        });
        process.stdout.write(`wrote ${a.out} (mode 0600)${r.pskGenerated ? ' with a newly generated ipsec_psk' : ''}\n`);
      },
    )
    .command('mtu', 'The tenant (SDN) MTU that leaves room for IPsec, with the arithmetic', (y) =>
      y
        .option('link-mtu', { type: 'number', default: 1500, describe: 'MTU of the physical/isolated network' })
        .option('encap', { choices: ['vxlan', 'geneve', 'none'] as const, default: 'vxlan' as const, describe: 'tenant overlay encapsulation' })
        .option('ipv6', { type: 'boolean', default: false, describe: 'the tenant network (the underlay) is IPv6' })
        .option('algorithm', { type: 'string', default: DEFAULT_ALGORITHM, describe: 'ipsec_algorithm (its ESP framing sets the overhead)' })
        .option('json', { type: 'boolean', default: false }),
      (a) => {
        const m = mtuAdvice(a['link-mtu'], a.encap, a.ipv6 ? 6 : 4, a.algorithm);
        process.stdout.write(a.json ? JSON.stringify(m) + '\n' : `tenant MTU ${m.tenantMtu}: ${m.arithmetic}\n`);
      },
    )
    .command('apply', "What a deploy step runs on one node: its files, ipsec.conf includes, pluto reloads, firewall, and on the bootstrap node the Pacemaker plan", (y) =>
      y
        .option('inventory', { alias: 'i', type: 'string', describe: 'tripleo-ansible-inventory output (or --tree)' })
        .option('tree', { type: 'string', describe: `this host's tree as generate wrote it elsewhere (OUT/<host>, with ${nodePaths.nodePlan}): installed without the inventory` })
        .conflicts('tree', ['inventory', 'network-data', 'environment', 'set', 'stack', 'service-vips', 'cert-bundle'])
        .option('network-data', { alias: 'n', type: 'string', describe: 'TripleO network_data.yaml' })
        .option('environment', { alias: 'e', type: 'string', array: true, describe: 'heat environments with IpsecVars (the PSK included)' })
        .option('set', { type: 'string', array: true, describe: 'IpsecVars key=value' })
        .option('host', { type: 'string', demandOption: true, describe: 'this node\'s inventory host name' })
        .option('stack', { type: 'string', describe: 'the stack of a multi-stack inventory (default: its only one, or overcloud)' })
        .option('service-vips', { type: 'string', describe: "config-download's service_vip_vars.yaml, for VIPs the inventory lacks" })
        .option('root', { type: 'string', default: '/', describe: 'file system root to write under (tests, chroots)' })
        .option('step', { type: 'number', choices: [1, 3], describe: '1: node-to-node tunnels and firewall; 3: VIP tunnels and (bootstrap node) Pacemaker' })
        .option('ctlsocket', { type: 'string', default: DEFAULT_CTLSOCKET, describe: "pluto's control socket" })
        .option('pacemaker', { type: 'boolean', default: true, describe: 'apply the Pacemaker plan on the bootstrap node (--no-pacemaker to skip)' })
        .option('bootstrap-node', { type: 'string', describe: 'the node that applies the Pacemaker plan (default: first pacemaker node)' })
        .option('cert-bundle', { type: 'string', describe: `ipsec_auth=cert: this host's ${nodePaths.stateDir} directory from generate (certificate, PKCS#12, CA)` })
        .option('nssdir', { type: 'string', default: nodePaths.nssDir, describe: "pluto's NSS database (ipsec_auth=cert imports the node's certificate there)" })
        .option('uninstall', { type: 'boolean', default: false, describe: 'remove exactly what earlier runs created' })
        .option('upgrade', { type: 'boolean', default: false, describe: 'replace overcloud-* files an earlier installation left' }),
      async (a) => {
        const inputs = a.inventory
          ? {
              inputs: {
                inventoryPath: a.inventory,
                networkDataPath: a['network-data'],
                envPaths: (a.environment ?? []) as string[],
                sets: (a.set ?? []) as string[],
                stack: a.stack,
                serviceVipsPath: a['service-vips'],
                certBundleDir: a['cert-bundle'],
                checkAlgorithm: checkEsp,
              },
            }
          : undefined;
        const r = await applyNode({
          source: a.tree ? { tree: a.tree } : inputs,
          host: a.host,
          root: a.root,
          step: a.step as 1 | 3 | undefined,
          ctlsocket: a.ctlsocket,
          pacemaker: a.pacemaker,
          bootstrapNode: a['bootstrap-node'],
          nssdir: a.nssdir,
          uninstall: a.uninstall,
          upgrade: a.upgrade,
        });
        for (const c of r.changes) process.stdout.write(`${c}\n`);
        for (const p of r.pluto) process.stdout.write(`pluto: ${p}\n`);
        if (r.plutoSkipped) process.stdout.write('pluto is not running: files only\n');
        if (r.changes.length === 0 && r.pluto.length === 0) process.stdout.write('no change\n');
      },
    )
    .command('pacemaker <action>', 'Apply or remove the generated Pacemaker resources and constraints (one CIB change)', (y) =>
      y
        .positional('action', { choices: ['apply', 'remove'] as const, describe: 'apply: create or update; remove: take out what the plan names' })
        .option('plan', { type: 'string', demandOption: true, describe: `${outputPaths.pacemakerPlan} written by generate` })
        .option('cib-file', { type: 'string', describe: 'work on this CIB file instead of the live cluster' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'print what would change, change nothing' }),
      async (a) => {
        const plan = readPlan(a.plan);
        const opts = { cibFile: a['cib-file'], dryRun: a['dry-run'] };
        const r = a.action === 'apply' ? await applyPlan(plan, opts) : await removePlan(plan, opts);
        for (const c of r.changes) process.stdout.write(`${a['dry-run'] ? 'would ' : ''}${c}\n`);
        process.stdout.write(r.changes.length === 0 ? 'no change: the cluster already matches the plan\n' : r.pushed ? `pushed ${r.changes.length} change(s) as one CIB update\n` : '');
      },
    )
    .command('status', "Every node's tunnels against the plan, over SSH (--inventory); or the cluster's VIP tunnels from saved outputs (--plan)", (y) =>
      y
        .option('inventory', { alias: 'i', type: 'string', describe: 'tripleo-ansible-inventory output: reach every node over SSH as Ansible would' })
        .option('network-data', { alias: 'n', type: 'string', describe: 'TripleO network_data.yaml' })
        .option('environment', { alias: 'e', type: 'string', array: true, default: [], describe: 'heat environments with IpsecVars (no key needed)' })
        .option('host', { type: 'string', array: true, default: [], describe: 'only these hosts (repeatable)' })
        .option('stack', { type: 'string', describe: 'the stack of a multi-stack inventory' })
        .option('service-vips', { type: 'string', describe: "config-download's service_vip_vars.yaml" })
        .option('forks', { type: 'number', default: 10, describe: 'nodes queried at once' })
        .option('timeout', { type: 'number', default: 30, describe: 'seconds per node before it is reported unreachable' })
        .option('ssh-option', { type: 'string', array: true, default: [], describe: 'extra ssh -o option (repeatable)' })
        .option('watch', { type: 'number', describe: 'redraw every SECONDS until interrupted' })
        .option('plan', { type: 'string', describe: `without --inventory: ${outputPaths.pacemakerPlan} written by generate` })
        .option('crm-mon-xml', { type: 'string', describe: 'with --plan: saved `crm_mon -1 --output-as=xml` (default: run it)' })
        .option('ipsec-status', { type: 'string', array: true, default: [], describe: 'with --plan: NODE=FILE, saved `ipsec status` of a node (repeatable)' })
        .option('local', { type: 'boolean', default: false, describe: "with --plan: also read this node's pluto (node name from crm_node -n)" })
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable output, in full' })
        .check((a) => {
          if (!a.inventory && !a.plan) throw new UsageError('status needs --inventory (every node over SSH) or --plan (saved outputs)');
          if (a.forks !== undefined && !(Number.isInteger(a.forks) && a.forks >= 1)) throw new UsageError(`--forks ${a.forks}: a whole number of at least 1`);
          if (!(a.timeout > 0)) throw new UsageError(`--timeout ${a.timeout}: seconds, more than 0`);
          return true;
        }),
      async (a) => {
        if (!a.inventory) {
          const r = await collectStatus({ plan: a.plan!, crmMonXml: a['crm-mon-xml'], ipsecStatus: a['ipsec-status'] as string[], local: a.local });
          process.stdout.write(a.json ? JSON.stringify(r, null, 2) + '\n' : renderStatus(r));
          if (!r.ok) code = 1;
          return;
        }
        const tty = process.stderr.isTTY === true;
        const once = () =>
          overcloudStatus({
            inventoryPath: a.inventory!,
            networkDataPath: a['network-data'],
            envPaths: a.environment as string[],
            sets: [],
            stack: a.stack,
            serviceVipsPath: a['service-vips'],
            hosts: a.host as string[],
            forks: a.forks,
            timeoutMs: a.timeout * 1000,
            sshOptions: a['ssh-option'] as string[],
            // On a terminal, one line that counts the nodes answered, erased once all have: the summary stays the first line.
            ...(tty ? { onProgress: (done: number, total: number) => process.stderr.write(done === total ? '\r\x1b[K' : `\rcollecting from ${total} node(s): ${done} answered`) } : {}),
          });
        for (;;) {
          const r = await once();
          const text = a.json ? JSON.stringify(r, null, 2) + '\n' : renderOvercloudStatus(r, { colour: process.stdout.isTTY === true && !process.env.NO_COLOR });
          process.stdout.write(a.watch ? `\x1b[H\x1b[2J${new Date().toISOString()}\n${text}` : text);
          code = r.ok ? 0 : 1;
          if (!a.watch) return;
          await new Promise((res) => setTimeout(res, a.watch! * 1000));
        }
      },
    )
    .command(
      'rotate-psk',
      'Replace the PSK generate made and keeps (TripleO: on the undercloud); the next deploy installs the new keys at step 1 and re-authenticates every tunnel at step 3',
      (y) => y.option('out', { alias: 'o', type: 'string', demandOption: true, describe: `generate's output directory, with ${outputPaths.pskFile} (TripleO: ~/overcloud-deploy/<stack>/tripleo-ipsec/out)` }),
      (a) => {
        const path = rotatePskFile(a.out);
        process.stdout.write(
          `wrote a new PSK into ${path} (mode 0600)\n` +
            'next: run the same deploy (openstack overcloud deploy ..., or generate then apply --step 1 on every node, then apply --step 3 on every node):\n' +
            '  step 1 installs the new keys everywhere, tunnels keep running; step 3 re-authenticates each tunnel once, from its initiator\n',
        );
      },
    )
    .command(
      'install-agent',
      'Install the ocf:tripleo:ipsec resource agent',
      (y) => y.option('ocf-root', { type: 'string', default: '/usr/lib/ocf', describe: 'OCF root; the agent goes to DIR/resource.d/tripleo/ipsec' }),
      (a) => {
        const dest = installAgent(a['ocf-root']);
        process.stdout.write(`installed ocf:tripleo:ipsec as ${dest}\n`);
      },
    )
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .alias('h', 'help')
    .version(version)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((msg, err) => {
      throw failure(msg, err);
    })
    .parseAsync();
  return code;
}

main(hideBin(process.argv)).then(
  (code) => process.exit(code),
  (e) => process.exit(handleError(e)),
);
