// Which conns this node initiates (tidy leaves their leftovers to settle first, and initiates them again
// when they have no IKE SA): read from its generated files and the holder ends the agent linked.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteOrRekey, initiatedConns } from '../../../src/tidy.js';
import type { SupersededIkeSa } from '../../../src/libreswan/supersededSas.js';
import { generateFrom, small } from '../../helpers/inputs.js';

describe('initiatedConns', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ti-tidy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a node's auto=start conns: node-to-node where it is the lower address, and the ends of the VIPs held here (linked into the rundir), not those it answers nor other VIPs' ends", () => {
    const r = generateFrom(small());
    // a controller that both initiates and answers: neither the lowest nor the highest address
    const host = r.plans.find((p) => p.node.pacemaker && p.files.some((f) => f.conns.some((c) => c.kind === 'node-to-node' && c.auto === 'start')) && p.files.some((f) => f.conns.some((c) => c.auto === 'route')))!.node.name;
    const ipsecdir = join(dir, 'ipsec.d');
    const rundir = join(dir, 'run');
    mkdirSync(rundir, { recursive: true });
    for (const f of r.files.filter((x) => x.path.startsWith(`${host}/etc/ipsec.d/`))) {
      const p = join(ipsecdir, f.path.slice(`${host}/etc/ipsec.d/`.length));
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, f.content);
    }
    const plan = r.plans.find((p) => p.node.name === host)!;
    const holderFiles = plan.files.filter((f) => f.conns.some((c) => c.kind === 'vip-holder'));
    expect(holderFiles.length).toBeGreaterThan(1);
    // The agent holds one VIP here: its file linked into the rundir, as start does.
    const held = holderFiles[0];
    // confName is relative to etc/ipsec.d (overcloud-vip-holder/<tunnel>.conf); the link is <rundir>/<tunnel>.conf.
    symlinkSync(join(ipsecdir, held.confName), join(rundir, held.confName.split('/').pop()!));
    // Not ours: never read. A dangling link (a VIP being stopped): skipped.
    writeFileSync(join(ipsecdir, 'other.conf'), 'conn other\n\tauto=start\n');
    symlinkSync(join(dir, 'gone.conf'), join(rundir, 'overcloud-gone-vip-tunnel.conf'));
    const got = initiatedConns(ipsecdir, rundir);
    const want = [
      ...plan.files.flatMap((f) => f.conns.filter((c) => c.kind === 'node-to-node' && c.auto === 'start').map((c) => c.name)),
      ...held.conns.map((c) => c.name),
    ];
    expect(want.length).toBeGreaterThan(3);
    expect([...got.keys()].sort()).toEqual([...new Set(want)].sort());
    // When each was written: the link's own time for the held VIP's ends.
    for (const t of got.values()) expect(Math.abs(Date.now() - t)).toBeLessThan(60_000);
    const notHere = [...plan.files.flatMap((f) => f.conns.filter((c) => c.auto === 'route').map((c) => c.name)), ...holderFiles.slice(1).flatMap((f) => f.conns.map((c) => c.name))];
    expect(notHere.length).toBeGreaterThan(0);
    for (const c of notHere) expect(got.has(c), c).toBe(false);
    expect(got.has('other')).toBe(false);
    expect(initiatedConns(join(dir, 'missing'), join(dir, 'missing-too'))).toEqual(new Map());
  });
});

describe('deleteOrRekey', () => {
  const A = 'overcloud-storage-to-overcloud-novacompute-0';
  const B = 'overcloud-tenant-to-overcloud-novacompute-0';
  const stale = (conn: string, serial: number, newer: number, extra: Partial<SupersededIkeSa> = {}): SupersededIkeSa => ({ conn, serial, newer, hasChild: false, replaced: true, newerAgeS: 120, ...extra });
  const initiated = new Map([[A, 0], [B, 0]]);

  it("on a conn this node initiates, a stale IKE SA with the higher serial (a restarted peer's dropped half): the conn rekeyed first, its stale SAs left for a later round", () => {
    // As in the guest: #57 (the peer's abandoned initiation, answered here) beside #53, which carries the traffic.
    expect(deleteOrRekey([stale(A, 57, 53), stale(A, 41, 53), stale(B, 12, 30)], initiated)).toEqual({ stale: [stale(B, 12, 30)], rekey: [stale(A, 57, 53)] });
  });

  it('a lower serial, a conn this node answers, or a childless newest (rekeying would act on it): deleted as before', () => {
    expect(deleteOrRekey([stale(A, 41, 53)], initiated)).toEqual({ stale: [stale(A, 41, 53)], rekey: [] });
    expect(deleteOrRekey([stale('overcloud-storage-to-overcloud-controller-0', 57, 53)], initiated)).toEqual({ stale: [stale('overcloud-storage-to-overcloud-controller-0', 57, 53)], rekey: [] });
    const childless = stale(A, 66, 53, { childlessNewest: true });
    expect(deleteOrRekey([childless], initiated)).toEqual({ stale: [childless], rekey: [] });
  });
});
