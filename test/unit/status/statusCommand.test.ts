// The command status --inventory runs on each node: `whack --status` thinned
// on the node by sh and grep. Run here for real on pluto 4.10's saved
// outputs (whack replaced by cat): the thinned text must parse to exactly
// what the full text does, be a fraction of it, and carry whack's exit code.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WHACK } from '../../../src/libreswan/whack.js';
import { parsePlutoStatus } from '../../../src/libreswan/whackStatus.js';
import { readStatusAnswer, STATUS_COMMAND } from '../../../src/status/statusCommand.js';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'libreswan');
const STATUSES = readdirSync(FIXTURES).filter((f) => f.startsWith('status-'));

/** The node's command with whack replaced, through a shell as sshd runs it. */
function onNode(whack: string) {
  const r = spawnSync('sh', ['-c', STATUS_COMMAND.replace(`${WHACK} --status`, whack)], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout };
}

describe('the node-side status command', () => {
  it.each(STATUSES)('%s: thinned, it parses to what the full status does', (f) => {
    const full = readFileSync(join(FIXTURES, f), 'utf8');
    const r = onNode(`cat ${join(FIXTURES, f)}`);
    expect(r.code).toBe(0);
    const a = readStatusAnswer(r.out);
    expect(a.whackExit).toBe(0);
    expect(parsePlutoStatus(a.text)).toEqual(parsePlutoStatus(full));
    expect(a.text.length).toBeLessThan(full.length * 0.6);
  });

  it("carries whack's exit code when pluto does not answer, and nothing else", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tripleo-ipsec-whack-'));
    try {
      // What whack does without pluto: a line on stderr, exit 33.
      writeFileSync(join(dir, 'whack'), '#!/bin/sh\necho "whack: connect(pluto_ctl) failed" >&2\nexit 33\n', { mode: 0o755 });
      const r = onNode(join(dir, 'whack'));
      expect(r.code).toBe(0);
      expect(readStatusAnswer(r.out)).toEqual({ whackExit: 33, text: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('reading the answer', () => {
  it('an answer without its last line was cut short: no exit code', () => {
    expect(readStatusAnswer('000 IKE SAs: total(0)\n000 "a": 1.2.3.4...').whackExit).toBeUndefined();
    expect(readStatusAnswer('')).toEqual({ text: '' });
    expect(readStatusAnswer('000 x\nwhack-exit 0\n')).toEqual({ whackExit: 0, text: '000 x\n' });
  });
});
