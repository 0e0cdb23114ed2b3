import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../model/errors.js';
import { makeDirs } from '../output/makeDirs.js';
import { replaceFileAtomically } from '../output/atomicFile.js';
import { packageRoot } from './paths.js';

function builtAgentPath(): string {
  return join(packageRoot(), 'agents', 'ipsec');
}

/** Copy agents/ipsec to OCF_ROOT/resource.d/tripleo/ipsec (atomically, 0755), unless it is there already. */
export function installAgent(ocfRoot: string): { path: string; changed: boolean } {
  const src = builtAgentPath();
  let agent: Buffer;
  try {
    agent = readFileSync(src);
  } catch {
    throw new InputError(`${src} does not exist: run npm run build first`);
  }
  const dir = join(ocfRoot, 'resource.d', 'tripleo');
  makeDirs(dir);
  const dest = join(dir, 'ipsec');
  let have: Buffer | undefined;
  try {
    have = readFileSync(dest);
  } catch {
    have = undefined;
  }
  if (have?.equals(agent)) return { path: dest, changed: false };
  replaceFileAtomically(dest, agent, 0o755);
  return { path: dest, changed: true };
}
