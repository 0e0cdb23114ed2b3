// A node's tunnels against its plan: what must be up given where the VIPs are, and each fault named.
import { describe, expect, it } from 'vitest';
import { checkNode, describeProblem, expectedTunnels } from '../../../src/status/tunnelCheck.js';
import type { PlutoStatus, StateStatus } from '../../../src/libreswan/whackStatus.js';
import { generateFrom, small } from '../../helpers/inputs.js';

const { inventory, networkData } = small();
const r = generateFrom({ inventory, networkData });
const C0 = 'overcloud-controller-0';
const CMP = 'overcloud-novacompute-0';

/** A pluto status holding, for each conn, `ike` established IKE SAs, `neg` negotiating ones and `child` Child SAs. */
function status(per: Record<string, { ike?: number; neg?: number; child?: number }>): PlutoStatus {
  const states: StateStatus[] = [];
  let serial = 1;
  for (const [conn, n] of Object.entries(per)) {
    for (let i = 0; i < (n.ike ?? 0); i++) states.push({ serial: serial++, conn, state: 'STATE_V2_ESTABLISHED_IKE_SA', kind: 'ike', established: true });
    for (let i = 0; i < (n.neg ?? 0); i++) states.push({ serial: serial++, conn, state: 'STATE_V2_PARENT_I1', kind: 'ike', established: false });
    for (let i = 0; i < (n.child ?? 0); i++) states.push({ serial: serial++, conn, state: 'STATE_V2_ESTABLISHED_CHILD_SA', kind: 'child', established: true });
  }
  const ike = states.filter((s) => s.kind === 'ike');
  const child = states.filter((s) => s.kind === 'child');
  return {
    conns: new Map(Object.keys(per).map((name) => [name, { name, oriented: true, instances: 0 }])),
    states,
    ikeSas: { total: ike.length, halfOpen: ike.filter((s) => !s.established).length, open: 0, authenticated: ike.filter((s) => s.established).length, anonymous: 0 },
    ipsecSas: { total: child.length, authenticated: child.length, anonymous: 0 },
  };
}

/** A node's expected tunnels with every VIP on controller-0, its planned conns, and a status with each tunnel up once. */
function onNode(name: string) {
  const plan = r.planOf(name);
  const expected = expectedTunnels(plan, new Map(r.overcloud.vips.map((v) => [v.name, C0])));
  const planned = new Set(plan.files.flatMap((f) => f.conns.map((c) => c.name)));
  const allUp = Object.fromEntries(expected.map((t) => [t.conn, { ike: 1, child: 1 }]));
  return { expected, planned, allUp };
}

describe('expectedTunnels', () => {
  const holders = new Map(r.overcloud.vips.map((v) => [v.name, C0]));

  it('on the VIP holder: its node-to-node tunnels and one end per peer of each VIP, not its own VIP ends', () => {
    const t = expectedTunnels(r.planOf(C0), holders);
    expect(t.filter((x) => x.kind === 'vip-end')).toEqual([]);
    expect(t.filter((x) => x.kind === 'vip-holder').every((x) => x.peer && x.vip)).toBe(true);
    expect(t.filter((x) => x.kind === 'node-to-node').length).toBe(r.planOf(C0).files.flatMap((f) => f.conns).filter((c) => c.kind === 'node-to-node').length);
  });

  it('elsewhere: its node-to-node tunnels and its own end of each VIP on its networks, with the holder as peer', () => {
    const t = expectedTunnels(r.planOf(CMP), holders);
    expect(t.filter((x) => x.kind === 'vip-holder')).toEqual([]);
    for (const v of t.filter((x) => x.kind === 'vip-end')) expect(v.peer).toBe(C0);
  });
});

describe('checkNode', () => {
  const { expected, planned, allUp } = onNode(CMP);

  it('all up: no problem, and the guide\'s lines agree', () => {
    const c = checkNode(CMP, expected, status(allUp), planned);
    expect(c.problems).toEqual([]);
    expect([c.expected, c.withIkeSa, c.withChildSa, c.guideOk]).toEqual([expected.length, expected.length, expected.length, true]);
  });

  it('names each fault with its node, network and peer or VIP', () => {
    const [a, b, d, e, f] = expected.map((t) => t.conn);
    const s = status({ ...allUp, [a]: {}, [b]: { neg: 1 }, [d]: { ike: 2, child: 2 }, [e]: { ike: 1 }, [f]: { ike: 1, child: 2 }, 'overcloud-internal_api-to-gone': { ike: 1, child: 1 } });
    const c = checkNode(CMP, expected, s, planned);
    expect(c.problems.map((p) => [p.conn, p.fault])).toEqual([
      [a, 'missing'],
      [b, 'half-open'],
      [d, 'duplicate IKE SA'],
      [d, 'duplicate Child SA'],
      [e, 'no Child SA'],
      [f, 'duplicate Child SA'],
    ]);
    expect(c.unplanned).toEqual(['overcloud-internal_api-to-gone']);
    expect(c.guideOk).toBe(false);
    const first = expected[0];
    expect(describeProblem(c.problems[0])).toBe(`${CMP}: ${first.network}: with ${first.vip ? `the ${first.vip} VIP (held by ${C0})` : first.peer} (${a}): no tunnel (no IKE SA, none negotiating)`);
  });
});

