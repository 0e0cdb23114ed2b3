// generate --out on a mount point (its own file system, as a dedicated
// volume for the undercloud's state would be): the directory cannot be
// renamed, so the output is written in place; nothing is left beside it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../../helpers/inputs.js';

const CLI = join(__dirname, '..', '..', '..', 'bin', 'tripleo-ipsec');

describe('generate --out on a mount point', () => {
  const s = scratchDir();
  afterAll(() => s.cleanup());

  it('writes, and writes again, in place: exit 0, one line each, no staging copy left anywhere', () => {
    const mp = join(s.dir, 'mounted');
    mkdirSync(mp);
    // A private mount namespace with a tmpfs on the output directory; both runs inside it.
    const script = `mount -t tmpfs tripleo-ipsec-test "$1" && "$2" "$3" generate --example --out "$1" && "$2" "$3" generate --example --out "$1" && ls -A "$1"`;
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', mp, process.execPath, CLI], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/: 0 changed, 0 removed\n/);
    expect(r.stdout).not.toMatch(/staging/);
    expect(readdirSync(s.dir)).toEqual(['mounted']);
  });
});
