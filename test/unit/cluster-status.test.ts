// crm_mon XML and the status view, on real outputs saved from the e2e cluster.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CrmMonParseError, parseCrmMon } from '../../src/pacemaker/crmMon.js';
import { parsePlutoStatus, type PlutoStatus } from '../../src/libreswan/status.js';
import { buildStatus } from '../../src/status.js';
import { planPacemaker } from '../../src/plan/pacemaker.js';
import type { Overcloud } from '../../src/model/types.js';

const dir = (step: string) => join(__dirname, '..', 'fixtures', 'cluster', step);
const read = (step: string, f: string) => readFileSync(join(dir(step), f), 'utf8');
const CONTROLLERS = ['overcloud-controller-0', 'overcloud-controller-1', 'overcloud-controller-2'];

const overcloud = {
  nodes: CONTROLLERS.map((name, i) => ({ name, fqdn: name, role: 'Controller', pacemaker: true, addresses: { internal_api: `192.0.2.1${i}` } })),
  networks: [{ name: 'internal_api', family: 4, subnet: '192.0.2.0/24', subnetSource: 'network_data' }],
  vips: [{ name: 'internal_api', network: 'internal_api', address: '192.0.2.100' }],
  vars: {} as Overcloud['vars'],
  notes: [],
} as Overcloud;
const plan = planPacemaker(overcloud);

function plutos(step: string, nodes = CONTROLLERS): Map<string, PlutoStatus> {
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
    const fallback = m.resources.filter((r) => r.clone === 'tripleo-ipsec-internal_api-fallback-clone' && r.active).flatMap((r) => r.nodes);
    expect(fallback.sort()).toEqual(CONTROLLERS.filter((n) => n !== vip.nodes[0]));
  });

  it('reads failed actions with their exit reasons', () => {
    const xml = read('initial', 'crm_mon.xml').replace('</pacemaker-result>',
      '  <failures>\n    <failure op_key="tripleo-ipsec-internal_api_start_0" node="overcloud-controller-2" exitstatus="error" exitreason="VIP 192.0.2.100 is not on this node" exitcode="1" call="12" status="complete" task="start" interval="0"/>\n  </failures>\n</pacemaker-result>');
    expect(parseCrmMon(xml).failures).toEqual([{ resource: 'tripleo-ipsec-internal_api', node: 'overcloud-controller-2', task: 'start', exitStatus: 'error', exitReason: 'VIP 192.0.2.100 is not on this node' }]);
  });

  it('refuses truncated, foreign and arbitrary input with a clear error, never anything else (fast-check, 1,000 cases)', () => {
    const full = read('initial', 'crm_mon.xml');
    expect(() => parseCrmMon(full.slice(0, full.indexOf('<nodes>')))).toThrow(CrmMonParseError);
    expect(() => parseCrmMon('<html/>')).toThrow(/no <pacemaker-result>/);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.nat(full.length).map((n) => full.slice(0, n))), (text) => {
        try {
          const m = parseCrmMon(text);
          return Array.isArray(m.nodes) && Array.isArray(m.resources);
        } catch (e) {
          return e instanceof CrmMonParseError;
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('buildStatus', () => {
  it('is OK when the tunnel runs with its VIP and every tunnel is up (initial e2e state)', () => {
    const r = buildStatus(plan, parseCrmMon(read('initial', 'crm_mon.xml')), plutos('initial'));
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.vips[0]).toMatchObject({ vip: 'internal_api', vipResource: 'ip-192.0.2.100', agree: true });
    for (const n of r.nodes) expect(n.ikeSas!.authenticated).toBeGreaterThan(0);
  });

  it('reports the crashed node offline and everything else from the survivors (crash e2e state)', () => {
    const m = parseCrmMon(read('crash', 'crm_mon.xml'));
    const r = buildStatus(plan, m, plutos('crash', CONTROLLERS.filter((n) => m.nodes.find((x) => x.name === n)?.online)));
    expect(r.ok).toBe(false);
    expect(r.problems).toContain('node overcloud-controller-0 is offline');
    expect(r.vips[0].agree).toBe(true);
  });

  it('flags a tunnel away from its VIP, a down tunnel and a failed action', () => {
    const m = parseCrmMon(read('initial', 'crm_mon.xml'));
    const tunnel = m.resources.find((r) => r.id === 'tripleo-ipsec-internal_api')!;
    const other = CONTROLLERS.find((n) => n !== tunnel.nodes[0])!;
    tunnel.nodes = [other];
    m.failures.push({ resource: 'tripleo-ipsec-internal_api', node: other, task: 'monitor', exitStatus: 'error', exitReason: 'conn is not oriented' });
    const p = plutos('initial');
    const s = p.get(other)!;
    s.states = s.states.filter((x) => x.conn !== 'overcloud-internal_api-node-to-vip-tunnel');
    const r = buildStatus(plan, m, p);
    expect(r.ok).toBe(false);
    expect(r.vips[0].agree).toBe(false);
    expect(r.problems.join('\n')).toMatch(/tripleo-ipsec-internal_api runs on .* but ip-192\.0\.2\.100 on/);
    expect(r.problems).toContain(`${other}: tunnel overcloud-internal_api-node-to-vip-tunnel has no established IKE SA`);
    expect(r.problems).toContain(`failed monitor of tripleo-ipsec-internal_api on ${other}: conn is not oriented`);
  });
});
