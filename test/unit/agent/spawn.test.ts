// The agent's spawn without node:child_process gives the same answers as child_process.
import { describe, expect, it } from 'vitest';
import { spawnQuick, viaChildProcess } from '../../../src/agent/spawn.js';

describe('spawnQuick', () => {
  it('gives the same answers as child_process: status, output, missing program, timeout', () => {
    const cases: [string, string[], number][] = [
      ['/bin/sh', ['-c', 'echo out; echo err >&2; exit 3'], 5000],
      ['/bin/true', [], 5000],
      ['/nonexistent/program', [], 5000],
    ];
    for (const [f, a, t] of cases) expect(spawnQuick(f, a, t), f).toEqual(viaChildProcess(f, a, t, true));
    const slow = spawnQuick('/bin/sleep', ['5'], 200);
    expect(slow).toMatchObject({ status: null, timedOut: true });
    expect(viaChildProcess('/bin/sleep', ['5'], 200, true)).toMatchObject({ status: null, timedOut: true });
  });
});
