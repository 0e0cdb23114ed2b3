// The CLI's one way to run programs: a call whose silence is its answer
// (runCommandOrTimeout) ends at its deadline with everything it started,
// as ssh's ProxyCommand would be: real processes, bounded waits.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommandOrTimeout } from '../../../src/system/command.js';

/** Running, not a zombie left for whoever reaps orphans here. */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
  } catch {
    return false;
  }
};

describe('runCommandOrTimeout', () => {
  it('returns what the program said, and its exit code', async () => {
    const r = await runCommandOrTimeout({ what: 'a test', argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'], timeoutMs: 10_000 });
    expect(r).toEqual({ timedOut: false, exitCode: 3, stdout: 'out', stderr: 'err' });
  });

  it('at its deadline, kills the program and what it started, and says it timed out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tripleo-ipsec-cmd-'));
    try {
      const pidFile = join(dir, 'child.pid');
      const t0 = Date.now();
      // A child of the program's own, as ssh's ProxyCommand is: it must not outlive the call.
      const r = await runCommandOrTimeout({ what: 'a test', argv: ['sh', '-c', `sleep 30 & echo $! > ${pidFile}; echo started; wait`], timeoutMs: 500 });
      expect(r.timedOut).toBe(true);
      expect(Date.now() - t0).toBeLessThan(5_000);
      const child = Number(readFileSync(pidFile, 'utf8'));
      const deadline = Date.now() + 2_000;
      while (alive(child) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      expect(alive(child)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a program that is not installed is an error naming the call', async () => {
    await expect(runCommandOrTimeout({ what: 'a test call', argv: ['/nonexistent/tripleo-ipsec-x'], timeoutMs: 1_000 })).rejects.toThrow(/a test call: \/nonexistent\/tripleo-ipsec-x not installed/);
  });
});
