// crm_mon XML and the status view, on real outputs saved from the e2e cluster.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCrmMon } from '../../../src/pacemaker/crmMon.js';
import { EnvironmentError } from '../../../src/model/errors.js';
import { parsePlutoStatus, type PlutoStatus } from '../../../src/libreswan/whackStatus.js';
import { buildStatus } from '../../../src/status/statusReport.js';
import { planPacemaker } from '../../../src/plan/pacemaker.js';
import type { Overcloud } from '../../../src/model/types.js';

const dir = (step: string) => join(__dirname, '..', '..', 'fixtures', 'cluster', step);
const read = (step: string, f: string) => readFileSync(join(dir(step), f), 'utf8');
const CONTROLLERS = ['overcloud-controller-0', 'overcloud-controller-1', 'overcloud-controller-2'];
const COMPUTE = 'overcloud-novacompute-0';
const ALL = [...CONTROLLERS, COMPUTE];

const overcloud = {
  nodes: [
    ...CONTROLLERS.map((name, i) => ({ name, fqdn: name, role: 'Controller', pacemaker: true, addresses: { internal_api: `192.0.2.1${i}` } })),
    { name: COMPUTE, fqdn: COMPUTE, role: 'Compute', pacemaker: false, addresses: { internal_api: '192.0.2.20' } },
  ],
  networks: [{ name: 'internal_api', family: 4, subnets: ['192.0.2.0/24'], subnetSource: 'network_data', leaves: [] }],
  vips: [{ name: 'internal_api', network: 'internal_api', address: '192.0.2.100' }],
  vars: {} as Overcloud['vars'],
  notes: [],
} as Overcloud;
const plan = planPacemaker(overcloud);

function plutos(step: string, nodes = ALL): Map<string, PlutoStatus> {
  return new Map(nodes.map((n) => [n, parsePlutoStatus(read(step, `${n}.txt`))]));
}

