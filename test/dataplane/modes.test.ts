// The other ways to key the mesh settle the same way on a kernel with ESP:
// one shared PSK (interop with nodes configured by the Ansible role's rules),
// certificates, and opportunistic IPsec (2 controllers, 1 compute, 1 Ceph
// node; an IPv6 network and an IPv6 VIP among them).
import { afterEach, describe, expect, it } from 'vitest';
import { SAMPLE_VIP_HOLDERS, DataplaneOvercloud, smallSampleInventory } from '../helpers/dataplane.js';
import { scratchDir } from '../helpers/inputs.js';
import { forEachLimit, recordMeasurement } from './support.js';
import { plutoLog, waitFor, whack } from '../helpers/pluto.js';

const HOLDERS = SAMPLE_VIP_HOLDERS;

describe('keying modes on a kernel with ESP', () => {
  let oc: DataplaneOvercloud | undefined;
  let scratch: ReturnType<typeof scratchDir> | undefined;

  afterEach(() => {
    oc?.stopAll();
    scratch?.cleanup();
    oc = undefined;
  });

  /** Every ping of the plan (node pairs, and unless `vips` is false every node to every VIP); the failures. */
  async function allPings(o: DataplaneOvercloud, vips = true): Promise<string[]> {
    const failed: string[] = [];
    const isVip = (a: string) => o.o.vips.some((v) => v.address === a);
    await forEachLimit(o.pingPlan().filter((j) => vips || !isVip(j.to)), 4, async ({ from, to }) => {
      const r = await o.pingAsync(from, to, { count: 3 });
      if (r.status !== 0) failed.push(`${from} -> ${to}: ${r.stdout.trim().split('\n').pop()}`);
    });
    return failed;
  }

  for (const mode of [
    { name: 'one shared PSK (ipsec_psk_mode: shared)', vars: { ipsec_psk_mode: 'shared' } },
    { name: 'certificates (ipsec_auth: cert)', vars: { ipsec_auth: 'cert' }, caCreate: true },
  ]) {
    it(`${mode.name}: every node settles to exactly its tunnels, and pings pass`, async () => {
      scratch = scratchDir();
      oc = new DataplaneOvercloud(scratch.dir, { inventoryPath: smallSampleInventory(scratch.dir), holders: HOLDERS, vars: mode.vars, caCreate: mode.caCreate });
      oc.startPlutos();
      await oc.startVipTunnels();
      const ms = await oc.waitSettled(300_000);
      console.log(`${mode.name}: settled in ${(ms / 1000).toFixed(1)} s\n${oc.table()}`);
      recordMeasurement(`settle ${mode.name}`, { ms, table: oc.table() });
      const failed = await allPings(oc);
      if (failed.length) console.log(`${mode.name}: failed pings\n${failed.join('\n')}\n${oc.table()}`);
      expect(failed).toEqual([]);
      for (const name of oc.nodes.keys()) expect(oc.settled(name), `${name}\n${oc.table()}`).toBe(true);
      expect(oc.plutoFailures()).toEqual([]);
    }, 420_000);
  }

  it('opportunistic IPsec: traffic brings up exactly one IKE SA and one Child SA per pair of nodes that talk (anonymous: authby=null); the VIPs have no tunnel in this mode and their traffic is dropped, not sent in clear', async () => {
    scratch = scratchDir();
    const oe = new DataplaneOvercloud(scratch.dir, { inventoryPath: smallSampleInventory(scratch.dir), holders: HOLDERS, vars: { use_opportunistic_ipsec: true } });
    oc = oe;
    oc.startPlutos();
    const o = oc.o;
    expect(oe.result.pacemaker.resources).toEqual([]);
    const t0 = Date.now();
    // The first packet of a pair is held while its SA comes up (seconds under the guest's emulation).
    const failedFirst = await allPings(oc, false);
    // Half-open and open both 0, the operator's line: an IKE SA past IKE_SA_INIT still in IKE_AUTH is "open", and its pair's traffic waits for it.
    await waitFor('the opportunistic SAs to come up', () => o.nodes.every((n) => { const { halfOpen, open } = oe.saLine(n.name).ike; return halfOpen === 0 && open === 0; }), 120_000, 1000);
    // The second round must all pass.
    const failed = await allPings(oc, false);
    console.log(`opportunistic: first round ${failedFirst.length} failures, ${((Date.now() - t0) / 1000).toFixed(1)} s for both rounds\n${failed.join('\n')}\n${oc.table()}`);
    if (failed.length) {
      // What both plutos said about the first failing pair.
      const [from, to] = failed[0].split(':')[0].split(' -> ');
      const peer = oc.o.nodes.find((n) => Object.values(n.addresses).includes(to))!;
      for (const [n, addr] of [[from, to], [peer.name, oc.o.nodes.find((x) => x.name === from)!.addresses[Object.entries(peer.addresses).find(([, a]) => a === to)![0]]]]) {
        console.log(`--- ${n} about ${addr}:\n${plutoLog(oc.nodes.get(n)!.pluto!).split('\n').filter((l) => l.includes(addr)).slice(-25).join('\n')}`);
      }
      console.log(whack(oc.lab, oc.nodes.get(from)!.pluto!, ['--status']).stdout.split('\n').filter((l) => l.includes(to) || /private|opportunistic/.test(l)).slice(0, 40).join('\n'));
    }
    expect(failed).toEqual([]);
    for (const node of o.nodes) {
      const s = oc.status(node.name);
      // Opportunistic SAs: one per peer on each network, all anonymous.
      const oePeers = o.networks.reduce((k, net) => k + (node.addresses[net.name] ? o.nodes.filter((p) => p !== node && p.addresses[net.name]).length : 0), 0);
      const vipTunnels = 0; // no VIP tunnels in this mode
      const line = `${node.name}: IKE ${JSON.stringify(s.ikeSas)} IPsec ${JSON.stringify(s.ipsecSas)}`;
      expect(s.ikeSas.halfOpen, line).toBe(0);
      expect(s.ikeSas.total, line).toBe(oePeers + vipTunnels);
      expect(s.ikeSas.anonymous, line).toBe(oePeers);
      expect(s.ikeSas.authenticated, line).toBe(vipTunnels);
      expect(s.ipsecSas.total, line).toBe(oePeers + vipTunnels);
    }
    // A VIP has no tunnel in this mode (src/plan/tunnels.ts): under ipsec_policy private its traffic is dropped.
    const cmp = o.nodes.find((n) => !n.pacemaker && n.addresses.internal_api)!;
    expect(oc.ping(cmp.name, o.vips.find((v) => v.name === 'internal_api')!.address, { count: 2 }).status).not.toBe(0);
    recordMeasurement('opportunistic', { table: oc.table() });
    expect(oc.plutoFailures()).toEqual([]);
  }, 420_000);
});
