// What apply owns on a node, so a second run changes nothing and --uninstall
// removes exactly that: our files with their digests, the conns we loaded
// with the digest of their definition, and what we changed in the operator's
// ipsec.conf, ipsec.secrets, firewall and cluster.
//
// It is also apply's journal: a run records everything it is about to own
// (`complete: false`) before its first change, and the final state after its
// last, so an uninstall after any interruption (a failing iptables-restore,
// a kill -9) finds every file, conn, line and chain the run may have made.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../model/errors.js';
import { nodePaths } from '../model/names.js';
import { replaceFileAtomically } from '../output/atomicFile.js';
import type { Family } from './firewall.js';

export const MANIFEST_VERSION = 3;

export interface Manifest {
  /**
   * 1 and 2: earlier versions. 3: key identifiers are per host and conn
   * (plan/nodePlan.ts keyId); an earlier manifest's key digests are not
   * compared with them.
   */
  version: 1 | 2 | 3;
  host: string;
  /** false: the journal of a run that did not finish (everything it may have made is listed). */
  complete?: boolean;
  /** path relative to root -> sha256 of what we wrote */
  files: Record<string, string>;
  /** conn name -> digest of its definition when we loaded it (version 2). */
  conns?: Record<string, string>;
  /** conn name -> identifier of the key it authenticates with (src/apply/rotation.ts). */
  keys?: Record<string, string>;
  createdConf: boolean;
  createdSecrets: boolean;
  firewall: Family[];
  pacemaker: boolean;
  /** ipsec_auth=cert: the digest of the PKCS#12 bundle imported into pluto's NSS database. */
  imported?: string;
}

export function readManifest(root: string): Manifest | undefined {
  const path = join(root, nodePaths.manifest);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (e) {
    throw new InputError(`${path}: not the manifest apply writes (${(e as Error).message}); remove it and rerun with --upgrade`, { cause: e });
  }
  if (!m || typeof m !== 'object' || typeof m.files !== 'object' || m.files === null || !Array.isArray(m.firewall)) {
    throw new InputError(`${path}: not the manifest apply writes; remove it and rerun with --upgrade`);
  }
  return m;
}

/** Write it when it changed (a second run leaves even its mtime alone). */
export function writeManifest(root: string, m: Manifest): void {
  const path = join(root, nodePaths.manifest);
  const text = JSON.stringify(m, null, 2) + '\n';
  let old: string | undefined;
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    old = undefined;
  }
  if (old !== text) replaceFileAtomically(path, text, 0o600);
}
