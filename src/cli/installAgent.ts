import { existsSync, readFileSync } from 'node:fs';
import { makeDirs } from '../output/makeDirs.js';
import { replaceFileAtomically } from '../output/atomicTree.js';
import { join } from 'node:path';
import { InputError } from '../model/errors.js';
import { packageRoot } from './paths.js';

export function builtAgentPath(): string {
  return join(packageRoot(), 'agents', 'ipsec');
}

/** Copy agents/ipsec to OCF_ROOT/resource.d/tripleo/ipsec (atomically, 0755). */
export function installAgent(ocfRoot: string): string {
  const src = builtAgentPath();
  if (!existsSync(src)) throw new InputError(`${src} does not exist: run npm run build first`);
  const dir = join(ocfRoot, 'resource.d', 'tripleo');
  makeDirs(dir);
  const dest = join(dir, 'ipsec');
  replaceFileAtomically(dest, readFileSync(src), 0o755);
  return dest;
}
