// SAs a peer's restart left behind, that no traffic uses: superseded IKE
// SAs (with their Child SAs), Child SAs beside a conn's newest one, and
// half-open IKE SAs a crossed negotiation abandoned.
//
// IKE SAs a peer's restart left behind. When a peer's pluto starts again and
// authenticates anew, this node's pluto (4.x) marks the new IKE SA of the
// conn "newest" and keeps the old one: its permanent conns have no wipe of
// older IKE SAs, and no liveness probe reaches one that is not newest. The
// old one lingers until its rekey, hours later, with its Child SA when the
// kernel kept the dead pluto's SAs, and every `IKE SAs: total(N)` counts it.
// One judge for `status` (which names them) and `tidy` (which deletes them).
import type { StateStatus } from './whackStatus.js';

export interface SupersededIkeSa {
  conn: string;
  serial: number;
  /** The IKE SA that stays: the conn's newest, or the one that carries its newest Child SA. */
  newer: number;
  /** Whether a Child SA (in any state) still belongs to it. */
  hasChild: boolean;
  /** Whether the one that stays carries the conn's newest Child SA, established: the replacement is complete. */
  replaced: boolean;
  /** How long the one that stays has been established (seconds), when pluto says. */
  newerAgeS?: number;
  /** It is the conn's newest IKE SA, with no Child SA, beside the older one that carries the traffic. */
  childlessNewest?: true;
}

/** pluto's default ikelifetime (the plan sets none): an IKE SA's age is this less its "REPLACE in". */
const IKE_LIFETIME_S = 8 * 3600;

/** How long an IKE SA has been established, from its "REPLACE in" (undefined when the line has none). */
function ikeSaAgeS(s: StateStatus): number | undefined {
  return s.replaceInS === undefined ? undefined : IKE_LIFETIME_S - s.replaceInS;
}

/**
 * One conn's superseded IKE SAs (`states`: that conn's, as statesByConn groups
 * them), when it has more than one established IKE SA:
 * - the newest carries the conn's newest Child SA: every other one;
 * - the newest has no Child SA at all while an older one carries the newest
 *   Child SA: the newest, which carries nothing. Seen in the data-plane
 *   guest after an initiator's crash with ipsec.service's flush: the
 *   responder's liveness probe of the old IKE SA failed (the restarted peer
 *   no longer knew it), pluto cleared it and revived the conn with a
 *   childless IKE SA beside the new pair, and both ends kept two IKE SAs
 *   for the tunnel until the rekey;
 * - otherwise (the newest still without the traffic, its Child SA being
 *   negotiated): listed, not replaced, and tidy leaves them.
 */
export function supersededIkeSas(conn: string, states: readonly StateStatus[]): SupersededIkeSa[] {
  const ikes = states.filter((s) => s.kind === 'ike' && s.established);
  if (ikes.length < 2) return [];
  const newest = ikes.find((s) => s.newest);
  if (!newest) return [];
  const hasChild = (ike: StateStatus) => states.some((c) => c.kind === 'child' && c.parent === ike.serial);
  const carrier = ikes.find((s) => states.some((c) => c.kind === 'child' && c.established && c.newest && c.parent === s.serial));
  const age = (s: StateStatus) => { const a = ikeSaAgeS(s); return a === undefined ? {} : { newerAgeS: a }; };
  if (carrier && carrier !== newest && !hasChild(newest)) return [{ conn, serial: newest.serial, newer: carrier.serial, hasChild: false, replaced: true, ...age(carrier), childlessNewest: true }];
  return ikes
    .filter((s) => !s.newest)
    .map((s) => ({ conn, serial: s.serial, newer: newest.serial, hasChild: hasChild(s), replaced: carrier === newest, ...age(newest) }))
    .sort((a, b) => a.serial - b.serial);
}

export interface SupersededChildSa {
  conn: string;
  serial: number;
  /** The conn's newest Child SA, which carries its traffic. */
  newer: number;
}

/**
 * One conn's established Child SAs beside its newest established one (which
 * the kernel's policy uses), on IKE SAs that stay (`goingIke`: the ones
 * being deleted, whose Child SAs go with them). Seen in the data-plane guest
 * after an initiator's crash with ipsec.service's flush: the responder kept
 * the restarted peer's first Child SA without making it the newest; once the
 * old IKE SA was deleted its own traffic negotiated a second one on the new
 * IKE SA, and both ends then held two Child SAs for one tunnel until the
 * rekey. Deleting the one that is not newest sends the peer a Delete for it:
 * both ends drop it, the newest stays.
 */
export function supersededChildSas(conn: string, states: readonly StateStatus[], goingIke: ReadonlySet<number> = new Set()): SupersededChildSa[] {
  const children = states.filter((s) => s.kind === 'child' && s.established && !(s.parent !== undefined && goingIke.has(s.parent)));
  // Never one marked newest: each instance of a template conn (a VIP end, one per holder) has its own.
  const newest = children.find((s) => s.newest);
  if (!newest) return [];
  return children.filter((s) => !s.newest).map((s) => ({ conn, serial: s.serial, newer: newest.serial })).sort((a, b) => a.serial - b.serial);
}

/**
 * pluto 4.10 drops a half-open IKE SA it answered (STATE_V2_PARENT_R1) only
 * 200 s after its IKE_SA_INIT reply (MAXIMUM_RESPONDER_WAIT_DELAY, not a
 * setting): its age is that less its "DISCARD in".
 */
const RESPONDER_WAIT_S = 200;

/**
 * A half-open IKE SA answered this long ago: its initiator, which
 * retransmits each exchange for retransmit-timeout (pluto's default 60 s, the
 * plan sets none for the mesh), has given up on it.
 */
const ABANDONED_AFTER_S = 60;

export interface AbandonedHalfOpenSa {
  conn: string;
  serial: number;
  /** Seconds since pluto answered its IKE_SA_INIT. */
  ageS: number;
  /** The conn's IKE SA that carries its newest Child SA: the tunnel works without the half-open one. */
  carrier: number;
}

/**
 * One conn's half-open IKE SAs answered ABANDONED_AFTER_S ago or more, when
 * an established IKE SA of the conn carries its newest Child SA. Seen in the
 * data-plane guest after `ipsec restart` of the node that answers all its
 * pairs: its shutdown's Deletes made the peers initiate again, its own
 * traffic initiated too once it was back, it dropped its own negotiation
 * when the peer's won ("state superseded ..., drop this negotiation") and
 * the peer kept its answer half-open until pluto's 200 s discard: every
 * node's `half-open(1)` for three minutes and more. It carries nothing, and
 * nothing removes it sooner: pluto 4.10's `whack --deletestate` refuses a
 * half-open IKE SA ("dropping transition delete IKE SA; IKE SA is not in
 * state ESTABLISHED_IKE_SA", guest logs). `status` names it.
 */
export function abandonedHalfOpenSas(conn: string, states: readonly StateStatus[]): AbandonedHalfOpenSa[] {
  const carrier = states.find((s) => s.kind === 'ike' && s.established && states.some((c) => c.kind === 'child' && c.established && c.newest && c.parent === s.serial));
  if (!carrier) return [];
  return states
    .filter((s) => s.state === 'STATE_V2_PARENT_R1' && s.discardInS !== undefined && RESPONDER_WAIT_S - s.discardInS >= ABANDONED_AFTER_S)
    .map((s) => ({ conn, serial: s.serial, ageS: RESPONDER_WAIT_S - s.discardInS!, carrier: carrier.serial }))
    .sort((a, b) => a.serial - b.serial);
}