describe('the VIP holder missing one peer', () => {
  const { expected, planned, allUp } = onNode(C0);

  it('names the holder, the VIP and the peer whose tunnel is gone, and nothing else', () => {
    const gone = expected.find((t) => t.kind === 'vip-holder' && t.peer === CMP)!;
    const c = checkNode(C0, expected, status({ ...allUp, [gone.conn]: {} }), planned);
    expect(c.problems.map(describeProblem)).toEqual([`${C0}: ${gone.network}: with the ${gone.vip} VIP it holds, from ${CMP} (${gone.conn}): no tunnel (no IKE SA, none negotiating)`]);
    expect([c.withChildSa, c.guideOk]).toEqual([expected.length - 1, false]);
  });
});

describe('a stale IKE SA, as a restarted peer leaves it', () => {
  it('is named as stale, with the serial to delete and what clears it; two live ones stay a duplicate', () => {
    const { expected, planned, allUp } = onNode(CMP);
    const conn = 'overcloud-internal_api-to-overcloud-controller-0';
    const s = status(allUp);
    const states = s.states.filter((x) => x.conn !== conn);
    // pluto 4.x's own marks: the current IKE SA "newest", its Child SA's "isakmp#"; the one the restart left neither.
    states.push(
      { serial: 90, conn, state: 'STATE_V2_ESTABLISHED_IKE_SA', kind: 'ike', established: true },
      { serial: 95, conn, state: 'STATE_V2_ESTABLISHED_IKE_SA', kind: 'ike', established: true, newest: true },
      { serial: 96, conn, state: 'STATE_V2_ESTABLISHED_CHILD_SA', kind: 'child', established: true, newest: true, parent: 95 },
    );
    const c = checkNode(CMP, expected, { ...s, states, ikeSas: { ...s.ikeSas, total: s.ikeSas.total + 1, authenticated: s.ikeSas.authenticated + 1 } }, planned);
    expect(c.problems.map((p) => [p.conn, p.fault, p.stale])).toEqual([[conn, 'stale IKE SA', [{ serial: 90, newer: 95, withChild: false }]]]);
    expect(describeProblem(c.problems[0])).toBe(`${CMP}: internal_api: with overcloud-controller-0 (${conn}): a stale IKE SA #90 beside the current #95 (left by the peer's restart; no traffic uses it): cleared within a minute by tripleo-ipsec-tidy.timer (\`tripleo-ipsec tidy\`), or by \`ipsec whack --deletestate 90\` on this node`);
    expect(c.guideOk).toBe(false);
    // The old one with its own Child SA still (as pluto 4.10 leaves it when the peer's kernel kept the dead pluto's SAs):
    // stale too, named with its child, and that child is no duplicate of the live one.
    states.push({ serial: 91, conn, state: 'STATE_V2_ESTABLISHED_CHILD_SA', kind: 'child', established: true, parent: 90 });
    const withChild = checkNode(CMP, expected, { ...s, states }, planned).problems;
    expect(withChild.map((p) => [p.fault, p.stale])).toEqual([['stale IKE SA', [{ serial: 90, newer: 95, withChild: true }]]]);
    expect(describeProblem(withChild[0])).toContain('a stale IKE SA #90 (with its Child SA) beside the current #95');
    // The newest not carrying the newest Child SA (a negotiation crossed, not settled): a duplicate, and two Child SAs.
    const crossed = states.map((x) => (x.serial === 96 ? { ...x, newest: false } : x.serial === 91 ? { ...x, newest: true } : x));
    expect(checkNode(CMP, expected, { ...s, states: crossed }, planned).problems.map((p) => p.fault)).toEqual(['duplicate IKE SA', 'duplicate Child SA']);
  });
});


describe("a crossed negotiation's answer, left half-open", () => {
  it('is named as abandoned once its initiator has given up, with the serial to delete and what clears it', () => {
    const { expected, planned, allUp } = onNode(CMP);
    const conn = 'overcloud-internal_api-to-overcloud-controller-0';
    const s = status(allUp);
    const states = s.states.filter((x) => x.conn !== conn);
    states.push(
      { serial: 95, conn, state: 'STATE_V2_ESTABLISHED_IKE_SA', kind: 'ike', established: true, newest: true },
      { serial: 96, conn, state: 'STATE_V2_ESTABLISHED_CHILD_SA', kind: 'child', established: true, newest: true, parent: 95 },
      { serial: 97, conn, state: 'STATE_V2_PARENT_R1', kind: 'ike', established: false, discardInS: 17 },
    );
    const guideLines = { ...s, states, ikeSas: { ...s.ikeSas, total: s.ikeSas.total + 1, halfOpen: 1 } };
    const c = checkNode(CMP, expected, guideLines, planned);
    expect(c.problems.map((p) => [p.conn, p.fault, p.abandoned])).toEqual([[conn, 'abandoned half-open IKE SA', [{ serial: 97, ageS: 183 }]]]);
    expect(describeProblem(c.problems[0])).toContain('a half-open IKE SA #97 (answered 183 s ago) that no initiator will finish');
    expect(describeProblem(c.problems[0])).toContain('pluto drops it 200 s after it answered');
    expect(c.guideOk).toBe(false);
    // Answered less than a minute ago: its initiator may still finish it; the guide's half-open(1) is all that shows it.
    const young = states.map((x) => (x.serial === 97 ? { ...x, discardInS: 150 } : x));
    expect(checkNode(CMP, expected, { ...guideLines, states: young }, planned).problems).toEqual([]);
  });
});
