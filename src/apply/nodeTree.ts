// A host's tree generated elsewhere (the undercloud's external deploy step),
// read back for apply --tree: the node plan and every file it lists, each
// checked against its digest so an incomplete or edited copy is refused
// before anything on the node is touched.
import { join } from 'node:path';
import { InputError } from '../model/errors.js';
import { readInputBytes } from '../inputs/read.js';
import { rememberSecretsFileKeys } from '../secrets/redaction.js';
import { nodePaths } from '../model/names.js';
import type { OutputFile } from '../model/types.js';
import { parseNodePlan, type NodePlan } from '../plan/nodePlan.js';
import { sha256 } from '../text/sha256.js';

export interface NodeTree {
  nodePlan: NodePlan;
  /** Every file to install, the node plan included. */
  files: OutputFile[];
}

export function readNodeTree(dir: string, host: string): NodeTree {
  const planPath = join(dir, nodePaths.nodePlan);
  let text: string;
  try {
    text = readInputBytes(planPath, 'node plan').toString('utf8');
  } catch (e) {
    throw new InputError(`--tree ${dir}: no readable ${nodePaths.nodePlan} in it: not a host tree tripleo-ipsec generate wrote (${whyUnreadable(e)})`);
  }
  const nodePlan = parseNodePlan(text, planPath);
  if (nodePlan.host !== host) throw new InputError(`${planPath}: host=${JSON.stringify(nodePlan.host)}: the tree of another host than --host ${host}`);
  const files: OutputFile[] = nodePlan.files.map((f) => {
    const path = join(dir, f.path);
    let bytes: Buffer;
    try {
      bytes = readInputBytes(path, 'tree file');
    } catch (e) {
      throw new InputError(`${path}: listed in ${nodePaths.nodePlan} but unreadable (${whyUnreadable(e)}): an incomplete copy of the tree`);
    }
    // Its keys are never printed, whatever message comes next.
    if (f.path.endsWith('.secrets')) rememberSecretsFileKeys(bytes.toString('utf8'));
    if (sha256(bytes) !== f.sha256) throw new InputError(`${path}: its content is not what ${nodePaths.nodePlan} lists (sha256 differs): an incomplete or edited copy of the tree`);
    // Text as text (as generate hands it over), binary (the PKCS#12 bundle) as bytes.
    const text = bytes.toString('utf8');
    const mode = parseInt(f.mode, 8);
    return Buffer.from(text, 'utf8').equals(bytes) ? { path: f.path, mode, content: text } : { path: f.path, mode, content: '', bytes };
  });
  files.push({ path: nodePaths.nodePlan, mode: 0o600, content: text });
  return { nodePlan, files };
}

/** The errno of a failed read (ENOENT), else the read's own words. */
function whyUnreadable(e: unknown): string {
  return ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? (e as Error).message;
}
