// `tripleo-ipsec status --inventory` where Child SAs exist: real sshd and a
// real pluto per node (test/helpers/sshNodes.ts), deployed with apply
// --tree, and the internal_api VIP's tunnel started by the agent where the VIP
// is. All up: exit 0 and the guide's lines exact on every node. Then a
// duplicate Child SA (a second initiate on an up tunnel) is named, and the
// VIP's holder missing one peer.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlutoStatus } from '../../src/libreswan/whackStatus.js';
import { CLEAN_PATH } from '../helpers/agent.js';
import { waitFor } from '../helpers/pluto.js';
import { STATUS_HOSTS, StatusNodes } from '../helpers/statusNodes.js';

const AGENT = join(__dirname, '..', '..', 'agents', 'ipsec');
const VIP = '198.51.100.100';
const HOLDER = 'overcloud-controller-0';
const COMPUTE = 'overcloud-novacompute-0';
const VIP_TUNNEL = 'overcloud-internal_api-vip-tunnel';
const HOSTS = STATUS_HOSTS;

describe('status --inventory on a kernel with ESP', () => {
  const sn = new StatusNodes({ tag: 'ds', vip: { address: VIP, holder: HOLDER }, applyTimeoutMs: 300_000, statusTimeoutS: 60, statusCallMs: 240_000 });
  const nodes = sn.nodes;
  const status = (extra: string[] = []) => {
    const r = sn.status(extra);
    console.log(`status ${extra.join(' ')}: exit ${r.code} in ${r.ms} ms (guest, TCG)`);
    return r;
  };
  // 2 node-to-node tunnels each; the holder one VIP tunnel per other node, the others one to the VIP.
  const want = (h: string) => (h === HOLDER ? 4 : 3);
  const exact = (h: string) => {
    const st = parsePlutoStatus(nodes.whack(h, ['--status']).stdout);
    const n = want(h);
    return st.ikeSas.total === n && st.ikeSas.authenticated === n && (st.ikeSas.halfOpen ?? 0) === 0 && st.ipsecSas.total === n && st.ipsecSas.authenticated === n;
  };
  const meshUp = (h: string) => parsePlutoStatus(nodes.whack(h, ['--status']).stdout).states.filter((x) => x.kind === 'child' && x.established && !x.conn.includes('-vip')).length === 2;

  beforeAll(async () => {
    const d = sn.deploy();
    expect(d.generate.status, String(d.generate.stderr)).toBe(0);
    for (const [h, r] of d.applies) expect(r.status, `${h}: ${r.stderr}`).toBe(0);
    expect(d.applies.size).toBe(3);
    // Deploy step 3 after step 1: the node-to-node tunnels first, then Pacemaker starts the VIP's tunnel where the VIP is.
    await waitFor('the node-to-node tunnels', () => Object.keys(HOSTS).every(meshUp), 300_000, 1000);
    const env0 = [`PATH=${CLEAN_PATH}`, 'OCF_ROOT=/usr/lib/ocf', 'OCF_RESOURCE_INSTANCE=tripleo-ipsec-internal_api', `OCF_RESKEY_tunnel=${VIP_TUNNEL}`, `OCF_RESKEY_vip=${VIP}`, 'OCF_RESKEY_CRM_meta_timeout=60000'];
    const a = nodes.exec(HOLDER, 'env', ['-i', ...env0, AGENT, 'start'], 70_000);
    expect(a.status, a.stderr).toBe(0);
    await waitFor('every node to hold exactly its tunnels with Child SAs', () => Object.keys(HOSTS).every(exact), 300_000, 1000);
  }, 420_000);
  afterAll(() => sn.cleanup());

  it('everything established: exit 0, every node OK', () => {
    const r = status();
    expect(r.out.split('\n')[0]).toBe('OK: 3 node(s), 3 OK, 0 with problems; tunnels up with an IKE and a Child SA: 10 of 10');
    expect(r.code).toBe(0);
  });

  it('a duplicate Child SA on one tunnel is named, with its count', async () => {
    // The lower address initiates: a second initiate on its up conn makes a second Child SA on the same IKE SA.
    expect(nodes.whack('overcloud-controller-0', ['--name', 'overcloud-internal_api-to-overcloud-controller-1', '--initiate', '--asynchronous']).status).toBe(0);
    await waitFor('the second Child SA', () => parsePlutoStatus(nodes.whack('overcloud-controller-0', ['--status']).stdout).ipsecSas.total === want(HOLDER) + 1, 60_000, 500);
    const r = status();
    expect(r.code).toBe(1);
    expect(r.out).toContain('overcloud-controller-0: internal_api: with overcloud-controller-1 (overcloud-internal_api-to-overcloud-controller-1): 2 Child SAs for one tunnel');
  });

  it("the VIP's holder missing one peer: the holder, the VIP and the peer are named, and the peer's own end", async () => {
    // The compute drops its end: pluto sends the holder an IKE Delete, and the holder's retries find no conn there.
    expect(nodes.whack(COMPUTE, ['--name', VIP_TUNNEL, '--delete']).status).toBe(0);
    const holderEnd = `${VIP_TUNNEL}-to-${COMPUTE}`;
    await waitFor("the holder's end to the compute to lose its IKE SA", () => !parsePlutoStatus(nodes.whack(HOLDER, ['--status']).stdout).states.some((x) => x.conn === holderEnd && x.kind === 'ike' && x.established), 60_000, 500);
    const r = status(['--json']);
    expect(r.code).toBe(1);
    const problems = JSON.parse(r.out).problems as string[];
    expect(problems.filter((p) => p.startsWith(`${HOLDER}: internal_api: with the internal_api VIP it holds, from ${COMPUTE} (${holderEnd}): `))).toHaveLength(1);
    expect(problems).toContain(`${COMPUTE}: internal_api: with the internal_api VIP (held by ${HOLDER}) (${VIP_TUNNEL}): no tunnel (no IKE SA, none negotiating)`);
    // The holder's end to controller-1 is untouched.
    expect(problems.filter((p) => p.includes(`${VIP_TUNNEL}-to-overcloud-controller-1`))).toEqual([]);
    expect(JSON.parse(r.out).vips).toEqual([{ vip: 'internal_api', address: VIP, holder: HOLDER, from: 'pluto' }]);
  });
});
