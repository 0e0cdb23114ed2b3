// Rotating the PSK on a kernel with ESP, the way a deploy after
// `tripleo-ipsec rotate-psk` does it: every node's tree generated again with
// the new key and its secrets re-read (step 1, on every node); then each
// node re-authenticates the tunnels it initiates, one at a time, with the
// same code apply runs at step 3 (src/apply/rotation.ts). Measured: what a
// ping every 50 ms loses on a node-to-node tunnel and on a VIP's tunnel
// while that happens, and that nothing crosses the wire in clear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SAMPLE_VIP_HOLDERS, DataplaneOvercloud, readCapture, smallSampleInventory } from '../helpers/dataplane.js';
import { scratchDir, TEST_PSK } from '../helpers/inputs.js';
import { whack } from '../helpers/pluto.js';
import { recordMeasurement } from './support.js';
import { PlutoClient } from '../../src/libreswan/plutoClient.js';
import { reauthenticate, renewals } from '../../src/apply/rotation.js';
import { parseNodePlan, type NodePlan } from '../../src/plan/nodePlan.js';
import { nodePaths } from '../../src/model/names.js';
import { inSubnet, parseAddress, parseCidr } from '../../src/model/addresses.js';
import type { GenerateResult } from '../../src/generate.js';

const INTERVAL_S = 0.05;

