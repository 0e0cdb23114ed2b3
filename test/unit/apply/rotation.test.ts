// Which tunnels a run re-authenticates after a key rotation, and what it records.
import { describe, expect, it } from 'vitest';
import { renewals } from '../../../src/apply/rotation.js';
import type { WantedConn } from '../../../src/apply/reconcile.js';

const w = (name: string, key: string, auto: WantedConn['auto'] = 'start', step: 1 | 3 = 1): WantedConn => ({ name, step, auto, key, digest: 'd'.repeat(32), file: `/x/${name}.conf`, agentOnly: false });

describe('renewals', () => {
  const planned = [w('init', 'new1'), w('resp', 'new2', 'route'), w('vip-holder-end', 'new3', 'start', 3), w('same', 'k4')];
  const previous = { init: 'old1', resp: 'old2', 'vip-holder-end': 'old3', same: 'k4' };
  const loaded = new Set(['init', 'resp', 'vip-holder-end', 'same']);

  it('at step 1 renews nothing and keeps the old digests (the peers may not hold the new keys yet)', () => {
    const r = renewals({ planned, steps: [1], previous, loaded, reloaded: new Set() });
    expect(r.renew).toEqual([]);
    expect(r.keys).toEqual(previous);
  });

  it('at step 3 renews the conns this node initiates whose key changed, and records every new key', () => {
    const r = renewals({ planned, steps: [3], previous, loaded, reloaded: new Set() });
    expect(r.renew).toEqual(['init', 'vip-holder-end']);
    expect(r.keys).toEqual({ init: 'new1', resp: 'new2', 'vip-holder-end': 'new3', same: 'k4' });
  });

  it('never renews a conn just loaded, one not loaded, or one never recorded (an older manifest)', () => {
    expect(renewals({ planned, steps: [1, 3], previous, loaded, reloaded: new Set(['init']) }).renew).toEqual(['vip-holder-end']);
    expect(renewals({ planned, steps: [1, 3], previous, loaded: new Set(['resp']), reloaded: new Set() }).renew).toEqual([]);
    const r = renewals({ planned, steps: [1, 3], previous: undefined, loaded, reloaded: new Set() });
    expect(r.renew).toEqual([]);
    expect(r.keys.init).toBe('new1');
  });

  it('ignores conns without a key (certificates)', () => {
    const cert: WantedConn = { ...w('cert', 'x'), key: undefined };
    expect(renewals({ planned: [cert], steps: [3], previous: { cert: 'y' }, loaded: new Set(['cert']), reloaded: new Set() })).toEqual({ renew: [], keys: {} });
  });
});
