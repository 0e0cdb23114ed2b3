// Dead peer detection and the MTU cost of the default algorithm, measured
// through the node-to-node tunnels on a kernel with ESP (2 controllers, 1
// compute, 1 Ceph node; IPv4 and IPv6 networks).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { espFraming, largestProtectedPacket, mtuAdvice } from '../../src/mtu.js';
import { connNames } from '../../src/model/names.js';
import { SAMPLE_VIP_HOLDERS, DataplaneOvercloud, smallSampleInventory } from '../helpers/dataplane.js';
import { scratchDir } from '../helpers/inputs.js';
import { waitFor } from '../helpers/pluto.js';
import { recordMeasurement } from './support.js';

const HOLDERS = SAMPLE_VIP_HOLDERS;
const CLI = join(__dirname, '..', '..', 'bin', 'tripleo-ipsec');
const LINK_MTU = 1500;
// What the plan sets (src/plan/tunnels.ts): dpddelay 5 s. pluto 4.10 ignores
// dpdtimeout for IKEv2; a liveness probe fails after retransmit-timeout (60 s,
// pluto's default). Plus what TCG's slowness may add.
const DPD_DELAY_S = 5;
const RETRANSMIT_TIMEOUT_S = 60;
const GUEST_SLACK_S = 15;

