// The input edge of every command that works from a TripleO deployment's
// files (generate, apply, heat-env): read and parse them, layer IpsecVars,
// and, once the Overcloud is known to be valid, the key material: the PSK
// (given, kept from an earlier run, or new) and the certificates' CA or
// bundle. What comes after works on values only.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, type Ca } from '../cert/pki.js';
import { InputError, type Problem, show, ValidationError } from '../model/errors.js';
import { parseInventoryText, type Inventory } from '../model/inventory.js';
import { type AlgorithmChecker, resolveIpsecVars, varLayers } from '../model/ipsecVars.js';
import { certNames, outputPaths } from '../model/names.js';
import { parseNetworkData, type NetworkDataEntry } from '../model/networkData.js';
import type { IpsecVars, Overcloud } from '../model/types.js';
import { newPsk, pskOfEarlierFile } from '../secrets/psk.js';
import { readInputBytes, readInputFile, readYamlInput } from './read.js';

export interface VarsOptions {
  /** Heat environments with parameter_defaults.IpsecVars, later wins. */
  envPaths: string[];
  /** IpsecVars key=value, over every environment. */
  sets: string[];
  checkAlgorithm?: AlgorithmChecker;
}

export interface InputOptions extends VarsOptions {
  inventoryPath: string;
  networkDataPath?: string;
  /** The stack of a multi-stack inventory (default: its only one, or overcloud). */
  stack?: string;
  /** config-download's service_vip_vars.yaml ({redis: IP, ovn_dbs: IP}), for VIPs the inventory lacks. */
  serviceVipsPath?: string;
}

export type UnkeyedVars = Omit<IpsecVars, 'ipsec_psk'> & { ipsec_psk?: string };

export interface Inputs {
  inventory: Inventory;
  /** undefined when no network_data.yaml was given. */
  networkData?: NetworkDataEntry[];
  vars: UnkeyedVars;
  /** Whether an environment or --set gave ipsec_psk. */
  pskGiven: boolean;
  stack?: string;
  serviceVips?: Record<string, unknown>;
  /** From a deployed-networks environment among -e (DeployedNetworkEnvironment.net_cidr_map). */
  netCidrMap?: Record<string, string[]>;
}

/** IpsecVars from environments and --set, validated; every problem at once. */
export function loadVars(o: VarsOptions, problems: Problem[]): { vars: UnkeyedVars; pskGiven: boolean; netCidrMap?: Record<string, string[]> } {
  const environments = o.envPaths.map((path) => ({ path, doc: readYamlInput(path, 'heat environment') }));
  const layers = varLayers(environments, o.sets, problems);
  // overcloud-networks-deployed.yaml (openstack overcloud network provision) carries every network's subnets.
  let netCidrMap: Record<string, string[]> | undefined;
  for (const e of environments) {
    const m = (e.doc as { parameter_defaults?: { DeployedNetworkEnvironment?: { net_cidr_map?: unknown } } } | null)?.parameter_defaults?.DeployedNetworkEnvironment?.net_cidr_map;
    if (m === undefined) continue;
    if (typeof m !== 'object' || m === null || Array.isArray(m) || !Object.values(m).every((v) => Array.isArray(v))) {
      problems.push({ field: `${e.path}: DeployedNetworkEnvironment.net_cidr_map`, value: show(m), message: 'expected a mapping of network to a list of CIDRs' });
      continue;
    }
    netCidrMap = { ...netCidrMap, ...(m as Record<string, string[]>) };
  }
  return { vars: resolveIpsecVars(layers, problems, o.checkAlgorithm), pskGiven: layers.some((l) => 'ipsec_psk' in l), netCidrMap };
}

/** service_vip_vars.yaml as config-download writes it: a mapping of service name to address (or list). */
function loadServiceVips(path: string, problems: Problem[]): Record<string, unknown> | undefined {
  const doc = readYamlInput(path, 'service VIP data');
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    problems.push({ field: path, value: show(doc), message: 'service VIP data must be a mapping of service to address (config-download\'s service_vip_vars.yaml)' });
    return undefined;
  }
  return doc as Record<string, unknown>;
}

