// One node's tunnels judged against its plan (pure): which tunnels it should
// hold given where each VIP is, which it holds with an IKE SA and a Child
// SA, and what is wrong with each of the others: missing, only half-open,
// duplicated, up without a Child SA. Plus what the TripleO guide checks by
// eye on every node: its two SA lines, all authenticated, none half-open.
import type { PlutoStatus, SaCounts } from '../libreswan/whackStatus.js';
import { isOurConn } from '../model/names.js';
import { abandonedHalfOpenSas, supersededIkeSas } from '../libreswan/supersededSas.js';
import type { Conn, HostPlan } from '../plan/tunnels.js';
import { ikeUp, NO_SAS, sasByConn } from './judge.js';

export interface ExpectedTunnel {
  conn: string;
  kind: Conn['kind'];
  network: string;
  /** The host at the other end, where one host is (a VIP end's is the VIP's holder). */
  peer?: string;
  vip?: string;
}

export type TunnelFault = 'missing' | 'half-open' | 'stale IKE SA' | 'abandoned half-open IKE SA' | 'duplicate IKE SA' | 'no Child SA' | 'duplicate Child SA';

export interface TunnelProblem {
  node: string;
  network: string;
  conn: string;
  kind: Conn['kind'];
  peer?: string;
  vip?: string;
  fault: TunnelFault;
  /** IKE SAs established, IKE SAs negotiating, Child SAs established, for this tunnel. */
  counts: { ike: number; negotiating: number; child: number };
  /** A stale IKE SA: its serial, and the newer one that superseded it. */
  stale?: { serial: number; newer: number; withChild: boolean }[];
  /** Half-open IKE SAs no initiator will finish, beside the one that carries the tunnel: serial and age. */
  abandoned?: { serial: number; ageS: number }[];
}

export interface NodeCheck {
  node: string;
  expected: number;
  withIkeSa: number;
  withChildSa: number;
  problems: TunnelProblem[];
  /** Loaded conns of ours the plan does not have (left by an earlier version, or by hand). */
  unplanned: string[];
  /** The guide's two lines. */
  ikeSas: SaCounts;
  ipsecSas: SaCounts;
  /** The guide's own criterion: totals equal to the expected tunnels, all authenticated, none half-open or open. */
  guideOk: boolean;
}

/**
 * The tunnels a node must hold. `holders`: VIP name -> the node holding it
 * (undefined: not known, then the node's own end is expected and a holder's
 * ends are not).
 */
export function expectedTunnels(plan: HostPlan, holders: ReadonlyMap<string, string | undefined>): ExpectedTunnel[] {
  const me = plan.node.name;
  const out: ExpectedTunnel[] = [];
  for (const f of plan.files) {
    for (const c of f.conns) {
      const t = { conn: c.name, kind: c.kind, network: c.network, ...(c.peer ? { peer: c.peer } : {}), ...(c.vip ? { vip: c.vip } : {}) };
      if (c.kind === 'node-to-node') out.push(t);
      // A node's own end answers the VIP's holder, unless it is the holder itself.
      else if (c.kind === 'vip-end' && holders.get(c.vip!) !== me) out.push({ ...t, ...(holders.get(c.vip!) ? { peer: holders.get(c.vip!) } : {}) });
      // The holder's ends exist only where the VIP is.
      else if (c.kind === 'vip-holder' && holders.get(c.vip!) === me) out.push(t);
      // Opportunistic and clear groups come and go with traffic: nothing to expect.
    }
  }
  return out;
}