describe('DPD and MTU through real tunnels', () => {
  const scratch = scratchDir();
  let oc: DataplaneOvercloud;

  beforeAll(async () => {
    // The node-to-node mesh only: how VIP tunnels ride through crashes is the e2e cluster's and vip.test's.
    oc = new DataplaneOvercloud(scratch.dir, { inventoryPath: smallSampleInventory(scratch.dir), holders: HOLDERS, vars: { ipsec_configure_vips: false } });
    oc.startPlutos();
    await oc.startVipTunnels();
    await oc.waitSettled(300_000);
  });

  afterAll(() => {
    oc?.stopAll();
    scratch.cleanup();
  });

  /** The largest ping payload that passes with DF set (binary search; the kernel refuses bigger ones at once). */
  function largestDfPayload(from: string, to: string): number {
    let lo = 1000;
    let hi = LINK_MTU;
    expect(oc.ping(from, to, { count: 1, size: lo, df: true }).status, `${from} -> ${to} with ${lo} bytes`).toBe(0);
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (oc.ping(from, to, { count: 1, size: mid, df: true }).status === 0) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  it('the largest DF packet through a tunnel is what tripleo-ipsec mtu computes, IPv4 and IPv6; the advised size passes and one byte more does not', () => {
    const gcm = espFraming(oc.o.vars.ipsec_algorithm)!;
    const ctl = oc.o.nodes.find((n) => n.name === 'overcloud-controller-0')!;
    const cases = [
      { family: 4 as const, from: 'overcloud-novacompute-0', to: ctl.addresses.internal_api, icmp: 28 },
      { family: 6 as const, from: 'overcloud-cephstorage-0', to: ctl.addresses.storage_mgmt, icmp: 48 },
    ];
    const measured: Record<string, unknown> = {};
    for (const c of cases) {
      const payload = largestDfPayload(c.from, c.to);
      const packet = payload + c.icmp;
      const overhead = LINK_MTU - packet;
      measured[`ipv${c.family}`] = { largestPacket: packet, overhead };
      console.log(`IPv${c.family}: largest DF packet through the tunnel ${packet} bytes on a ${LINK_MTU}-byte link: ESP costs ${overhead} bytes (${oc.o.vars.ipsec_algorithm})`);
      expect(packet).toBe(largestProtectedPacket(LINK_MTU, c.family, gcm));
      expect(overhead).toBe(mtuAdvice(LINK_MTU, 'none', c.family, oc.o.vars.ipsec_algorithm).ipsec);
      // The advice, applied: exactly the advised packet passes, one byte more is refused.
      const advised = mtuAdvice(LINK_MTU, 'none', c.family, oc.o.vars.ipsec_algorithm).tenantMtu;
      expect(oc.ping(c.from, c.to, { count: 1, size: advised - c.icmp, df: true }).status).toBe(0);
      expect(oc.ping(c.from, c.to, { count: 1, size: advised - c.icmp + 1, df: true }).status).not.toBe(0);
    }
    recordMeasurement('mtu', measured);
  });

  it(`a peer's pluto killed: every survivor clears its SAs with it within dpddelay + retransmit-timeout (${DPD_DELAY_S} + ${RETRANSMIT_TIMEOUT_S} s, +${GUEST_SLACK_S} s for the guest), and the pair re-establishes by itself when it comes back`, async () => {
    const dead = 'overcloud-cephstorage-0';
    const deadNode = oc.o.nodes.find((n) => n.name === dead)!;
    const survivors = oc.o.nodes.filter((n) => n.name !== dead && oc.o.networks.some((net) => n.addresses[net.name] && deadNode.addresses[net.name]));
    const connsToDead = new Set(oc.o.networks.map((net) => connNames.nodeToNode(net.name, dead)));
    const hasSaWithDead = (name: string) => oc.status(name).states.some((s) => s.established && connsToDead.has(s.conn));
    for (const s of survivors) expect(hasSaWithDead(s.name), s.name).toBe(true);
    const n = oc.nodes.get(dead)!;
    const killedAt = Date.now();
    process.kill(n.pluto!.pid, 'SIGKILL');
    const cleared: Record<string, number> = {};
    await waitFor(
      'every survivor to clear its SAs with the dead peer',
      () => {
        for (const s of survivors) if (cleared[s.name] === undefined && !hasSaWithDead(s.name)) cleared[s.name] = (Date.now() - killedAt) / 1000;
        return survivors.every((s) => cleared[s.name] !== undefined);
      },
      (DPD_DELAY_S + RETRANSMIT_TIMEOUT_S + GUEST_SLACK_S) * 1000,
      250,
    );
    console.log(`DPD: SAs with the killed peer cleared after ${JSON.stringify(cleared)} s`);
    const back = Date.now();
    oc.restartPluto(dead);
    const reMs = await waitFor('the mesh to settle again', () => [...oc.nodes.keys()].every((x) => oc.settled(x)) && Date.now() - back, 180_000, 500).catch((e) => {
      throw new Error(`${(e as Error).message}\n${oc.table()}`);
    });
    console.log(`DPD: re-established ${(reMs / 1000).toFixed(1)} s after the peer's pluto restarted\n${oc.table()}`);
    recordMeasurement('dpd', { clearedAfterS: cleared, reestablishedAfterS: reMs / 1000 });
    expect(oc.plutoFailures()).toEqual([]);
  });

  for (const who of [
    { node: 'overcloud-controller-0', what: 'the lower address of each of its pairs (it initiates them all)' },
    { node: 'overcloud-cephstorage-0', what: 'the higher address of some pairs' },
  ]) {
    it(`a pluto that crashes and starts again at once (${who.what}): traffic with every peer flows again, the node has exactly its tunnels, every peer an established IKE and Child SA for each of its tunnels and none half-open`, async () => {
      const n = oc.nodes.get(who.node)!;
      process.kill(n.pluto!.pid, 'SIGKILL');
      await waitFor('the killed pluto to be gone', () => oc.deadPlutos().includes(who.node), 10_000, 100);
      const t0 = Date.now();
      oc.restartPluto(who.node);
      const node = oc.o.nodes.find((x) => x.name === who.node)!;
      const peers = oc.o.networks.flatMap((net) => (node.addresses[net.name] ? oc.o.nodes.filter((p) => p !== node && p.addresses[net.name]).map((p) => ({ peer: p.name, conn: connNames.nodeToNode(net.name, who.node), to: node.addresses[net.name] })) : []));
      const flowing = await waitFor('traffic with the restarted node', () => peers.every((p) => oc.ping(p.peer, p.to, { count: 1 }).status === 0) && Date.now() - t0, 120_000, 1000);
      await waitFor('the restarted node to show exactly its tunnels', () => oc.settled(who.node), 120_000, 1000).catch((e) => {
        throw new Error(`${(e as Error).message}\n${oc.table()}\n${oc.diagnose(who.node)}`);
      });
      const problems: string[] = [];
      let stale = 0;
      for (const p of peers) {
        const s = oc.status(p.peer);
        const ike = s.states.filter((x) => x.conn === p.conn && x.kind === 'ike');
        if (!ike.some((x) => x.established)) problems.push(`${p.peer}: ${p.conn} has no established IKE SA`);
        if (!s.states.some((x) => x.conn === p.conn && x.kind === 'child' && x.established)) problems.push(`${p.peer}: ${p.conn} has no Child SA`);
        if (ike.some((x) => !x.established)) problems.push(`${p.peer}: ${p.conn} has a half-open IKE SA`);
        stale += Math.max(0, ike.length - 1);
      }
      expect(problems).toEqual([]);
      // pluto 4.10 keeps the IKE SA a restarted peer replaced (its permanent conns have no
      // wipe of older IKE SAs, and no liveness probe reaches it): counted, then deleted by
      // what tripleo-ipsec-tidy.timer runs every minute on every node.
      console.log(`restart of ${who.node}: traffic with every peer ${(flowing / 1000).toFixed(1)} s after its pluto started; ${stale} stale IKE SAs left on its peers\n${oc.table()}`);
      const peerNodes = [...new Set(peers.map((p) => p.peer))];
      const everyone = [who.node, ...peerNodes];
      const settledWithin = (ms: number) => waitFor('every node to show exactly its tunnels', () => everyone.every((h) => oc.settled(h)), ms, 500).then(() => true, () => false);
      // As the timer runs it: tidy on every peer; again a round later for what was not yet replaced
      // (a conn whose newest Child SA was still negotiating, or that pluto cleared meanwhile).
      let deleted = 0;
      let rounds = 0;
      let settled = false;
      while (!settled && rounds < 3) {
        rounds++;
        for (const p of peerNodes) {
          const n = oc.nodes.get(p)!;
          const t = Date.now();
          const r = spawnSync('ip', ['netns', 'exec', n.ns, process.execPath, CLI, 'tidy', '--ctlsocket', n.pluto!.ctl, '--ipsecdir', n.ipsecdir, '--rundir', n.pluto!.agentRun], { encoding: 'utf8', timeout: 150_000 });
          console.log(`tidy on ${p} (round ${rounds}): ${((Date.now() - t) / 1000).toFixed(1)} s: ${r.stdout.trim().split('\n').join('; ')}`);
          expect(r.stderr, p).toBe('');
          expect(r.status, p).toBe(0);
          deleted += r.stdout.split('\n').filter((l) => l.startsWith('deleted stale IKE SA #')).length;
        }
        // Every node, the restarted one and all its peers: exactly its tunnels, as the guide checks.
        settled = await settledWithin(15_000);
      }
      expect(settled, `not settled after ${rounds} rounds of tidy\n${oc.table()}`).toBe(true);
      if (stale > 0) expect(deleted).toBeGreaterThan(0);
      expect(deleted).toBeLessThanOrEqual(stale);
      for (const p of peers) expect(oc.status(p.peer).states.filter((x) => x.conn === p.conn && x.kind === 'ike'), `${p.peer} ${p.conn}`).toHaveLength(1);
      // And still so a little later: nothing the tidy deleted comes back, nothing else goes.
      await new Promise((r) => setTimeout(r, 20_000));
      expect(everyone.filter((h) => !oc.settled(h)), oc.table()).toEqual([]);
      recordMeasurement(`restart ${who.node}`, { trafficAfterS: flowing / 1000, staleIkeSasOnPeers: stale, deletedByTidy: deleted, tidyRounds: rounds });
      expect(oc.plutoFailures()).toEqual([]);
    }, 420_000);
  }
});
