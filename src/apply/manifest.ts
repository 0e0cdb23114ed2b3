// What apply created on a node, so a second run changes nothing and
// --uninstall removes exactly that: our files with their digests, the conns
// we loaded with the digest of their definition, and what we changed in
// the operator's ipsec.conf, ipsec.secrets, firewall and cluster.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../model/errors.js';
import { nodePaths } from '../model/names.js';
import { replaceFileAtomically } from '../output/atomicTree.js';
import type { Family } from './firewall.js';

export interface Manifest {
  version: 1 | 2;
  host: string;
  /** path relative to root -> sha256 of what we wrote */
  files: Record<string, string>;
  /** conn name -> digest of its definition when we loaded it (version 2). */
  conns?: Record<string, string>;
  /** conn name -> digest of the key it authenticates with (src/apply/rotation.ts). */
  keys?: Record<string, string>;
  createdConf: boolean;
  createdSecrets: boolean;
  firewall: Family[];
  pacemaker: boolean;
}

export function readManifest(root: string): Manifest | undefined {
  const path = join(root, nodePaths.manifest);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as Manifest;
  } catch (e) {
    throw new InputError(`${path}: not the manifest apply writes (${(e as Error).message}); remove it and rerun with --upgrade`, { cause: e });
  }
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
