// The input edge of every command that works from a TripleO deployment's
// files (generate, apply, status, heat-env): read and parse them, layer
// IpsecVars, ask libreswan about the algorithm, and, once the Overcloud is
// known to be valid, make the key material at one explicit stage: the PSK
// (given, kept from an earlier run, or new) and every host's certificate
// (issued, or kept from an earlier run, or read from a bundle). What comes
// after works on values only.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, issueHostCert, reusableHostCert, type Ca } from '../cert/pki.js';
import { InputError, ValidationError } from '../model/errors.js';
import { type Problem, show } from '../model/problems.js';
import { parseInventoryText, type Inventory } from '../model/inventory.js';
import { mergeLayers, resolveIpsecVars, varLayers } from '../model/ipsecVars.js';
import { certNames, nodePaths, outputPaths } from '../model/names.js';
import { parseNetworkData, type NetworkDataEntry } from '../model/networkData.js';
import type { HostCertificate, IpsecVars, Overcloud, OvercloudNode } from '../model/types.js';
import type { AlgorithmVerdict } from '../model/algorithms.js';
import { checkEsp, checkEspOffline } from '../libreswan/algparse.js';
import { newPsk, pskOfEarlierFile } from '../secrets/psk.js';
import { redactSecrets, rememberSecret } from '../secrets/redaction.js';
import { readInputBytes, readInputFile, readYamlInput } from './read.js';

/** Who judged ipsec_algorithm: libreswan itself, the built-in table (no libreswan here), or nobody (the default). */
export type AlgorithmJudge = 'algparse' | 'builtin' | 'default';

export interface VarsOptions {
  /** Heat environments with parameter_defaults.IpsecVars, later wins. */
  envPaths: string[];
  /** IpsecVars key=value, over every environment. */
  sets: string[];
  /** How ipsec_algorithm is judged (default: libreswan's algparse when installed, else the built-in table). */
  checkAlgorithm?: (algorithm: string) => AlgorithmVerdict & { checkedBy: 'algparse' | 'builtin' };
}

export interface InputOptions extends VarsOptions {
  inventoryPath: string;
  networkDataPath?: string;
  /** The stack of a multi-stack inventory (default: its only one, or overcloud). */
  stack?: string;
  /** config-download's service_vip_vars.yaml ({redis: IP, ovn_dbs: IP}), for VIPs the inventory lacks. */
  serviceVipsPath?: string;
  /** VIP name -> Pacemaker resource name, where it is not TripleO's ip-<address>. */
  vipResources?: Record<string, string>;
}

export type UnkeyedVars = Omit<IpsecVars, 'ipsec_psk'> & { ipsec_psk?: string };

export interface Inputs {
  inventory: Inventory;
  /** undefined when no network_data.yaml was given. */
  networkData?: NetworkDataEntry[];
  vars: UnkeyedVars;
  /** Whether an environment or --set gave ipsec_psk. */
  pskGiven: boolean;
  algorithmJudge: AlgorithmJudge;
  stack?: string;
  serviceVips?: Record<string, unknown>;
  /** From a deployed-networks environment among -e (DeployedNetworkEnvironment.net_cidr_map). */
  netCidrMap?: Record<string, string[]>;
  /** What the operator should know about the variables (the role's, ignored). */
  varNotes: string[];
}

/** IpsecVars from environments and --set, validated; every problem at once. */
export function loadVars(o: VarsOptions, problems: Problem[]): { vars: UnkeyedVars; pskGiven: boolean; algorithmJudge: AlgorithmJudge; netCidrMap?: Record<string, string[]>; notes: string[] } {
  const environments = o.envPaths.map((path) => ({ path, doc: readYamlInput(path, 'heat environment') }));
  const merged = mergeLayers(varLayers(environments, o.sets, problems));
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
  // libreswan is asked here, at the edge; validation gets its verdict as data.
  const algorithm = merged.get('ipsec_algorithm');
  // A value that holds a key (pasted into the wrong variable) never reaches a subprocess's argv.
  const check = typeof algorithm === 'string' && redactSecrets(algorithm) !== algorithm ? checkEspOffline : o.checkAlgorithm ?? checkEsp;
  const verdict = typeof algorithm === 'string' ? check(algorithm) : undefined;
  const notes: string[] = [];
  const vars = resolveIpsecVars(merged, problems, () => verdict ?? { ok: false, reason: 'not a string' }, notes);
  return { vars, pskGiven: merged.has('ipsec_psk'), algorithmJudge: verdict?.checkedBy ?? 'default', netCidrMap, notes };
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
  const { vars, pskGiven, algorithmJudge, netCidrMap, notes: varNotes } = loadVars(o, problems);
  const serviceVips = o.serviceVipsPath ? loadServiceVips(o.serviceVipsPath, problems) : undefined;
  if (problems.length) throw new ValidationError(problems);
  return { inventory, networkData, vars, pskGiven, algorithmJudge, stack: o.stack, serviceVips, netCidrMap, varNotes };
}