export function checkNode(node: string, expected: ExpectedTunnel[], status: PlutoStatus, plannedConns: ReadonlySet<string>): NodeCheck {
  const problems: TunnelProblem[] = [];
  let withIkeSa = 0;
  let withChildSa = 0;
  const byConn = sasByConn(status.states);
  for (const t of expected) {
    const sas = byConn.get(t.conn) ?? NO_SAS;
    const states = sas.states;
    const counts = { ike: sas.ike, negotiating: sas.negotiating, child: sas.child };
    const fault = (f: TunnelFault, about: Pick<TunnelProblem, 'stale' | 'abandoned'> = {}) => problems.push({ node, network: t.network, conn: t.conn, kind: t.kind, ...(t.peer ? { peer: t.peer } : {}), ...(t.vip ? { vip: t.vip } : {}), fault: f, counts, ...about });
    if (!ikeUp(sas)) {
      fault(counts.negotiating ? 'half-open' : 'missing');
      continue;
    }
    withIkeSa++;
    // Older IKE SAs beside the newest, which carries the newest Child SA: what a peer's restart (or a
    // crossed negotiation) left, with their own Child SA if they had one; no traffic uses them, tidy
    // deletes them. Two IKE SAs where the newest does not carry the traffic yet are a duplicate.
    const stale = counts.ike > 1 ? supersededIkeSas(t.conn, states).filter((x) => x.replaced) : [];
    if (counts.ike > 1) {
      if (stale.length === counts.ike - 1) {
        fault('stale IKE SA', { stale: stale.map((s) => ({ serial: s.serial, newer: s.newer, withChild: s.hasChild })) });
      } else fault('duplicate IKE SA');
    }
    // A crossed negotiation's answer, left half-open: counted in the guide's half-open(N) until pluto's 200 s discard.
    const abandoned = abandonedHalfOpenSas(t.conn, states);
    if (abandoned.length) fault('abandoned half-open IKE SA', { abandoned: abandoned.map((x) => ({ serial: x.serial, ageS: x.ageS })) });
    if (counts.child === 0) fault('no Child SA');
    else {
      withChildSa++;
      // The stale IKE SAs' own Child SAs are named with them.
      const staleSerials = new Set(stale.length === counts.ike - 1 ? stale.map((x) => x.serial) : []);
      const live = states.filter((c) => c.kind === 'child' && c.established && !(c.parent !== undefined && staleSerials.has(c.parent))).length;
      if (live > 1) fault('duplicate Child SA');
    }
  }
  const unplanned = [...status.conns.keys()].filter((c) => isOurConn(c, undefined) && !plannedConns.has(c)).sort();
  const n = expected.length;
  const i = status.ikeSas;
  const p = status.ipsecSas;
  const guideOk = i.total === n && i.authenticated === n && (i.halfOpen ?? 0) === 0 && (i.open ?? 0) === 0 && p.total === n && p.authenticated === n;
  return { node, expected: n, withIkeSa, withChildSa, problems, unplanned, ikeSas: i, ipsecSas: p, guideOk };
}

/** One line for a person: node, network, peer or VIP, and what is wrong. */
export function describeProblem(p: TunnelProblem): string {
  // A holder's end is one peer's tunnel to the VIP it holds; a node's own end is its tunnel to whoever holds the VIP.
  const with_ =
    p.kind === 'vip-holder' ? `the ${p.vip} VIP it holds, from ${p.peer}` : p.vip ? `the ${p.vip} VIP${p.peer ? ` (held by ${p.peer})` : ''}` : p.peer ?? p.conn;
  const what: Record<TunnelFault, string> = {
    missing: 'no tunnel (no IKE SA, none negotiating)',
    'half-open': `IKE SA still negotiating (${p.counts.negotiating} half-open), none established`,
    'stale IKE SA': `a stale IKE SA ${(p.stale ?? []).map((x) => `#${x.serial}${x.withChild ? ' (with its Child SA)' : ''}`).join(', ')} beside the current #${p.stale?.[0]?.newer} (left by the peer's restart; no traffic uses it): cleared within a minute by tripleo-ipsec-tidy.timer (\`tripleo-ipsec tidy\`), or by \`ipsec whack --deletestate ${(p.stale ?? []).map((x) => x.serial).join(' ')}\` on this node`,
    'abandoned half-open IKE SA': `a half-open IKE SA ${(p.abandoned ?? []).map((x) => `#${x.serial} (answered ${x.ageS} s ago)`).join(', ')} that no initiator will finish (a crossed negotiation's, after a peer's restart; the tunnel works without it): pluto drops it 200 s after it answered, and nothing sooner (libreswan 4.10's \`whack --deletestate\` refuses a half-open IKE SA)`,
    'duplicate IKE SA': `${p.counts.ike} IKE SAs for one tunnel`,
    'no Child SA': 'IKE SA up but no Child SA: no traffic is encrypted through it',
    'duplicate Child SA': `${p.counts.child} Child SAs for one tunnel: those beside the newest are cleared within a minute by tripleo-ipsec-tidy.timer (\`tripleo-ipsec tidy\`)`,
  };
  return `${p.node}: ${p.network}: with ${with_} (${p.conn}): ${what[p.fault]}`;
}