/** A ping every 50 ms until stopped; its summary says how many were lost. */
function longPing(ns: string, from: string, to: string) {
  const p = spawn('ip', ['netns', 'exec', ns, 'ping', '-n', '-q', '-i', String(INTERVAL_S), '-W', '1', '-I', from, to], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  const done = new Promise<{ sent: number; received: number }>((resolve) =>
    p.on('close', () => {
      const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
      resolve({ sent: m ? +m[1] : 0, received: m ? +m[2] : 0 });
    }),
  );
  return { stop: () => (p.kill('SIGINT'), done) };
}

describe('PSK rotation on a kernel with ESP: new keys everywhere, then each tunnel re-authenticated once by its initiator', () => {
  const scratch = scratchDir();
  let oc: DataplaneOvercloud;
  const plans = (r: GenerateResult): Map<string, NodePlan> =>
    new Map(r.nodes.map((n) => [n.name, parseNodePlan(r.hostTree(n.name).files.find((f) => f.path === nodePaths.nodePlan)!.content, n.name)]));

  beforeAll(async () => {
    oc = new DataplaneOvercloud(scratch.dir, { inventoryPath: smallSampleInventory(scratch.dir), holders: SAMPLE_VIP_HOLDERS });
    // As deployed: ipsec_policy private with apply's firewall, whose guard drops VIP traffic while its tunnel is re-authenticated.
    expect(oc.o.vars.ipsec_policy).toBe('private');
    oc.installFirewall();
    oc.startPlutos();
    await oc.startVipTunnels();
    await oc.waitSettled(360_000);
  }, 420_000);
  afterAll(() => {
    oc?.stopAll();
    scratch.cleanup();
  });

  it('loses at most a few pings per tunnel, sends nothing in clear, and ends with exactly one IKE and one Child SA per tunnel', async () => {
    const compute = oc.o.nodes.find((n) => !n.pacemaker && n.addresses.internal_api)!;
    const peer = oc.o.nodes.find((n) => n.pacemaker && n.addresses.internal_api)!;
    const vip = oc.o.vips.find((v) => v.name === 'internal_api')!;
    const ns = oc.nodes.get(compute.name)!.ns;
    const oldPlans = plans(oc.result);
    const capture = join(scratch.dir, 'rotation.pcap');
    oc.startCapture(capture);
    const pings = [longPing(ns, compute.addresses.internal_api, peer.addresses.internal_api), longPing(ns, compute.addresses.internal_api, vip.address)];
    await new Promise((r) => setTimeout(r, 2000));

    // Step 1 everywhere: the new key's files, read by every pluto. Nothing re-keys.
    const t0 = Date.now();
    const r = oc.regenerate({ ipsec_psk: `${TEST_PSK.slice(0, -8)}rotated!` });
    for (const n of oc.nodes.values()) expect(whack(oc.lab, n.pluto!, ['--rereadsecrets']).status).toBe(0);
    const newPlans = plans(r);
    // Step 3 on every node at once, as Ansible runs it; each node one tunnel at a time.
    const report: string[] = [];
    await Promise.all(
      [...oc.nodes.values()].map(async (n) => {
        const plan = newPlans.get(n.name)!;
        const previous = Object.fromEntries(oldPlans.get(n.name)!.conns.filter((c) => c.key).map((c) => [c.name, c.key!]));
        const pluto = new PlutoClient(n.pluto!.ctl);
        const loaded = new Set((await pluto.status()).conns.keys());
        const planned = plan.conns.map(({ kind: _k, ...c }) => ({ ...c, file: c.file }));
        const { renew } = renewals({ planned, steps: [3], previous, loaded, reloaded: new Set() });
        report.push(...(await reauthenticate(pluto, renew, { timeoutMs: 60_000 })).map((l) => `${n.name}: ${l}`));
      }),
    );
    const rotationMs = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 2000));
    const [node, toVip] = await Promise.all(pings.map((p) => p.stop()));
    await oc.stopCapture();
    console.log(`rotation: ${(rotationMs / 1000).toFixed(1)} s for all nodes\n${report.join('\n')}\nping ${compute.name} -> ${peer.name}: ${node.sent - node.received} of ${node.sent} lost; -> VIP: ${toVip.sent - toVip.received} of ${toVip.sent} lost\n${oc.table()}`);
    recordMeasurement('psk rotation', { rotationMs, lostNode: node.sent - node.received, lostVip: toVip.sent - toVip.received, sent: node.sent, intervalS: INTERVAL_S, report });

    // Every tunnel with a key was renewed by exactly one node: its initiator.
    const renewed = report.filter((l) => l.includes('re-authenticated'));
    expect(renewed.length).toBeGreaterThan(0);
    expect(report.filter((l) => l.includes('not up'))).toEqual([]);
    // Exactly the guide's counts again on every node: no duplicate left by the replacements.
    await oc.waitSettled(120_000);
    // Traffic stops only while its own tunnel re-authenticates (one IKE_SA_INIT and one IKE_AUTH,
    // from the IKE SA's deletion to the new Child SA), never longer: no stale or duplicate SA after.
    const msOf = (conns: string[]) => {
      const line = report.find((l) => conns.some((c) => l.includes(`re-authenticated ${c} `)));
      expect(line, `no re-authentication of ${conns.join(' or ')} in:\n${report.join('\n')}`).toBeDefined();
      return Number(/, (\d+) ms\)$/.exec(line!)![1]);
    };
    const nodeMs = msOf([`overcloud-internal_api-to-${peer.name}`, `overcloud-internal_api-to-${compute.name}`]);
    const vipMs = msOf([`overcloud-internal_api-vip-tunnel-to-${compute.name}`]);
    expect(node.sent).toBeGreaterThan(40);
    expect((node.sent - node.received) * INTERVAL_S * 1000).toBeLessThanOrEqual(nodeMs + 1000);
    expect((toVip.sent - toVip.received) * INTERVAL_S * 1000).toBeLessThanOrEqual(vipMs + 1000);
    recordMeasurement('psk rotation, per tunnel', { nodeMs, vipMs });
    // Nothing between isolated addresses in clear, during all of it.
    const isolated = oc.o.networks.flatMap((n) => n.subnets.map((c) => parseCidr(c)!));
    const inIsolated = (a: string) => {
      const p = parseAddress(a);
      return p !== undefined && isolated.some((c) => inSubnet(p, c));
    };
    const leaks = readCapture(capture).filter((p) => p.kind === 'other' && p.src && inIsolated(p.src) && inIsolated(p.dst)).map((p) => p.line);
    expect(leaks, leaks.slice(0, 10).join('\n')).toEqual([]);
    expect(oc.plutoFailures()).toEqual([]);
    expect(oc.deadPlutos()).toEqual([]);
  }, 600_000);
});