export interface KeyOptions {
  /**
   * Where a PSK and a CA an earlier run made are kept and reused (generate's
   * output directory), and where earlier host certificates are found. apply
   * has none: it must be given the PSK, and the certificates as a bundle.
   */
  outDir?: string;
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

/** The cluster CA and where it came from. */
export interface CaMaterial {
  ca: Ca;
  source: 'given' | 'kept' | 'created';
}

export interface KeyMaterial {
  /** Where the PSK came from ('none': opportunistic mode, which keys nothing by PSK). */
  pskSource: 'given' | 'generated' | 'reused' | 'none';
  /** The overcloud with its key in vars: an immutable value from here on. */
  overcloud: Readonly<Overcloud>;
  /** ipsec_auth=cert with a CA: the CA (written to outDir when kept or created). */
  ca?: CaMaterial;
  /** ipsec_auth=cert: every generated host's certificate files, by host. */
  certificates: ReadonlyMap<string, HostCertificate>;
  /** Hosts whose certificate was issued by this run (the others' were kept). */
  issued: string[];
}

/**
 * The key material of a run, for an Overcloud already validated (nothing is
 * created for a run that would fail): the PSK, and every host's certificate.
 * A host's certificate from an earlier run (in outDir) is kept while it was
 * issued by the same CA, for the same subject and addresses, and is more than
 * 30 days from expiry: a redeploy re-imports nothing.
 */
export function loadKeyMaterial(o: KeyOptions, unkeyed: Overcloud, pskGiven: boolean, hosts: readonly OvercloudNode[]): KeyMaterial {
  let pskSource: KeyMaterial['pskSource'] = pskGiven ? 'given' : 'none';
  let psk = unkeyed.vars.ipsec_psk;
  if (!pskGiven && !unkeyed.vars.use_opportunistic_ipsec) {
    if (!o.outDir) {
      throw new InputError('apply needs ipsec_psk from an environment (every node must hold the same key): pass the file generate or heat-env wrote with -e, or install a tree generated on the undercloud with --tree');
    }
    const kept = join(o.outDir, outputPaths.pskFile);
    const reused = existsSync(kept) ? pskOfEarlierFile(readYamlInput(kept, 'generated PSK file'), kept) : undefined;
    psk = reused ?? newPsk();
    rememberSecret(psk);
    pskSource = reused ? 'reused' : 'generated';
  }
  const overcloud: Readonly<Overcloud> = Object.freeze({ ...unkeyed, vars: Object.freeze({ ...unkeyed.vars, ipsec_psk: psk }) });
  const none = { pskSource, overcloud, certificates: new Map<string, HostCertificate>(), issued: [] };
  if (unkeyed.vars.ipsec_auth !== 'cert') return none;
  if (o.certBundleDir) {
    const dir = o.certBundleDir;
    const certificates = new Map<string, HostCertificate>();
    for (const h of hosts) {
      certificates.set(h.name, {
        nickname: certNames.nickname(h.name),
        p12: readInputBytes(join(dir, certNames.p12(h.name)), 'certificate bundle file'),
        certPem: readInputFile(join(dir, certNames.cert(h.name)), 'certificate bundle file'),
        caCertPem: readInputFile(join(dir, certNames.caCert), 'certificate bundle file'),
      });
    }
    return { ...none, certificates };
  }
  const ca = loadCa(o);
  const certificates = new Map<string, HostCertificate>();
  const issued: string[] = [];
  for (const h of hosts) {
    const addresses = Object.values(h.addresses);
    const earlier = o.outDir ? earlierHostCert(o.outDir, h.name) : undefined;
    const kept = earlier && ca.source !== 'created' ? reusableHostCert(earlier, ca.ca, h.name, h.fqdn, addresses) : undefined;
    if (kept) certificates.set(h.name, kept);
    else {
      certificates.set(h.name, issueHostCert(ca.ca, h.name, h.fqdn, addresses));
      issued.push(h.name);
    }
  }
  return { ...none, ca, certificates, issued };
}

function loadCa(o: KeyOptions): CaMaterial {
  const readCa = (cert: string, key: string): Ca => {
    const keyPem = readInputFile(key, 'CA key');
    for (const line of keyPem.split('\n')) if (!line.startsWith('-----')) rememberSecret(line);
    return { certPem: readInputFile(cert, 'CA certificate'), keyPem };
  };
  if (o.caCert || o.caKey) {
    if (!o.caCert || !o.caKey) throw new InputError('--ca-cert and --ca-key go together');
    return { ca: readCa(o.caCert, o.caKey), source: 'given' };
  }
  if (o.outDir) {
    const [keptCert, keptKey] = [join(o.outDir, outputPaths.caCert), join(o.outDir, outputPaths.caKey)];
    if (existsSync(keptCert) && existsSync(keptKey)) return { ca: readCa(keptCert, keptKey), source: 'kept' };
  }
  if (o.caCreate) return { ca: createCa(), source: 'created' };
  throw new InputError('ipsec_auth=cert needs the cluster CA: --ca-cert FILE --ca-key FILE, or --ca-create');
}

/** A host's certificate files an earlier run wrote into outDir, when all are there. */
function earlierHostCert(outDir: string, host: string): { p12: Buffer; certPem: string } | undefined {
  const dir = join(outDir, host, nodePaths.stateDir);
  const [p12, crt] = [join(dir, certNames.p12(host)), join(dir, certNames.cert(host))];
  if (!existsSync(p12) || !existsSync(crt)) return undefined;
  return { p12: readInputBytes(p12, 'earlier host certificate'), certPem: readInputFile(crt, 'earlier host certificate') };
}
