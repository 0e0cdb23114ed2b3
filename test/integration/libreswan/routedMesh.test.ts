// A routed (spine-leaf) overcloud against real plutos: two leaves on two
// bridges joined by a router namespace, one network_data network with a
// subnet per leaf. The leaf1 compute must authenticate with each leaf0
// controller and with the VIP's holder, through the router.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generate, type GenerateResult } from '../../../src/generate.js';
import { writeOutputTreeSync } from '../../../src/output/outputTree.js';
import { connsWithIkeSa, parsePlutoStatus } from '../../../src/libreswan/whackStatus.js';
import { connNames } from '../../../src/model/names.js';
import { Lab } from '../../helpers/netns.js';
import { plutoLog, startPluto, waitFor, whack, type Pluto } from '../../helpers/pluto.js';
import { runAgent } from '../../helpers/agent.js';
import { scratchDir, writeInputs } from '../../helpers/inputs.js';

const LEAF0 = '192.0.2';
const LEAF1 = '198.51.100';
const HOSTS: [string, string, string][] = [
  // name, leaf prefix, role
  ['overcloud-controller-0', LEAF0, 'Controller'],
  ['overcloud-controller-1', LEAF0, 'Controller'],
  ['overcloud-novacompute-0', LEAF1, 'ComputeLeaf1'],
];
const VIP = `${LEAF0}.100`;

describe('a routed overcloud: a leaf1 compute and leaf0 controllers, one network with two subnets, real plutos through a router', () => {
  const s = scratchDir();
  const lab = new Lab('r');
  const ns = new Map<string, string>();
  const pluto = new Map<string, Pluto>();
  let r: GenerateResult;

  beforeAll(() => {
    // network_data v2 as Wallaby writes a routed network: one network, a subnet per leaf.
    const networkData = [{ name: 'InternalApi', name_lower: 'internal_api', vip: true, subnets: { internal_api_subnet: { ip_subnet: `${LEAF0}.0/24` }, internal_api_leaf1: { ip_subnet: `${LEAF1}.0/24` } } }];
    const host = (i: number, leaf: string) => ({ ctlplane_ip: `203.0.113.${10 + i}`, internal_api_ip: `${leaf}.${10 + i}` });
    const inventory = {
      Controller: { hosts: { [HOSTS[0][0]]: host(0, LEAF0), [HOSTS[1][0]]: host(1, LEAF0) }, vars: { tripleo_role_name: 'Controller', tripleo_role_networks: ['ctlplane', 'InternalApi'] } },
      ComputeLeaf1: { hosts: { [HOSTS[2][0]]: host(2, LEAF1) }, vars: { tripleo_role_name: 'ComputeLeaf1', tripleo_role_networks: ['ctlplane', 'InternalApi'] } },
      allovercloud: { children: { Controller: {}, ComputeLeaf1: {} }, vars: { internal_api_vip: VIP } },
      overcloud: { children: { allovercloud: {} } },
      pacemaker: { children: { Controller: {} } },
    };
    const opts = writeInputs(s.dir, { inventory: stringify(inventory), networkData });
    const out = opts.outDir;
    r = generate(opts);
    writeOutputTreeSync(out, r.files);

    // Two leaves, routed: br0 (leaf0) and br1 (leaf1), a router with a leg on each.
    lab.addBridge('br1');
    const router = lab.addHost('rt', 'br0');
    lab.addInterface(router, 'eth1', 'br1');
    lab.addAddress(router, `${LEAF0}.1/24`);
    lab.addAddress(router, `${LEAF1}.1/24`, 'eth1');
    lab.exec(router, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    HOSTS.forEach(([name, leaf], i) => {
      const n = lab.addHost(`h${i}`, leaf === LEAF0 ? 'br0' : 'br1');
      lab.addAddress(n, `${leaf}.${10 + i}/24`);
      lab.exec(n, 'ip', ['route', 'add', 'default', 'via', `${leaf}.1`]);
      ns.set(name, n);
    });
    lab.addAddress(ns.get(HOSTS[0][0])!, `${VIP}/24`);
    for (const [name] of HOSTS) pluto.set(name, startPluto(lab, ns.get(name)!, join(s.dir, 'pluto', name), join(out, name, 'etc', 'ipsec.d')));
    // The real agent starts the VIP's ends on the holder.
    const p = pluto.get(HOSTS[0][0])!;
    const res = runAgent(ns.get(HOSTS[0][0])!, 'start', { tunnel: connNames.vipTunnel('internal_api'), vip: VIP, confdir: join(out, HOSTS[0][0], 'etc', 'ipsec.d'), rundir: p.agentRun, ctlsocket: p.ctl });
    expect(res.code, res.stderr).toBe(0);
  }, 60_000);

  afterAll(() => {
    lab.cleanup();
    s.cleanup();
  });

  const status = (name: string) => parsePlutoStatus(whack(lab, pluto.get(name)!, ['--status']).stdout);

  it('the plan: one internal_api mesh across both leaves, the compute with a tunnel to each controller and its end of the VIP', () => {
    expect(r.overcloud.networks).toEqual([{ name: 'internal_api', family: 4, subnets: [`${LEAF0}.0/24`, `${LEAF1}.0/24`], subnetSource: 'network_data', leaves: [] }]);
    const compute = r.plans.find((p) => p.node.name === HOSTS[2][0])!;
    expect(compute.files.flatMap((f) => f.conns.map((c) => c.name)).sort()).toEqual([
      'overcloud-internal_api-to-overcloud-controller-0',
      'overcloud-internal_api-to-overcloud-controller-1',
      'overcloud-internal_api-vip-tunnel',
    ]);
    // The firewall admits IKE and ESP from both leaves.
    expect(compute.firewallSources).toEqual([{ network: 'internal_api', family: 4, sources: [`${LEAF0}.0/24`, `${LEAF1}.0/24`] }]);
  });

  it('through the router, the leaf1 compute authenticates with each leaf0 controller and with the VIP holder; no pluto asserts', async () => {
    const c = HOSTS[2][0];
    const want = ['overcloud-internal_api-to-overcloud-controller-0', 'overcloud-internal_api-to-overcloud-controller-1', 'overcloud-internal_api-vip-tunnel'];
    await waitFor('the compute to authenticate with both controllers and the VIP', () => {
      try {
        const up = connsWithIkeSa(status(c));
        return want.every((w) => up.has(w));
      } catch {
        return false;
      }
    }, 45_000);
    const sc = status(c);
    expect(sc.ikeSas.halfOpen).toBe(0);
    expect(sc.ikeSas.authenticated).toBe(sc.ikeSas.total);
    expect(connsWithIkeSa(status(HOSTS[0][0])).has(connNames.vipToPeer('internal_api', c))).toBe(true);
    // The peer really is routed: its IKE traffic reached leaf0 from the other subnet.
    expect(lab.exec(ns.get(c)!, 'ip', ['route', 'get', `${LEAF0}.10`]).stdout).toContain(`via ${LEAF1}.1`);
    for (const [name] of HOSTS) expect(plutoLog(pluto.get(name)!), name).not.toMatch(/ASSERTION FAILED|EXPECTATION FAILED/);
  }, 60_000);
});
