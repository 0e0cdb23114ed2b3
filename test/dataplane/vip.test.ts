// With ipsec_policy private, VIP traffic never leaves in clear, even while the
// VIP has no tunnel (its holder's tunnel stopped, as between the old holder's
// stop and the new holder's start): the generated OUTPUT guard drops it.
// Proved on a kernel with ESP with a capture on the bridge, the guard's own
// counter, and the same ping with the guard taken out (which does leave in
// clear: the capture can see a leak). Then the VIP moves and traffic flows
// through the new holder's tunnel.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_VIP_HOLDERS, DataplaneOvercloud, readCapture, smallSampleInventory } from '../helpers/dataplane.js';
import { prefixOf } from '../helpers/overcloudLab.js';
import { scratchDir } from '../helpers/inputs.js';
import { sh } from '../helpers/netns.js';
import { waitFor } from '../helpers/pluto.js';
import { recordMeasurement } from './support.js';

const VIP = 'internal_api';
const COMPUTE = 'overcloud-novacompute-0';
const OUT_CHAIN = 'TRIPLEO-IPSEC-OUT';

describe('a VIP without a tunnel: nothing in clear (ipsec_policy private)', () => {
  const scratch = scratchDir();
  let oc: DataplaneOvercloud;
  let vipAddr: string;
  let computeAddr: string;
  const holders = { ...SAMPLE_VIP_HOLDERS };

  const ns = (node: string) => oc.nodes.get(node)!.ns;
  const iptables = (node: string, args: string[], allowFail = false) => sh('ip', ['netns', 'exec', ns(node), 'iptables', ...args], { allowFail });
  /** Packets the guard dropped on `node` (its rules' counters). */
  const dropped = (node: string) =>
    iptables(node, ['-L', OUT_CHAIN, '-v', '-x', '-n']).stdout.split('\n').filter((l) => /DROP/.test(l)).reduce((n, l) => n + Number(l.trim().split(/\s+/)[0]), 0);
  /** ICMP between the compute and the VIP seen on the wire, in clear. */
  const clearIcmp = (file: string) => readCapture(file).filter((p) => p.kind === 'other' && /ICMP/.test(p.line) && [p.src, p.dst].includes(vipAddr) && [p.src, p.dst].includes(computeAddr));
  const espCompute = (file: string) => {
    try {
      return readCapture(file).filter((p) => p.kind === 'esp' && [p.src, p.dst].includes(computeAddr));
    } catch {
      return [];
    }
  };
  /** ESP between the compute and the VIP's holder (its own address: where the VIP's tunnel ends). */
  const espWithHolder = (file: string) => {
    const h = oc.o.nodes.find((n) => n.name === holders[VIP as keyof typeof holders])!.addresses.internal_api;
    return espCompute(file).filter((p) => [p.src, p.dst].includes(h));
  };

  /**
   * Pings inside a capture that is proved live before and after them: a
   * node-to-node ping from the compute (ESP on the wire) must show up first
   * and again last, so "nothing in clear" can never come from a capture that
   * had not started or had already stopped (under TCG tcpdump starts late).
   */
  async function pingsWithCapture(name: string, from: string, to: string, source?: string) {
    const file = join(scratch.dir, `${name}.pcap`);
    // a node other than the VIP's holder, so the probes' ESP is not counted as the VIP's
    const probeTo = oc.o.nodes.find((n) => n.name !== COMPUTE && n.name !== holders[VIP as keyof typeof holders] && n.addresses.internal_api)!.addresses.internal_api;
    const probe = async (what: string) => {
      const seen = espCompute(file).length;
      await waitFor(`the capture to see the compute's node-to-node ESP (${what})`, () => oc.ping(COMPUTE, probeTo, { count: 1 }).status === 0 && espCompute(file).length > seen, 30_000, 500);
    };
    oc.startCapture(file);
    await probe('before');
    const r = await oc.pingAsync(from, to, { count: 3, ...(source ? { source } : {}) });
    await probe('after');
    await oc.stopCapture();
    return { ok: r.status === 0, file };
  }

  beforeAll(async () => {
    oc = new DataplaneOvercloud(scratch.dir, { inventoryPath: smallSampleInventory(scratch.dir), holders });
    expect(oc.o.vars.ipsec_policy).toBe('private');
    vipAddr = oc.o.vips.find((v) => v.name === VIP)!.address;
    computeAddr = oc.o.nodes.find((n) => n.name === COMPUTE)!.addresses.internal_api;
    // What apply installs on every node: the generated chains and their jumps (the OUTPUT one is the guard).
    oc.installFirewall();
    expect(iptables(COMPUTE, ['-S', OUT_CHAIN]).stdout).toContain(`-d ${vipAddr}/32 ! -o lo -m policy --dir out --pol none`);
    oc.startPlutos();
    await oc.startVipTunnels();
    await oc.waitSettled(300_000);
  }, 420_000);

  afterAll(() => {
    oc?.stopAll();
    scratch.cleanup();
  });

  it('with the tunnel up, the compute reaches the VIP through ESP and the guard drops nothing', async () => {
    const before = dropped(COMPUTE);
    const r = await pingsWithCapture('up', COMPUTE, vipAddr);
    expect(r.ok).toBe(true);
    expect(clearIcmp(r.file)).toEqual([]);
    // 3 requests and 3 replies
    expect(espWithHolder(r.file).length).toBeGreaterThanOrEqual(6);
    expect(dropped(COMPUTE)).toBe(before);
  });

  it('the holder\'s tunnel stopped, the VIP still there: the compute\'s pings are dropped on the compute, none in clear on the wire; the holder sends nothing from the VIP in clear either', async () => {
    await oc.stopVipTunnel(VIP);
    await waitFor('the compute to lose its SA with the VIP (the IKE Delete)', () => !oc.status(COMPUTE).states.some((s) => s.conn === `overcloud-${VIP}-vip-tunnel` && s.established), 30_000, 500);
    const before = dropped(COMPUTE);
    const r = await pingsWithCapture('down', COMPUTE, vipAddr);
    expect(r.ok).toBe(false);
    expect(clearIcmp(r.file).map((p) => p.line)).toEqual([]);
    expect(dropped(COMPUTE) - before).toBeGreaterThanOrEqual(3);
    const holder = holders[VIP as keyof typeof holders];
    const hBefore = dropped(holder);
    const h = await pingsWithCapture('down-from-holder', holder, computeAddr, vipAddr);
    expect(h.ok).toBe(false);
    expect(clearIcmp(h.file).map((p) => p.line)).toEqual([]);
    expect(dropped(holder) - hBefore).toBeGreaterThanOrEqual(3);
  });

  it('control: the same pings without the guard do leave in clear (the capture sees a leak when there is one)', async () => {
    iptables(COMPUTE, ['-D', 'OUTPUT', '-j', OUT_CHAIN]);
    try {
      const r = await pingsWithCapture('unguarded', COMPUTE, vipAddr);
      expect(clearIcmp(r.file).filter((p) => p.src === computeAddr).length).toBeGreaterThanOrEqual(3);
    } finally {
      iptables(COMPUTE, ['-I', 'OUTPUT', '-j', OUT_CHAIN]);
    }
  });

  it('the VIP moves to the other controller and its agent starts there: the compute reaches it through ESP again', async () => {
    const old = holders[VIP as keyof typeof holders];
    const next = oc.o.nodes.find((n) => n.pacemaker && n.name !== old)!.name;
    const prefix = prefixOf(oc.o, 'internal_api');
    oc.lab.delAddress(ns(old), `${vipAddr}/${prefix}`);
    oc.lab.addAddress(ns(next), `${vipAddr}/${prefix}`);
    oc.lab.announce(ns(next), vipAddr, scratch.dir);
    holders[VIP as keyof typeof holders] = next;
    oc.opts.holders[VIP] = next;
    const t0 = Date.now();
    await oc.startVipTunnels(next);
    const ms = await waitFor('the compute to reach the VIP on its new holder', () => oc.ping(COMPUTE, vipAddr, { count: 1 }).status === 0 && Date.now() - t0, 60_000, 200);
    console.log(`VIP moved: the compute's first ping through the new holder's tunnel ${ms} ms after the agent's start began (guest, TCG)`);
    recordMeasurement('vip-move-guest', { firstPingAfterMs: ms });
    const r = await pingsWithCapture('moved', COMPUTE, vipAddr);
    expect(r.ok).toBe(true);
    expect(clearIcmp(r.file)).toEqual([]);
    expect(espWithHolder(r.file).length).toBeGreaterThanOrEqual(6);
    expect(oc.plutoFailures()).toEqual([]);
    expect(oc.deadPlutos()).toEqual([]);
  }, 120_000);
});
