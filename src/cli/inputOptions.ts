// The input options of every command that builds a plan (generate, apply,
// status): declared once, read once, so the three always build the same plan
// from the same arguments.
import type { Argv } from 'yargs';
import type { InputOptions } from '../inputs/load.js';
import { InputError } from '../model/errors.js';
import { NETWORK_NAME, RESOURCE_ID } from '../model/names.js';

// No defaults for the lists: apply --tree conflicts with each of these, and
// yargs counts a defaulted option as given.
export function withInputOptions<T>(y: Argv<T>) {
  return y
    .option('inventory', { alias: 'i', type: 'string', describe: 'tripleo-ansible-inventory output (static YAML or dynamic JSON)' })
    .option('network-data', { alias: 'n', type: 'string', describe: "TripleO network_data.yaml (subnets); without it, the inventory's <net>_cidr" })
    .option('environment', { alias: 'e', type: 'string', array: true, describe: 'heat environment with parameter_defaults.IpsecVars (repeatable; later wins)' })
    .option('set', { type: 'string', array: true, describe: 'IpsecVars key=value (wins over -e)' })
    .option('stack', { type: 'string', describe: 'the stack of a multi-stack inventory (default: its only one, or overcloud)' })
    .option('service-vips', { type: 'string', describe: "config-download's service_vip_vars.yaml (Redis, OVN DBs VIPs) for VIPs the inventory lacks" })
    .option('vip-resource', { type: 'string', array: true, describe: 'VIP name=Pacemaker resource, where it is not ip-<address> (repeatable)' });
}

/** The names of the shared options, for `conflicts` (apply --tree takes none of them). */
export const INPUT_OPTION_NAMES = ['inventory', 'network-data', 'environment', 'set', 'stack', 'service-vips', 'vip-resource'] as const;

export interface InputArgs {
  inventory?: string;
  'network-data'?: string;
  environment?: string[];
  set?: string[];
  stack?: string;
  'service-vips'?: string;
  'vip-resource'?: string[];
}

/** The InputOptions the shared options give (`inventory` resolved by the caller when it has a default). */
export function inputOptionsOf(a: InputArgs, inventoryPath: string, defaults: { networkDataPath?: string } = {}): InputOptions {
  return {
    inventoryPath,
    networkDataPath: a['network-data'] ?? defaults.networkDataPath,
    envPaths: (a.environment ?? []).map(String),
    sets: (a.set ?? []).map(String),
    stack: a.stack,
    serviceVipsPath: a['service-vips'],
    vipResources: parseVipResources((a['vip-resource'] ?? []).map(String)),
  };
}

/** The --vip-resource pairs (<vip name>=<resource id>), each checked. */
function parseVipResources(specs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of specs) {
    const [vip, rsc, ...rest] = s.split('=');
    if (rest.length || !vip || !rsc || !NETWORK_NAME.test(vip) || !RESOURCE_ID.test(rsc)) {
      throw new InputError(`--vip-resource ${JSON.stringify(s)}: expected <vip name>=<resource id>, e.g. internal_api=ip-192.0.2.100`);
    }
    out[vip] = rsc;
  }
  return out;
}