describe('parseCrmMon (Pacemaker 2.1 output)', () => {
  it('reads nodes, primitives and clone instances', () => {
    const m = parseCrmMon(read('initial', 'crm_mon.xml'));
    expect(m.nodes.map((n) => [n.name, n.online])).toEqual(CONTROLLERS.map((n) => [n, true]));
    const vip = m.resources.find((r) => r.id === 'ip-192.0.2.100')!;
    const tunnel = m.resources.find((r) => r.id === 'tripleo-ipsec-internal_api')!;
    expect(vip.active && tunnel.active).toBe(true);
    expect(tunnel.nodes).toEqual(vip.nodes);
    const fence = m.resources.find((r) => r.id === 'fence-lab')!;
    expect(fence.active).toBe(true);
  });

  it('reads failed actions with their exit reasons', () => {
    const xml = read('initial', 'crm_mon.xml').replace('</pacemaker-result>',
      '  <failures>\n    <failure op_key="tripleo-ipsec-internal_api_start_0" node="overcloud-controller-2" exitstatus="error" exitreason="VIP 192.0.2.100 is not on this node" exitcode="1" call="12" status="complete" task="start" interval="0"/>\n  </failures>\n</pacemaker-result>');
    expect(parseCrmMon(xml).failures).toEqual([{ resource: 'tripleo-ipsec-internal_api', node: 'overcloud-controller-2', task: 'start', exitStatus: 'error', exitReason: 'VIP 192.0.2.100 is not on this node' }]);
  });

  it('refuses truncated, foreign and arbitrary input with a clear error, never anything else (fast-check, 1,000 cases)', () => {
    const full = read('initial', 'crm_mon.xml');
    expect(() => parseCrmMon(full.slice(0, full.indexOf('<nodes>')))).toThrow(EnvironmentError);
    expect(() => parseCrmMon('<html/>')).toThrow(/no <pacemaker-result>/);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.nat(full.length).map((n) => full.slice(0, n))), (text) => {
        try {
          const m = parseCrmMon(text);
          return Array.isArray(m.nodes) && Array.isArray(m.resources);
        } catch (e) {
          return e instanceof EnvironmentError;
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('buildStatus', () => {
  it('is OK when the tunnel runs with its VIP and every node is authenticated with the holder (initial e2e state)', () => {
    const r = buildStatus(plan, parseCrmMon(read('initial', 'crm_mon.xml')), plutos('initial'));
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    const v = r.vips[0];
    expect(v).toMatchObject({ vip: 'internal_api', vipResource: 'ip-192.0.2.100', agree: true });
    expect(v.peers).toEqual(ALL.filter((n) => n !== v.vipNode).map((node) => ({ node, authenticated: true })));
    for (const n of r.nodes) expect(n.ikeSas!.authenticated).toBeGreaterThan(0);
  });

  it('names the node without a tunnel with the VIP\'s holder, the VIP and the holder (fenced holder, e2e state before the node booted)', () => {
    const m = parseCrmMon(read('fenced', 'crm_mon.xml'));
    const r = buildStatus(plan, m, plutos('fenced', ALL.filter((n) => n !== 'overcloud-controller-0')));
    expect(r.ok).toBe(false);
    expect(r.problems).toContain('node overcloud-controller-0 is offline');
    expect(r.problems).toContain('overcloud-controller-0 holds no authenticated tunnel with the internal_api VIP 192.0.2.100 on its holder overcloud-controller-2');
    expect(r.vips[0]).toMatchObject({ vipNode: 'overcloud-controller-2', agree: true });
    expect(r.vips[0].peers.filter((p) => p.authenticated).map((p) => p.node).sort()).toEqual(['overcloud-controller-1', COMPUTE]);
  });

  it('without the holder\'s status it says nothing about the peers it cannot see (null, not a guess)', () => {
    const p = plutos('initial');
    const m = parseCrmMon(read('initial', 'crm_mon.xml'));
    const holder = m.resources.find((x) => x.id === 'ip-192.0.2.100')!.nodes[0];
    p.delete(holder);
    const r = buildStatus(plan, m, p);
    expect(r.vips[0].peers.every((x) => x.authenticated === null)).toBe(true);
    expect(r.problems.filter((x) => x.includes('holds no authenticated tunnel'))).toEqual([]);
  });

  it('flags a tunnel away from its VIP, a peer the holder lost, a down node-to-node tunnel and a failed action', () => {
    const m = parseCrmMon(read('initial', 'crm_mon.xml'));
    const holder = m.resources.find((r) => r.id === 'tripleo-ipsec-internal_api')!.nodes[0];
    const p = plutos('initial');
    const h = p.get(holder)!;
    h.states = h.states.filter((x) => x.conn !== `overcloud-internal_api-vip-tunnel-to-${COMPUTE}` && x.conn !== `overcloud-internal_api-to-${COMPUTE}`);
    m.failures.push({ resource: 'tripleo-ipsec-internal_api', node: holder, task: 'monitor', exitStatus: 'error', exitReason: 'conn is not loaded' });
    let r = buildStatus(plan, m, p);
    expect(r.problems).toContain(`${COMPUTE} holds no authenticated tunnel with the internal_api VIP 192.0.2.100 on its holder ${holder}`);
    expect(r.problems).toContain(`${holder}: tunnel overcloud-internal_api-to-${COMPUTE} has no established IKE SA`);
    expect(r.problems).toContain(`failed monitor of tripleo-ipsec-internal_api on ${holder}: conn is not loaded`);
    const tunnel = m.resources.find((x) => x.id === 'tripleo-ipsec-internal_api')!;
    tunnel.nodes = [CONTROLLERS.find((n) => n !== holder)!];
    r = buildStatus(plan, m, p);
    expect(r.ok).toBe(false);
    expect(r.vips[0].agree).toBe(false);
    expect(r.problems.join('\n')).toMatch(/tripleo-ipsec-internal_api runs on .* but ip-192\.0\.2\.100 on/);
  });
});
