// The judge of a stale IKE SA (one a peer's restart left), on the state
// lines of `whack --showstates` as pluto 4.10 prints them (with and without
// the 000 prefix of --status).
import { describe, expect, it } from 'vitest';
import { abandonedHalfOpenSas, supersededChildSas, supersededIkeSas } from '../../../src/libreswan/supersededSas.js';
import { parseStates, statesByConn, type StateStatus } from '../../../src/libreswan/whackStatus.js';

const C = 'overcloud-internal_api-to-overcloud-controller-0';
/** Every conn's in a state list, as tidy asks: grouped by conn first. */
const superseded = (states: StateStatus[]) => [...statesByConn(states)].flatMap(([conn, list]) => supersededIkeSas(conn, list)).sort((a, b) => a.serial - b.serial);
const ike = (n: number, extra = '') => `#${n}: "${C}":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); REKEY in 27853s; REPLACE in 28776s;${extra} idle;`;
const child = (n: number, parent: number, extra = '') => `#${n}: "${C}":500 STATE_V2_ESTABLISHED_CHILD_SA (established Child SA); REKEY in 27949s; REPLACE in 28769s;${extra} eroute owner; IKE SA #${parent}; idle;`;

describe('supersededIkeSas', () => {
  it("a restarted peer's leftover: the old IKE SA, no longer newest, beside the newest one that carries the newest Child SA", () => {
    const states = parseStates([ike(3), ike(7, ' newest;'), child(8, 7, ' newest;'), '#9: "overcloud-other":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); newest; idle;'].join('\n'));
    expect(superseded(states)).toEqual([{ conn: C, serial: 3, newer: 7, hasChild: false, replaced: true, newerAgeS: 24 }]);
    // The same from --status, with its prefix.
    expect(superseded(parseStates([ike(3), ike(7, ' newest;'), child(8, 7, ' newest;')].map((l) => `000 ${l}`).join('\n')))).toEqual([{ conn: C, serial: 3, newer: 7, hasChild: false, replaced: true, newerAgeS: 24 }]);
  });

  it('the old one with its own Child SA still (the kernel kept the dead pluto\'s SAs): superseded too, with its child', () => {
    expect(superseded(parseStates([ike(3), child(4, 3), ike(7, ' newest;'), child(8, 7, ' newest;')].join('\n')))).toEqual([{ conn: C, serial: 3, newer: 7, hasChild: true, replaced: true, newerAgeS: 24 }]);
  });

  it('the newest not yet carrying the newest Child SA: listed, not replaced (tidy leaves it)', () => {
    expect(superseded(parseStates([ike(3), ike(7, ' newest;')].join('\n')))).toEqual([{ conn: C, serial: 3, newer: 7, hasChild: false, replaced: false, newerAgeS: 24 }]);
    expect(superseded(parseStates([ike(3), child(4, 3, ' newest;'), ike(7, ' newest;'), child(8, 7)].join('\n')))[0].replaced).toBe(false);
  });

  it('none for a conn with one IKE SA, or none marked newest; a half-open one is a negotiation, not a superseded SA', () => {
    expect(superseded(parseStates([ike(7, ' newest;'), child(8, 7, ' newest;')].join('\n')))).toEqual([]);
    expect(superseded(parseStates([ike(3), ike(7)].join('\n')))).toEqual([]);
    expect(superseded(parseStates([`#5: "${C}":500 STATE_V2_PARENT_I1 (sent IKE_SA_INIT request); RETRANSMIT in 1s; idle;`, ike(7, ' newest;'), child(8, 7, ' newest;')].join('\n')))).toEqual([]);
  });
});

describe('on what pluto 4.10 printed (whack --showstates on a peer of a node whose pluto was killed and restarted, in the guest)', () => {
  it('each conn with the restarted node: its old IKE SA and old Child SA superseded by the newest pair, which carries the traffic; every other conn untouched', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const text = readFileSync(join(__dirname, '..', '..', 'fixtures', 'libreswan', 'showstates-peer-restarted.txt'), 'utf8');
    const states = parseStates(text);
    // A Child SA's IKE SA, as 4.10 names it ("IKE SA #N").
    expect(states.find((s) => s.serial === 24 && s.kind === 'child')?.parent).toBe(19);
    expect(superseded(states)).toEqual([
      { conn: 'overcloud-internal_api-to-overcloud-controller-0', serial: 1, newer: 19, hasChild: true, replaced: true, newerAgeS: 15 },
      { conn: 'overcloud-storage-to-overcloud-controller-0', serial: 2, newer: 20, hasChild: true, replaced: true, newerAgeS: 15 },
      { conn: 'overcloud-storage_mgmt-to-overcloud-controller-0', serial: 3, newer: 21, hasChild: true, replaced: true, newerAgeS: 15 },
      { conn: 'overcloud-tenant-to-overcloud-controller-0', serial: 4, newer: 22, hasChild: true, replaced: true, newerAgeS: 15 },
    ]);
  });
});

