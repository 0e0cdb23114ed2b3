// apply's decision of what to tell pluto, from the plan and one status query.
import { describe, expect, it } from 'vitest';
import { plutoChanges, type WantedConn } from '../../../src/apply/reconcile.js';
import { connDigest } from '../../../src/plan/nodePlan.js';
import type { PlutoStatus } from '../../../src/libreswan/whackStatus.js';
import type { Conn } from '../../../src/plan/tunnels.js';

const conn = (name: string, over: Partial<Conn> = {}): Conn => ({ name, kind: 'node-to-node', step: 1, auto: 'start', network: 'internal_api', options: [['left', '192.0.2.1']], ...over });
const want = (c: Conn, agentOnly = false): WantedConn => ({ name: c.name, step: c.step, auto: c.auto, digest: connDigest(c), file: `/etc/ipsec.d/${c.name}.conf`, agentOnly });
const status = (conns: Record<string, string | undefined>): PlutoStatus => ({
  conns: new Map(Object.entries(conns).map(([name, routing]) => [name, { name, oriented: true, instances: 0, routing }])),
  states: [],
  ikeSas: { total: 0, authenticated: 0, anonymous: 0 },
  ipsecSas: { total: 0, authenticated: 0, anonymous: 0 },
});

describe('plutoChanges', () => {
  const init = conn('overcloud-a-to-b');
  const resp = conn('overcloud-a-to-c', { auto: 'route' });
  const vipEnd = conn('overcloud-a-vip-tunnel', { kind: 'vip-end', step: 3, auto: 'add' });
  const holder = conn('overcloud-a-vip-tunnel-to-b', { kind: 'vip-holder', step: 3, auto: 'start' });
  const planned = [want(init), want(resp), want(vipEnd), want(holder, true)];
  const digests = Object.fromEntries(planned.map((w) => [w.name, w.digest]));

  it('nothing to do when pluto holds exactly the plan', () => {
    const s = status({ [init.name]: 'erouted', [resp.name]: 'prospective erouted', [vipEnd.name]: 'unrouted', 'operator-own': 'unrouted' });
    expect(plutoChanges({ planned, steps: [1, 3], status: s, previous: digests, changedFiles: new Set() })).toEqual([]);
  });

  it('adds what pluto lost and starts or routes it as its auto= says; never adds a holder end', () => {
    const s = status({ [vipEnd.name]: 'unrouted' });
    expect(plutoChanges({ planned, steps: [1, 3], status: s, previous: digests, changedFiles: new Set() })).toEqual([
      { op: 'add', name: init.name, file: '/etc/ipsec.d/overcloud-a-to-b.conf' },
      { op: 'initiate', name: init.name },
      { op: 'add', name: resp.name, file: '/etc/ipsec.d/overcloud-a-to-c.conf' },
      { op: 'route', name: resp.name },
    ]);
  });

  it('re-routes a responder whose trap policy is gone', () => {
    const s = status({ [init.name]: 'erouted', [resp.name]: 'unrouted', [vipEnd.name]: 'unrouted' });
    expect(plutoChanges({ planned, steps: [1], status: s, previous: digests, changedFiles: new Set() })).toEqual([{ op: 'route', name: resp.name }]);
  });

  it('replaces a changed conn, a holder end only where it is loaded, and only in the steps of the run', () => {
    const s = status({ [init.name]: 'erouted', [resp.name]: 'prospective erouted', [vipEnd.name]: 'unrouted', [holder.name]: 'erouted' });
    const old = { ...digests, [init.name]: 'old', [vipEnd.name]: 'old', [holder.name]: 'old' };
    expect(plutoChanges({ planned, steps: [1], status: s, previous: old, changedFiles: new Set() })).toEqual([
      { op: 'replace', name: init.name, file: '/etc/ipsec.d/overcloud-a-to-b.conf' },
      { op: 'initiate', name: init.name },
    ]);
    expect(plutoChanges({ planned, steps: [3], status: s, previous: old, changedFiles: new Set() })).toEqual([
      { op: 'replace', name: vipEnd.name, file: '/etc/ipsec.d/overcloud-a-vip-tunnel.conf' },
      { op: 'replace', name: holder.name, file: '/etc/ipsec.d/overcloud-a-vip-tunnel-to-b.conf' },
      { op: 'initiate', name: holder.name },
    ]);
  });

  it("deletes loaded conns that are ours and no longer planned; never the operator's, never an opportunistic group's instances", () => {
    const s = status({ [init.name]: 'erouted', [resp.name]: 'prospective erouted', [vipEnd.name]: 'unrouted', 'overcloud-a-to-gone': 'erouted', 'operator-own': 'unrouted', 'overcloud-private-a#192.0.2.0/24': 'prospective erouted' });
    const previous = { ...digests, 'overcloud-a-to-gone': 'x' };
    expect(plutoChanges({ planned, steps: [1], status: s, previous, changedFiles: new Set() })).toEqual([{ op: 'delete', name: 'overcloud-a-to-gone' }]);
    // A manifest of an earlier version recorded no conns: every overcloud- conn counts as ours.
    expect(plutoChanges({ planned, steps: [1], status: s, previous: undefined, changedFiles: new Set() })).toEqual([{ op: 'delete', name: 'overcloud-a-to-gone' }]);
  });

  it('without recorded digests, a conn counts as changed when its file was rewritten', () => {
    const s = status({ [init.name]: 'erouted', [resp.name]: 'prospective erouted', [vipEnd.name]: 'unrouted' });
    expect(plutoChanges({ planned, steps: [1], status: s, previous: undefined, changedFiles: new Set(['/etc/ipsec.d/overcloud-a-to-c.conf']) })).toEqual([
      { op: 'replace', name: resp.name, file: '/etc/ipsec.d/overcloud-a-to-c.conf' },
      { op: 'route', name: resp.name },
    ]);
  });

  it("a conn's digest ignores its comment", () => {
    expect(connDigest({ ...init, comment: 'one' })).toBe(connDigest({ ...init, comment: 'two' }));
    expect(connDigest({ ...init, auto: 'route' })).not.toBe(connDigest(init));
  });
});
