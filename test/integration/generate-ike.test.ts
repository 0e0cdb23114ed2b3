// Generated files, loaded by real plutos in network namespaces: every
// node-to-node pair and every node-to-VIP tunnel authenticates with PSK.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/generate.js';
import { writeTreeAtomically } from '../../src/output/atomicTree.js';
import { checkEsp } from '../../src/libreswan/algparse.js';
import { parsePlutoStatus, connsWithIkeSa, type PlutoStatus } from '../../src/libreswan/status.js';
import { connNames } from '../../src/model/names.js';
import { Lab, kernelSupportsEsp } from '../helpers/netns.js';
import { alive, ipsec, plutoLog, waitFor, whack } from '../helpers/pluto.js';
import { buildOvercloudLab, startPlutos, type NodeLab } from '../helpers/overcloudLab.js';
import { scratchDir, TEST_PSK } from '../helpers/inputs.js';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

const SAMPLE = join(__dirname, '..', '..', 'examples', 'sample-overcloud');

describe('generated sample overcloud against real pluto (6 nodes, 4 networks, one IPv6)', () => {
  const scratch = scratchDir();
  const lab = new Lab('g');
  let nodes: Map<string, NodeLab>;
  let r: ReturnType<typeof generate>;
  const holder = 'overcloud-controller-0';
  const esp = kernelSupportsEsp();

  beforeAll(() => {
    const env = join(scratch.dir, 'env.yaml');
    writeFileSync(env, stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK } } }));
    const outDir = join(scratch.dir, 'out');
    r = generate({ inventoryPath: join(SAMPLE, 'inventory.yaml'), networkDataPath: join(SAMPLE, 'network_data.yaml'), envPaths: [env], sets: [], outDir, hosts: [], checkAlgorithm: checkEsp });
    writeTreeAtomically(outDir, r.files);
    nodes = buildOvercloudLab(lab, r.overcloud, outDir, holder);
    startPlutos(lab, nodes, scratch.dir);
    // What ocf:tripleo:ipsec does on the VIP holder, and its fallback role elsewhere.
    const h = nodes.get(holder)!;
    for (const v of r.overcloud.vips) {
      const res = ipsec(lab, h.pluto!, ['auto', '--ctlsocket', h.pluto!.ctl, '--config', join(h.ipsecdir, `overcloud-${v.name}-vip.conf`), '--add', connNames.vipResponder(v.name)]);
      expect(res.status, res.stdout + res.stderr).toBe(0);
    }
    whack(lab, h.pluto!, ['--listen']);
    for (const n of nodes.values()) {
      const node = r.overcloud.nodes.find((x) => x.name === n.name)!;
      if (!node.pacemaker || n.name === holder) continue;
      for (const v of r.overcloud.vips) {
        if (!node.addresses[v.network]) continue;
        const conf = join(n.ipsecdir, `overcloud-${v.name}-vip.conf`);
        const res = ipsec(lab, n.pluto!, ['auto', '--ctlsocket', n.pluto!.ctl, '--config', conf, '--asynchronous', '--start', connNames.nodeToVip(v.name)]);
        expect(res.status, res.stdout + res.stderr).toBe(0);
      }
    }
  }, 60_000);

  afterAll(() => {
    lab.cleanup();
    scratch.cleanup();
  });

  function status(n: NodeLab): PlutoStatus {
    const s = whack(lab, n.pluto!, ['--status']);
    return parsePlutoStatus(s.stdout);
  }

  it('every conn of every node reaches an established IKE SA, authenticated by PSK', async () => {
    const expected = new Map<string, string[]>();
    for (const plan of r.plans) {
      const conns = plan.files.flatMap((f) => f.conns.map((c) => c.name));
      expected.set(plan.node.name, conns.filter((c) => {
        if (c.endsWith('-node-to-vip-tunnel')) return plan.node.name !== holder;
        if (c.endsWith('-vip-tunnel')) return plan.node.name === holder;
        return true;
      }));
    }
    const missing = () => {
      const out: string[] = [];
      for (const [name, conns] of expected) {
        const have = connsWithIkeSa(status(nodes.get(name)!));
        for (const c of conns) if (!have.has(c)) out.push(`${name}: ${c}`);
      }
      return out;
    };
    await waitFor('every tunnel to authenticate', () => missing().length === 0, 60_000, 500).catch((e) => {
      throw new Error(`${(e as Error).message}\nnot established:\n${missing().join('\n')}`);
    });
    // Count what we proved: node-to-node conns and VIP tunnels.
    const total = [...expected.values()].reduce((n, c) => n + c.length, 0);
    expect(total).toBeGreaterThan(80);
    for (const n of nodes.values()) {
      const log = plutoLog(n.pluto!);
      expect(log, n.name).toMatch(/established IKE SA; authenticated peer using authby=secret/);
      expect(log, n.name).not.toMatch(/ASSERTION FAILED|authentication failed|AUTHENTICATION_FAILED/);
    }
  }, 90_000);

  it('the VIP holder authenticates every peer of each VIP network on its responder conn', () => {
    const s = status(nodes.get(holder)!);
    for (const v of r.overcloud.vips) {
      const peers = r.overcloud.nodes.filter((n) => n.name !== holder && n.addresses[v.network]).length;
      const sas = s.states.filter((x) => x.conn === connNames.vipResponder(v.name) && x.kind === 'ike' && x.established);
      expect(new Set(sas.map((x) => x.peer)).size, v.name).toBe(peers);
    }
    expect(s.ikeSas.authenticated).toBe(s.ikeSas.total);
  });

  it('IPsec SAs are installed where the kernel supports ESP (detected, not assumed)', () => {
    for (const n of nodes.values()) {
      const s = status(n);
      if (esp) expect(s.ipsecSas.total, n.name).toBeGreaterThan(0);
      else expect(s.ipsecSas.total, n.name).toBe(0);
    }
  });

  it('no pluto crashed', () => {
    for (const n of nodes.values()) expect(alive(n.pluto!.pid), n.name).toBe(true);
  });
});