describe('supersededChildSas', () => {
  const children = (states: StateStatus[], going = new Set<number>()) => [...statesByConn(states)].flatMap(([conn, list]) => supersededChildSas(conn, list, going)).sort((a, b) => a.serial - b.serial);

  it('a second established Child SA on the one IKE SA, beside the newest (eroute owner): superseded; the newest stays', () => {
    expect(children(parseStates([ike(7, ' newest;'), child(8, 7).replace(' eroute owner;', ''), child(9, 7, ' newest;')].join('\n')))).toEqual([{ conn: C, serial: 8, newer: 9 }]);
  });

  it('none when the conn has one Child SA, none marked newest, or the extra one belongs to an IKE SA being deleted (it goes with it)', () => {
    expect(children(parseStates([ike(7, ' newest;'), child(8, 7, ' newest;')].join('\n')))).toEqual([]);
    expect(children(parseStates([ike(7), child(8, 7), child(9, 7)].join('\n')))).toEqual([]);
    expect(children(parseStates([ike(3), child(4, 3), ike(7, ' newest;'), child(8, 7, ' newest;')].join('\n')), new Set([3]))).toEqual([]);
  });

  it('never one marked newest: two instances of a template conn (a VIP end seen from two holders) each keep theirs', () => {
    const v = (n: number, inst: number, parent?: number) =>
      parent === undefined
        ? `#${n}: "overcloud-internal_api-vip-tunnel"[${inst}] 192.0.2.1${inst}:500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); newest; idle;`
        : `#${n}: "overcloud-internal_api-vip-tunnel"[${inst}] 192.0.2.1${inst}:500 STATE_V2_ESTABLISHED_CHILD_SA (established Child SA); newest; eroute owner; IKE SA #${parent}; idle;`;
    expect(children(parseStates([v(1, 1), v(2, 1, 1), v(3, 2), v(4, 2, 3)].join('\n')))).toEqual([]);
  });

  it('on what pluto 4.10 printed: the responder of a restarted initiator (crashed, the kernel flushed as ipsec.service does) with two Child SAs per tunnel with it, one newest', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const states = parseStates(readFileSync(join(__dirname, '..', '..', 'fixtures', 'libreswan', 'showstates-duplicate-child.txt'), 'utf8'));
    const found = children(states);
    expect(found.map((c) => c.conn).sort()).toEqual(['overcloud-internal_api-to-overcloud-controller-0', 'overcloud-storage-to-overcloud-controller-0', 'overcloud-storage_mgmt-to-overcloud-controller-0']);
    for (const c of found) {
      const s = states.find((x) => x.serial === c.serial)!;
      expect(s.newest, `#${c.serial}`).toBe(false);
      expect(states.find((x) => x.serial === c.newer)!.newest).toBe(true);
    }
    // No IKE SA of this node is superseded: the old one was deleted already.
    expect(superseded(states)).toEqual([]);
  });
});

describe('supersededIkeSas: a childless newest beside the one that carries the traffic', () => {
  it('the newest IKE SA has no Child SA while an older one carries the newest Child SA: the newest is superseded, the carrier stays', () => {
    expect(superseded(parseStates([ike(3), child(4, 3, ' newest;'), ike(7, ' newest;')].join('\n')))).toEqual([{ conn: C, serial: 7, newer: 3, hasChild: false, replaced: true, newerAgeS: 24, childlessNewest: true }]);
    // a newest with a Child SA of its own (still negotiating, or not yet newest) is left alone
    expect(superseded(parseStates([ike(3), child(4, 3, ' newest;'), ike(7, ' newest;'), child(8, 7).replace(' eroute owner;', '')].join('\n')))[0]).toMatchObject({ serial: 3, replaced: false });
  });

  it('on what pluto 4.10 printed: the responder of a restarted initiator, after its liveness probe of the old IKE SA failed and pluto revived the conn childless', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const states = parseStates(readFileSync(join(__dirname, '..', '..', 'fixtures', 'libreswan', 'showstates-childless-newest.txt'), 'utf8'));
    expect(superseded(states)).toEqual([{ conn: 'overcloud-storage_mgmt-to-overcloud-controller-0', serial: 64, newer: 55, hasChild: false, replaced: true, newerAgeS: 176, childlessNewest: true }]);
  });
});

describe('abandonedHalfOpenSas', () => {
  const halfOpen = (n: number, discardIn: number) => `#${n}: "${C}":500 STATE_V2_PARENT_R1 (sent IKE_SA_INIT reply); DISCARD in ${discardIn}s; idle;`;
  const abandoned = (lines: string[]) => [...statesByConn(parseStates(lines.join('\n')))].flatMap(([conn, list]) => abandonedHalfOpenSas(conn, list));

  it('an answer half-open for a minute or more beside the IKE SA that carries the newest Child SA: abandoned', () => {
    expect(abandoned([ike(7, ' newest;'), child(8, 7, ' newest;'), halfOpen(9, 140)])).toEqual([{ conn: C, serial: 9, ageS: 60, carrier: 7 }]);
  });

  it('younger than a minute (its initiator may still send IKE_AUTH), or with nothing carrying the tunnel (it may be the one that will): left', () => {
    expect(abandoned([ike(7, ' newest;'), child(8, 7, ' newest;'), halfOpen(9, 141)])).toEqual([]);
    expect(abandoned([halfOpen(9, 10)])).toEqual([]);
    expect(abandoned([ike(7, ' newest;'), halfOpen(9, 10)])).toEqual([]);
    // The Child SA not the newest (its replacement negotiating): nothing is sure to carry the tunnel.
    expect(abandoned([ike(7, ' newest;'), child(8, 7), halfOpen(9, 10)])).toEqual([]);
  });

  it('on what pluto 4.10 printed: a holder end with its answer to a crossed initiation left half-open (DISCARD in 10s)', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const states = parseStates(readFileSync(join(__dirname, '..', '..', 'fixtures', 'libreswan', 'showstates-childless-newest.txt'), 'utf8'));
    expect(states.find((s) => s.serial === 50)).toMatchObject({ kind: 'ike', established: false, discardInS: 10 });
    expect([...statesByConn(states)].flatMap(([conn, list]) => abandonedHalfOpenSas(conn, list))).toEqual([{ conn: 'overcloud-redis-vip-tunnel-to-overcloud-controller-0', serial: 50, ageS: 190, carrier: 45 }]);
  });
});
