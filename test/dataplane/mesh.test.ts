// The sample overcloud (3 controllers, 2 computes, 1 Ceph node; 4 networks,
// storage_mgmt IPv6; 4 VIPs, one IPv6, held by two controllers) on a kernel
// with ESP: every node settles to exactly one authenticated IKE SA and one
// IPsec SA per tunnel the plan gives it, stays so, and carries its traffic
// encrypted: a capture on the bridge sees only IKE and ESP between
// isolated-network addresses.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAddress, parseCidr, inSubnet } from '../../src/model/addresses.js';
import { connNames } from '../../src/model/names.js';
import { SAMPLE_VIP_HOLDERS, DataplaneOvercloud, readCapture } from '../helpers/dataplane.js';
import { scratchDir } from '../helpers/inputs.js';
import { whack } from '../helpers/pluto.js';
import { forEachLimit, recordMeasurement, trafficBytes } from './support.js';

const HOLDERS = SAMPLE_VIP_HOLDERS;
const SETTLE_BOUND_MS = Number(process.env.DATAPLANE_SETTLE_BOUND_MS ?? 360_000);
const STEADY_MS = Number(process.env.DATAPLANE_STEADY_MS ?? 120_000);

describe('the sample overcloud on a kernel with ESP (PSK, per-tunnel derived keys)', () => {
  const scratch = scratchDir();
  let oc: DataplaneOvercloud;
  let settleMs = 0;
  let established: Map<string, number[]>;

  beforeAll(async () => {
    oc = new DataplaneOvercloud(scratch.dir, { holders: HOLDERS });
    oc.startPlutos();
    await oc.startVipTunnels();
  });

  afterAll(() => {
    oc?.stopAll();
    scratch.cleanup();
  });

  function serials(name: string): number[] {
    return oc.status(name).states.filter((s) => s.established).map((s) => s.serial).sort((a, b) => a - b);
  }

  it(`settles on every node within ${SETTLE_BOUND_MS / 1000} s: IKE SAs total = authenticated = its tunnels, half-open 0, IPsec SAs the same`, async () => {
    settleMs = await oc.waitSettled(SETTLE_BOUND_MS);
    const table = oc.table();
    console.log(`settled ${(settleMs / 1000).toFixed(1)} s after pluto start:\n${table}`);
    recordMeasurement('mesh-settle', { settleMs, table });
    for (const name of oc.nodes.keys()) {
      const want = oc.expectedTunnels(name);
      expect(oc.saLine(name), name).toEqual({ ike: { total: want, halfOpen: 0, open: 0, authenticated: want }, ipsec: { total: want, authenticated: want } });
    }
    // 41 node pairs (82 ends) and 16 VIP peers, each counted at both ends.
    expect([...oc.nodes.keys()].reduce((n, name) => n + oc.expectedTunnels(name), 0)).toBe(82 + 32);
    // One IKE SA per conn (no duplicate for one tunnel), per VIP peer one instance.
    for (const name of oc.nodes.keys()) {
      const perConn = new Map<string, number>();
      for (const s of oc.status(name).states.filter((x) => x.kind === 'ike')) {
        const k = `${s.conn}${s.peer ? ` ${s.peer}` : ''}`;
        perConn.set(k, (perConn.get(k) ?? 0) + 1);
      }
      expect([...perConn].filter(([, n]) => n > 1), name).toEqual([]);
    }
    established = new Map([...oc.nodes.keys()].map((n) => [n, serials(n)]));
  }, SETTLE_BOUND_MS + 60_000);

  it('pings pass between every pair of nodes on every network and from every node to every VIP, through the matching tunnel, and the wire carries only IKE and ESP', async () => {
    const before = new Map([...oc.nodes.keys()].map((n) => [n, trafficBytes(oc, n)]));
    const capture = join(scratch.dir, 'wire.pcap');
    oc.startCapture(capture);
    const jobs = oc.pingPlan();
    expect(jobs.length).toBe(41 + 16);
    const failed: string[] = [];
    await forEachLimit(jobs, 6, async (j) => {
      const r = await oc.pingAsync(j.from, j.to);
      if (r.status !== 0) failed.push(`${j.what}: ${r.stdout.trim().split('\n').pop()}`);
    });
    await oc.stopCapture();
    expect(failed).toEqual([]);
    // Every ping went through its tunnel: the sender's conn counted the bytes.
    const silent: string[] = [];
    for (const j of jobs) {
      const was = before.get(j.from)!.get(j.conn) ?? 0;
      const now = trafficBytes(oc, j.from).get(j.conn) ?? 0;
      if (!(now > was)) silent.push(`${j.what}: ${j.conn} outBytes ${was} -> ${now}`);
    }
    expect(silent).toEqual([]);

    const isolated = oc.o.networks.flatMap((n) => n.subnets.map((c) => parseCidr(c)!));
    const inIsolated = (a: string) => {
      const p = parseAddress(a);
      return p !== undefined && isolated.some((c) => inSubnet(p, c));
    };
    const pkts = readCapture(capture);
    const between = pkts.filter((p) => p.src && inIsolated(p.src) && inIsolated(p.dst));
    const byKind = between.reduce<Record<string, number>>((m, p) => ({ ...m, [p.kind]: (m[p.kind] ?? 0) + 1 }), {});
    console.log(`capture: ${pkts.length} packets; between isolated addresses: ${JSON.stringify(byKind)}`);
    recordMeasurement('mesh-capture', { total: pkts.length, between: byKind });
    // ESP carried the pings: at least one request and its reply per job.
    expect(byKind.esp ?? 0).toBeGreaterThanOrEqual(2 * jobs.length);
    // Neighbour discovery is link-layer address resolution (it must stay clear, as ARP does); anything else is a leak.
    const leaks = between.filter((p) => p.kind === 'other').map((p) => p.line);
    expect(leaks, `plaintext between isolated addresses:\n${leaks.slice(0, 20).join('\n')}`).toEqual([]);
    expect(pkts.filter((p) => p.kind === 'other' && !p.src).map((p) => p.line)).toEqual([]);
  });

  it(`is still settled ${STEADY_MS / 1000} s later with the very same SAs (no churn), and no pluto logged an assertion or expectation failure`, async () => {
    await new Promise((r) => setTimeout(r, STEADY_MS));
    for (const name of oc.nodes.keys()) {
      expect(oc.settled(name), `${name}\n${oc.table()}`).toBe(true);
      expect(serials(name), `${name}: established SAs were replaced`).toEqual(established.get(name));
    }
    expect(oc.plutoFailures()).toEqual([]);
    expect(oc.deadPlutos()).toEqual([]);
  });

  it('whack --trafficstatus names one Child SA per tunnel on the VIP holder, one per peer', () => {
    const h = oc.nodes.get(HOLDERS.storage_mgmt)!;
    const out = whack(oc.lab, h.pluto!, ['--trafficstatus']).stdout;
    const peers = oc.o.nodes.filter((n) => n.addresses.storage_mgmt && n.name !== HOLDERS.storage_mgmt);
    const lines = out.split('\n').filter((l) => l.includes(`"${connNames.vipTunnel('storage_mgmt')}-to-`));
    expect(lines).toHaveLength(peers.length);
    for (const p of peers) expect(lines.filter((l) => l.includes(`-to-${p.name}"`)), p.name).toHaveLength(1);
  });
});