/** Every input file, parsed; a ValidationError carries every problem found. */
export function loadInputs(o: InputOptions): Inputs {
  const problems: Problem[] = [];
  const inventory = parseInventoryText(readInputFile(o.inventoryPath, 'inventory'), o.inventoryPath);
  const networkData = o.networkDataPath ? parseNetworkData(readInputFile(o.networkDataPath, 'network data'), o.networkDataPath, problems) : undefined;
  const { vars, pskGiven, netCidrMap } = loadVars(o, problems);
  const serviceVips = o.serviceVipsPath ? loadServiceVips(o.serviceVipsPath, problems) : undefined;
  if (problems.length) throw new ValidationError(problems);
  return { inventory, networkData, vars, pskGiven, stack: o.stack, serviceVips, netCidrMap };
}

export interface KeyOptions {
  /** generate's output directory: a PSK and a CA an earlier run made there are reused. */
  outDir: string;
  /** ipsec_auth=cert: the cluster CA (PEM files), or create one (kept in outDir/ca). */
  caCert?: string;
  caKey?: string;
  caCreate?: boolean;
  /**
   * ipsec_auth=cert on a node (apply): the host's bundle generate wrote (its
   * var/lib/tripleo-ipsec directory), used instead of issuing: the CA key
   * stays with the operator.
   */
  certBundleDir?: string;
}

/** One host's certificate files as generate wrote them. */
export interface CertBundle {
  p12: Buffer;
  certPem: string;
  caCertPem: string;
}

export type Certificates =
  | { from: 'ca'; ca: Ca; caSource: 'given' | 'kept' | 'created' }
  | { from: 'bundle'; bundles: Map<string, CertBundle> };

export interface KeyMaterial {
  psk: 'given' | 'generated' | 'reused';
  certificates?: Certificates;
}

/**
 * The PSK and the certificates' source, for an Overcloud already validated
 * (nothing is created for a run that would fail): sets overcloud.vars.ipsec_psk
 * when it was not given.
 */
export function loadKeyMaterial(o: KeyOptions, overcloud: Overcloud, pskGiven: boolean, hosts: string[]): KeyMaterial {
  let psk: KeyMaterial['psk'] = 'given';
  // Opportunistic mode keys nothing by PSK.
  if (!pskGiven && !overcloud.vars.use_opportunistic_ipsec) {
    const kept = join(o.outDir, outputPaths.pskFile);
    const reused = existsSync(kept) ? pskOfEarlierFile(readYamlInput(kept, 'generated PSK file'), kept) : undefined;
    overcloud.vars.ipsec_psk = reused ?? newPsk();
    psk = reused ? 'reused' : 'generated';
  }
  if (overcloud.vars.ipsec_auth !== 'cert') return { psk };
  if (o.certBundleDir) {
    const dir = o.certBundleDir;
    const bundles = new Map<string, CertBundle>();
    for (const h of hosts) {
      bundles.set(h, {
        p12: readInputBytes(join(dir, certNames.p12(h)), 'certificate bundle file'),
        certPem: readInputFile(join(dir, certNames.cert(h)), 'certificate bundle file'),
        caCertPem: readInputFile(join(dir, certNames.caCert), 'certificate bundle file'),
      });
    }
    return { psk, certificates: { from: 'bundle', bundles } };
  }
  const readCa = (cert: string, key: string): Ca => ({ certPem: readInputFile(cert, 'CA certificate'), keyPem: readInputFile(key, 'CA key') });
  if (o.caCert || o.caKey) {
    if (!o.caCert || !o.caKey) throw new InputError('--ca-cert and --ca-key go together');
    return { psk, certificates: { from: 'ca', ca: readCa(o.caCert, o.caKey), caSource: 'given' } };
  }
  const [keptCert, keptKey] = [join(o.outDir, outputPaths.caCert), join(o.outDir, outputPaths.caKey)];
  if (existsSync(keptCert) && existsSync(keptKey)) return { psk, certificates: { from: 'ca', ca: readCa(keptCert, keptKey), caSource: 'kept' } };
  if (o.caCreate) return { psk, certificates: { from: 'ca', ca: createCa(), caSource: 'created' } };
  throw new InputError('ipsec_auth=cert needs the cluster CA: --ca-cert FILE --ca-key FILE, or --ca-create');
}
